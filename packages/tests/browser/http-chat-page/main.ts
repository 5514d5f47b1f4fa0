// A chat page of the refused-upgrade suite: the chat's contract, a client with the HTTP transport
// (`transport: 'auto'`), driven by the test through `window.wirecall`. Vite bundles it from the
// packages' published dist (no source condition).
import { createClient } from '@wirecall/client';
import { httpTransport } from '@wirecall/client/http';
import { presence } from '@wirecall/client/presence';
import { streams } from '@wirecall/client/streams';
import { api } from '../../../../examples/chat/src/contract.js';

const query = new URLSearchParams(location.search);
const name = query.get('name') ?? 'someone';
const client = createClient(api, {
  url: `ws://${location.host}/ws`,
  http: httpTransport(),
  streams,
  presence,
  reconnect: { minDelayMs: 50, maxDelayMs: 500 },
});
let transport = '';
const shown: string[] = [];
client.onStateChange((change) => {
  transport = change.transport ?? '';
  document.querySelector('#state')!.textContent = `${change.state} (${transport})`;
});
client.on('message', { room: 'a' }, (message) => {
  shown.push(`${message.author}: ${message.text}`);
  const item = document.createElement('li');
  item.textContent = `${message.author}: ${message.text} (${message.at instanceof Date ? 'Date' : typeof message.at})`;
  document.querySelector('#messages')!.append(item);
});
const room = client.presence('message', { room: 'a' });
room.join({ name, typing: false });

/** What the test calls in the page. */
export interface PageApi {
  state(): string;
  transport(): string;
  send(text: string): Promise<string>;
  shown(): string[];
  online(): string[];
  ask(question: string): Promise<string[]>;
}

const pageApi: PageApi = {
  state: () => client.state,
  transport: () => transport,
  send: async (text) => (await client.call.send({ room: 'a', author: name, text })).id,
  shown: () => [...shown],
  online: () => [...room.members.values()].map((member) => member.data.name).sort(),
  ask: async (question) => {
    const tokens: string[] = [];
    for await (const { token } of client.call.ask({ room: 'a', author: name, question })) tokens.push(token);
    return tokens;
  },
};
(window as unknown as { wirecall: PageApi }).wirecall = pageApi;
