import { createClient, type ClientOptions, type WirecallClient } from '@wirecall/client';
import type { Logger, ServerOptions, WirecallServer } from '@wirecall/server';
import { testApi, type TestApi } from './fixtures.js';
// A cycle of function imports only (each used at call time), so ESM resolves it.
import { startTestApiServer } from './test-handlers.js';

/** Everything the server logged, so tests can assert what stays on the server. */
export interface LogEntry {
  level: 'error' | 'warn' | 'info' | 'debug';
  details: object;
  message: string | undefined;
}

export function recordingLogger(entries: LogEntry[]): Logger {
  const record =
    (level: LogEntry['level']) =>
    (details: object, message?: string): void => {
      entries.push({ level, details, message });
    };
  return { error: record('error'), warn: record('warn'), info: record('info'), debug: record('debug') };
}

/** What the shared handlers observed, for assertions about the server side. */
export interface Observed {
  /** Abort reasons seen by `waitForAbort` handlers, by key. */
  aborts: Map<string, unknown>;
  /** How many times each procedure ran, by procedure:key. */
  runs: Map<string, number>;
}

export interface TestServer extends AsyncDisposable {
  server: WirecallServer<TestApi, { connectedAt: number }>;
  url: string;
  port: number;
  logs: LogEntry[];
  observed: Observed;
}

/** Starts a server for {@link testApi} on 127.0.0.1 and a free port; dispose it to close it. */
export function startTestServer(
  overrides: Partial<ServerOptions<TestApi, { connectedAt: number }>> = {},
): Promise<TestServer> {
  return startTestApiServer(overrides);
}

export type TestClient = WirecallClient<TestApi> & AsyncDisposable;

/** A typed client of {@link testApi}; dispose it to close it. */
export function connectClient(url: string, options: Partial<ClientOptions<TestApi>> = {}): TestClient {
  const client = createClient(testApi, { url, ...options });
  return Object.assign(client, { [Symbol.asyncDispose]: () => client.close() });
}
