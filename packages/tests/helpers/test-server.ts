import { setTimeout as delay } from 'node:timers/promises';
import { createClient, type ClientOptions, type WirecallClient } from '@wirecall/client';
import { createServer, WirecallError, type Logger, type ServerOptions, type WirecallServer } from '@wirecall/server';
import { testApi, type TestApi } from './fixtures.js';

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

function count(observed: Observed, key: string): void {
  observed.runs.set(key, (observed.runs.get(key) ?? 0) + 1);
}

/** Starts a server for {@link testApi} on 127.0.0.1 and a free port; dispose it to close it. */
export async function startTestServer(
  overrides: Partial<ServerOptions<TestApi, { connectedAt: number }>> = {},
): Promise<TestServer> {
  const logs: LogEntry[] = [];
  const observed: Observed = { aborts: new Map(), runs: new Map() };
  const server = createServer(testApi, {
    logger: recordingLogger(logs),
    context: () => ({ connectedAt: Date.now() }),
    handlers: {
      add: ({ input }) => input.a + input.b,
      getUser: ({ input }) => {
        count(observed, `getUser:${input.id}`);
        if (input.id === 'missing') throw new WirecallError('NOT_FOUND', 'no such user');
        return { id: input.id, name: `user ${input.id}`, createdAt: new Date(Date.UTC(2020, 0, 1)) };
      },
      echo: ({ input }) => input,
      sleep: async ({ input, signal }) => {
        await delay(input.ms, undefined, { signal });
        return input.tag ?? 'slept';
      },
      fail: ({ input }) => {
        switch (input.kind) {
          case 'typed':
            throw new WirecallError('FORBIDDEN', 'not for you');
          case 'plain':
            throw new Error('db password is hunter2');
          case 'string':
            // eslint-disable-next-line @typescript-eslint/only-throw-error -- testing what users do
            throw 'a thrown string';
          case 'badOutput':
            return 'not a number' as unknown as number;
        }
      },
      waitForAbort: ({ input, signal }) =>
        new Promise<string>((_resolve, reject) => {
          signal.addEventListener('abort', () => {
            observed.aborts.set(input.key, signal.reason);
            reject(signal.reason as Error);
          });
        }),
      bytes: ({ input }) => input.data.map((byte) => 255 - byte),
    },
    ...overrides,
  });
  const { url, port } = await server.listen({ port: 0, host: '127.0.0.1' });
  return {
    server,
    url,
    port,
    logs,
    observed,
    [Symbol.asyncDispose]: () => server.close({ graceMs: 0 }),
  };
}

export type TestClient = WirecallClient<TestApi> & AsyncDisposable;

/** A typed client of {@link testApi}; dispose it to close it. */
export function connectClient(url: string, options: Partial<ClientOptions<TestApi>> = {}): TestClient {
  const client = createClient(testApi, { url, ...options });
  return Object.assign(client, { [Symbol.asyncDispose]: () => client.close() });
}
