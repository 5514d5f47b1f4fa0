// A page of the shared-tabs suite: a client with `shareAcrossTabs: sharedTabs()`, driven by the test
// through `window.wirecall`. Vite bundles it from the packages' published dist (no source condition).
import { createClient } from '@wirecall/client';
import { sharedTabs } from '@wirecall/client/shared-tabs';
import { testApi } from '../../helpers/fixtures.js';

const url = new URLSearchParams(location.search).get('ws') ?? '';
const client = createClient(testApi, {
  url,
  shareAcrossTabs: sharedTabs(),
  reconnect: { minDelayMs: 50, maxDelayMs: 500 },
});
const ticks: number[] = [];
client.onStateChange(({ state }) => {
  document.querySelector('#state')!.textContent = state;
});

/** What the test calls in the page. */
export interface PageApi {
  state(): string;
  add(a: number, b: number): Promise<number>;
  listen(): void;
  ticks(): number[];
  shared(): boolean;
}

const api: PageApi = {
  state: () => client.state,
  add: (a, b) => client.call.add({ a, b }),
  listen: () => void client.on('tick', ({ seq }) => ticks.push(seq)),
  ticks: () => [...ticks],
  shared: () => typeof SharedWorker === 'function',
};
(window as unknown as { wirecall: PageApi }).wirecall = api;
