import { setTimeout as delay } from 'node:timers/promises';
import { WirecallError, type Handlers } from '@wirecall/server';
import { type TestApi } from './fixtures.js';
import { type TestServer } from './test-server.js';

export type TestContext = { connectedAt: number };

/** What the shared handlers observed, for assertions about the server side. */
export interface Observed {
  /** Abort reasons seen by `waitForAbort` handlers, by key. */
  aborts: Map<string, unknown>;
  /** How many times each procedure ran, by procedure:key. */
  runs: Map<string, number>;
}

export function newObserved(): Observed {
  return { aborts: new Map(), runs: new Map() };
}

/**
 * The handlers of `testApi`, shared by the in-process servers ({@link testApiOptions}) and the
 * one that runs in a child process (server-main.ts). Runs are counted in `observed.runs` by
 * `procedure:key`: `getUser:<id>` and, for calls that carry a tag, `sleep:<tag>` (sleep is not
 * idempotent: the chaos tests check it never runs twice). Abort reasons of `waitForAbort` go to
 * `observed.aborts`. `onRun` hears every counted run as it starts (server-main.ts prints it for the parent).
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

/**
 * What every server of `testApi` runs: the shared handlers ({@link testHandlers}, counting
 * into `observed`), and a context stamped with the connection time. Start one with
 * `startTestServer(testApi, testApiOptions())`, or `{ ...testApiOptions(observed), ...yours }`.
 */
export function testApiOptions(
  observed: Observed = newObserved(),
  onRun?: (key: string) => void,
): { context: () => TestContext; handlers: Handlers<TestApi, TestContext> } {
  return { context: () => ({ connectedAt: Date.now() }), handlers: testHandlers(observed, onRun) };
}

/** A server of `testApi` started with {@link testApiOptions}. */
export type TestApiServer = TestServer<TestApi, TestContext>;
