import { setTimeout as delay } from 'node:timers/promises';
import { createServer, WirecallError, type Handlers, type ServerOptions, type WirecallServer } from '@wirecall/server';
import { testApi, type TestApi } from './fixtures.js';
import { recordingLogger, type LogEntry, type Observed, type TestServer } from './test-server.js';

export type TestContext = { connectedAt: number };

/**
 * The handlers of {@link testApi}, the same as startTestServer's, shareable with a server that runs
 * in a child process (server-main.ts) or restarts on a fixed port. Runs are counted in
 * `observed.runs` by `procedure:key`: `getUser:<id>` (as startTestServer does) and, for calls that
 * carry a tag, `sleep:<tag>` (sleep is not idempotent: the chaos tests check it never runs twice).
 * `onRun` hears every counted run as it starts (server-main.ts prints it for the parent).
 */
export function testHandlers(observed: Observed, onRun?: (key: string) => void): Handlers<TestApi, TestContext> {
  const count = (key: string): void => {
    observed.runs.set(key, (observed.runs.get(key) ?? 0) + 1);
    onRun?.(key);
  };
  return {
    add: ({ input }) => input.a + input.b,
    getUser: ({ input }) => {
      count(`getUser:${input.id}`);
      if (input.id === 'missing') throw new WirecallError('NOT_FOUND', 'no such user');
      return { id: input.id, name: `user ${input.id}`, createdAt: new Date(Date.UTC(2020, 0, 1)) };
    },
    echo: ({ input }) => input,
    sleep: async ({ input, signal }) => {
      if (input.tag !== undefined) count(`sleep:${input.tag}`);
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
  };
}

export interface TestApiServerOptions extends Partial<ServerOptions<TestApi, TestContext>> {
  /** A fixed port, to restart a server where its clients reconnect. @default 0 (any free port) */
  port?: number;
}

/**
 * Like startTestServer, but on a chosen port (so a test can close it and start another one in its
 * place) and with sleep runs counted by tag.
 */
export async function startTestApiServer(options: TestApiServerOptions = {}): Promise<TestServer> {
  const { port: wantedPort = 0, ...overrides } = options;
  const logs: LogEntry[] = [];
  const observed: Observed = { aborts: new Map(), runs: new Map() };
  const server: WirecallServer<TestApi, TestContext> = createServer(testApi, {
    logger: recordingLogger(logs),
    context: () => ({ connectedAt: Date.now() }),
    handlers: testHandlers(observed),
    ...overrides,
  });
  const { url, port } = await server.listen({ port: wantedPort, host: '127.0.0.1' });
  return {
    server,
    url,
    port,
    logs,
    observed,
    [Symbol.asyncDispose]: () => server.close({ graceMs: 0 }),
  };
}
