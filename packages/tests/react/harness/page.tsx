/**
 * The harness page of the Chromium suite (hooks.e2e.test.ts), bundled by esbuild with React's
 * development build (StrictMode's double effects happen there only). One wirecall client for the
 * page, on the server named by `?ws=`; the test mounts scenarios through `window.harness` and reads
 * what they report. A server-rendered page (`window.__SSR__`) is hydrated instead.
 */
import { HydrationBoundary, QueryClient, QueryClientProvider, type DehydratedState } from '@tanstack/react-query';
import { createClient, type WirecallClient } from '@wirecall/client';
import { presence } from '@wirecall/client/presence';
import { streams } from '@wirecall/client/streams';
import { StrictMode, type ComponentType, type ReactNode } from 'react';
import { createRoot, hydrateRoot, type Root } from 'react-dom/client';
import { flushSync } from 'react-dom';
import { auctionApi, type AuctionApi } from '../helpers/auction-api.js';
import { SCENARIOS, WirecallProvider, type Reporter, type ScenarioName } from './scenarios.js';

export interface Harness {
  client: WirecallClient<AuctionApi>;
  queryClient: QueryClient;
  /** Everything the scenarios reported, by name: the latest value and every value in order. */
  latest: Record<string, unknown>;
  history: Record<string, unknown[]>;
  actions: Record<string, (...args: unknown[]) => void>;
  mount(name: ScenarioName, props: Record<string, unknown>, options?: { strict?: boolean }): void;
  update(props: Record<string, unknown>): void;
  unmount(): void;
}

declare global {
  interface Window {
    harness: Harness;
    __SSR__?: { id: string; state: DehydratedState };
  }
}

const params = new URLSearchParams(location.search);
const client = createClient(auctionApi, {
  url: params.get('ws')!,
  streams,
  presence,
  reconnect: { minDelayMs: 50, maxDelayMs: 300 },
  logger: { warn: () => {}, error: () => {} },
});
const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });

const reporter: Reporter = {
  report(name, value) {
    harness.latest[name] = value;
    (harness.history[name] ??= []).push(value);
  },
  action(name, run) {
    harness.actions[name] = run as (...args: unknown[]) => void;
  },
};

function tree(body: ReactNode, strict: boolean): ReactNode {
  const providers = (
    <QueryClientProvider client={queryClient}>
      <WirecallProvider client={client}>{body}</WirecallProvider>
    </QueryClientProvider>
  );
  return strict ? <StrictMode>{providers}</StrictMode> : providers;
}

let root: Root | undefined;
let mounted: { name: ScenarioName; props: Record<string, unknown>; strict: boolean } | undefined;

function render(): void {
  const { name, props, strict } = mounted!;
  const Scenario = SCENARIOS[name] as unknown as ComponentType<Record<string, unknown>>;
  // Committed (effects included) before the test's next step: a test's `update` then `act` must not
  // reach the page in the other order.
  flushSync(() => root!.render(tree(<Scenario {...props} reporter={reporter} />, strict)));
}

const harness: Harness = {
  client,
  queryClient,
  latest: {},
  history: {},
  actions: {},
  mount(name, props, options = {}) {
    root?.unmount();
    harness.latest = {};
    harness.history = {};
    root = createRoot(document.getElementById('root')!);
    mounted = { name, props, strict: options.strict ?? true };
    render();
  },
  update(props) {
    mounted = { ...mounted!, props: { ...mounted!.props, ...props } };
    render();
  },
  unmount() {
    root?.unmount();
    root = undefined;
  },
};
window.harness = harness;

const ssr = window.__SSR__;
if (ssr !== undefined) {
  const { Card } = SCENARIOS;
  root = hydrateRoot(
    document.getElementById('root')!,
    tree(
      <HydrationBoundary state={ssr.state}>
        <Card id={ssr.id} reporter={reporter} />
      </HydrationBoundary>,
      true,
    ),
  );
}
