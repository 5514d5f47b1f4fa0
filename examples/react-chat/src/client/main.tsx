/**
 * The React chat's entry point: one wirecall client and one TanStack QueryClient for the page's
 * lifetime, made outside any component, then the providers and the app.
 *
 * URL parameters: `room` (a, b or c), `name`, and the reconnect backoff (`minDelayMs`, `maxDelayMs`,
 * `factor`, `jitter`, `maxAttempts`; the library's defaults when absent), as in examples/chat.
 */
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { createClient, type ReconnectOptions } from '@wirecall/client';
import { presence } from '@wirecall/client/presence';
import { streams } from '@wirecall/client/streams';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import '../../../chat/src/client/style.css';
import { api, Room } from '../contract.js';
import { App } from './app.js';
import { WirecallProvider } from './wirecall.js';

const params = new URLSearchParams(location.search);

/** Backoff settings from the URL (tests use short ones); absent or invalid ones keep the defaults. */
function reconnectFromUrl(): ReconnectOptions {
  const options: ReconnectOptions = {};
  for (const key of ['minDelayMs', 'maxDelayMs', 'factor', 'jitter', 'maxAttempts'] as const) {
    const raw = params.get(key);
    const value = raw === null || raw === '' ? Number.NaN : Number(raw);
    if (Number.isFinite(value) && value >= 0) options[key] = value;
  }
  return options;
}

const client = createClient(api, {
  url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`,
  reconnect: reconnectFromUrl(),
  streams, // the bot's answers are a streaming procedure
  presence, // who has the room open
});

// Retries are the socket's business (queued calls wait for the reconnect); a typed refusal such as
// BAD_REQUEST is final, so queries do not retry it three times.
const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });

const name =
  params.get('name') ??
  localStorage.getItem('wirecall-chat-name') ??
  `guest-${Math.floor(Math.random() * 9_000 + 1_000)}`;

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <WirecallProvider client={client}>
        <App initialRoom={Room.safeParse(params.get('room')).data ?? 'a'} initialName={name} />
      </WirecallProvider>
    </QueryClientProvider>
  </StrictMode>,
);
