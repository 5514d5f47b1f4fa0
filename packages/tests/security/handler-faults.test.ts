/* eslint-disable @typescript-eslint/prefer-promise-reject-errors, @typescript-eslint/only-throw-error --
   the point of these tests is handlers that throw and reject with things that are not Errors. */
import { createClient } from '@wirecall/client';
import { CLOSE_CODES, defineContract, WirecallError } from '@wirecall/core';
import { createServer, type Logger } from '@wirecall/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { rejectionOf } from '../helpers/rejection.js';
import { RawClient } from '../helpers/raw-client.js';
import { recordingLogger, type LogEntry } from '../helpers/test-server.js';

/**
 * A handler is application code and will misbehave. Each fault here must cost one `INTERNAL`
 * answer: never the process (an unhandled rejection or exception), never the connection (a 1011
 * that fails every other call on it), never a second answer.
 */

const throwing = (): never => {
  throw new Error('hostile getter');
};
/** A thrown value whose `name` getter throws: reading it to normalise the error must not crash. */
const hostileObject = (): unknown => ({
  get name(): string {
    return throwing();
  },
});
/** A thrown value on which every operation throws. */
const hostileProxy = (): unknown =>
  new Proxy({}, { get: throwing, has: throwing, getPrototypeOf: throwing, ownKeys: throwing });
const revokedProxy = (): unknown => {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
};
const cyclicData = (): WirecallError => {
  const data: Record<string, unknown> = {};
  data.self = data;
  return new WirecallError('NOT_FOUND', 'cyclic data', { data });
};
/** Data no codec can carry: a function. */
const functionData = (): WirecallError => new WirecallError('NOT_FOUND', 'function data', { data: { fn: () => 1 } });

/** Each fault by name: what the handler does. Every one of them must be answered with INTERNAL. */
const FAULTS: Record<string, () => unknown> = {
  'rejects with an object whose name getter throws': () => Promise.reject(hostileObject()),
  'rejects with a Proxy whose traps throw': () => Promise.reject(hostileProxy()),
  'rejects with a revoked Proxy': () => Promise.reject(revokedProxy()),
  'rejects with a WirecallError whose data is cyclic': () => Promise.reject(cyclicData()),
  'rejects with a WirecallError whose data holds a function': () => Promise.reject(functionData()),
  'throws an object whose name getter throws': () => {
    throw hostileObject();
  },
  'throws a Proxy whose traps throw': () => {
    throw hostileProxy();
  },
  'throws a WirecallError whose data is cyclic': () => {
    throw cyclicData();
  },
  'throws a WirecallError whose data holds a function': () => {
    throw functionData();
  },
  'throws a lookalike WirecallError whose data getter throws': () => {
    throw {
      name: 'WirecallError',
      code: 'NOT_FOUND',
      message: 'lookalike',
      get data() {
        return throwing();
      },
    };
  },
  'returns a thenable whose then throws': () => ({
    then: () => throwing(),
  }),
  'returns an object whose then getter throws': () => ({
    get then() {
      return throwing();
    },
  }),
  'returns a Proxy whose traps throw': () => hostileProxy(),
  'returns a promise whose constructor getter throws': () =>
    Object.defineProperty(Promise.resolve(1), 'constructor', { get: throwing }),
  'returns a thenable that rejects with a hostile Proxy': () => ({
    then: (_resolve: unknown, reject: (reason: unknown) => void) => reject(hostileProxy()),
  }),
};

/**
 * Hostile WirecallErrors: read once, they are what they say, so the caller gets that error, once,
 * and nothing the server reads later can throw.
 */
const HOSTILE_ERRORS: Record<string, [fault: () => unknown, code: string, message: string]> = {
  'throws a WirecallError subclass whose cause getter throws': [
    () => {
      throw new (class extends WirecallError {
        override get cause(): unknown {
          return throwing();
        }
      })('INTERNAL', 'hostile cause');
    },
    'INTERNAL',
    'hostile cause',
  ],
  'rejects with a WirecallError Proxy whose code throws when read twice': [
    () => {
      let reads = 0;
      return Promise.reject(
        new Proxy(new WirecallError('NOT_FOUND', 'twice'), {
          get: (object, key, receiver) => {
            if (key === 'code' && ++reads > 1) throwing();
            return Reflect.get(object, key, receiver) as unknown;
          },
        }),
      );
    },
    'NOT_FOUND',
    'twice',
  ],
};

const faultApi = defineContract({
  procedures: {
    fault: { input: z.object({ kind: z.string() }), output: z.unknown() },
    /** A thenable that settles twice, in the order named by `calls`. */
    settleTwice: { input: z.object({ calls: z.array(z.enum(['resolve', 'reject'])) }), output: z.string() },
    /** Holds until released, to prove an unrelated call in flight is unharmed by a fault. */
    hold: { input: z.object({}), output: z.string() },
    echo: { input: z.object({ text: z.string() }), output: z.string() },
  },
  events: {
    guarded: { payload: z.string(), params: z.object({ kind: z.string() }) },
  },
});

let release: (() => void) | undefined;
const crashes: unknown[] = [];
const onCrash = (error: unknown): void => {
  crashes.push(error);
};

function startFaultServer(logs: LogEntry[], logger: Logger = recordingLogger(logs)) {
  return createServer(faultApi, {
    logger,
    handlers: {
      fault: ({ input }) => {
        const fault = Object.hasOwn(FAULTS, input.kind)
          ? FAULTS[input.kind]
          : Object.hasOwn(HOSTILE_ERRORS, input.kind)
            ? HOSTILE_ERRORS[input.kind]![0]
            : undefined;
        if (fault === undefined) throw new Error(`no fault ${input.kind}`);
        return fault();
      },
      settleTwice: ({ input }) =>
        ({
          then(resolve: (value: string) => void, reject: (reason: unknown) => void) {
            for (const step of input.calls) {
              if (step === 'resolve') resolve(`resolved`);
              else reject(new WirecallError('NOT_FOUND', 'rejected'));
            }
          },
        }) as unknown as Promise<string>,
      hold: () =>
        new Promise<string>((resolve) => {
          release = () => resolve('held');
        }),
      echo: ({ input }) => input.text,
    },
    canSubscribe: ({ params }) => {
      const { kind } = params as { kind: string };
      if (kind === 'throws a Proxy') throw hostileProxy();
      if (kind === 'rejects with a hostile object') return Promise.reject(hostileObject());
      if (kind === 'returns a thenable whose then throws') {
        return { then: () => throwing() } as unknown as Promise<boolean>;
      }
      return true;
    },
  });
}

beforeAll(() => {
  // Vitest would report these too; counting them makes "the process survived" an assertion.
  process.on('unhandledRejection', onCrash);
  process.on('uncaughtException', onCrash);
});
afterAll(() => {
  process.off('unhandledRejection', onCrash);
  process.off('uncaughtException', onCrash);
});

describe('handler faults', () => {
  it.each(Object.keys(FAULTS))('a handler that %s costs one INTERNAL answer, not the connection', async (kind) => {
    const logs: LogEntry[] = [];
    const server = startFaultServer(logs);
    const { url } = await server.listen({ port: 0 });
    const client = createClient(faultApi, { url });
    try {
      const held = client.call.hold({});
      const error = await rejectionOf(client.call.fault({ kind }));
      expect(error.code).toBe('INTERNAL');
      expect(error.message).toBe('Internal server error');
      // The same connection still answers, and the call that was in flight is unharmed.
      await expect(client.call.echo({ text: 'still here' })).resolves.toBe('still here');
      release?.();
      await expect(held).resolves.toBe('held');
      expect(server.stats().connections).toBe(1);
      expect(logs.some((entry) => entry.level === 'error')).toBe(true);
      // Let any stray rejection surface before judging the process.
      await new Promise((resolve) => setImmediate(resolve));
      expect(crashes).toEqual([]);
    } finally {
      await client.close();
      await server.close({ graceMs: 0 });
    }
  });

  it.each(Object.entries(HOSTILE_ERRORS))(
    'a handler that %s is answered with that error, once',
    async (kind, [, code, message]) => {
      const server = startFaultServer([]);
      const { url } = await server.listen({ port: 0 });
      await using raw = await RawClient.greeted(url, faultApi.fingerprint);
      try {
        const answer = await raw.request({ t: 'call', id: 1, p: 'fault', v: { kind } });
        expect(answer).toMatchObject({ t: 'error', e: { code, message } });
        await raw.barrier();
        expect(raw.frames.filter((frame) => frame.id === 1)).toHaveLength(1);
        await new Promise((resolve) => setImmediate(resolve));
        expect(crashes).toEqual([]);
      } finally {
        await server.close({ graceMs: 0 });
      }
    },
  );

  it.each([
    [['resolve', 'reject'], 'result'],
    [['reject', 'resolve'], 'error'],
    [['resolve', 'resolve'], 'result'],
    [['reject', 'reject'], 'error'],
  ] as const)('a thenable that calls %j is answered exactly once', async (calls, answer) => {
    const server = startFaultServer([]);
    const { url } = await server.listen({ port: 0 });
    await using raw = await RawClient.greeted(url, faultApi.fingerprint);
    try {
      const first = await raw.request({ t: 'call', id: 1, p: 'settleTwice', v: { calls } });
      expect(first.t).toBe(answer);
      await raw.barrier();
      expect(raw.frames.filter((frame) => frame.id === 1)).toHaveLength(1);
    } finally {
      await server.close({ graceMs: 0 });
    }
  });

  it('a logger that throws while logging a fault does not turn it into a crash', async () => {
    const explode = (): void => throwing();
    const server = startFaultServer([], { error: explode, warn: explode, info: explode, debug: explode });
    const { url } = await server.listen({ port: 0 });
    const client = createClient(faultApi, { url });
    try {
      const error = await rejectionOf(client.call.fault({ kind: 'throws a Proxy whose traps throw' }));
      expect(error.code).toBe('INTERNAL');
      await expect(client.call.echo({ text: 'ok' })).resolves.toBe('ok');
      expect(crashes).toEqual([]);
    } finally {
      await client.close();
      await server.close({ graceMs: 0 });
    }
  });

  it.each(['throws a Proxy', 'rejects with a hostile object', 'returns a thenable whose then throws'])(
    'a canSubscribe that %s refuses that subscription with INTERNAL and keeps the connection',
    async (kind) => {
      const server = startFaultServer([]);
      const { url } = await server.listen({ port: 0 });
      await using raw = await RawClient.greeted(url, faultApi.fingerprint);
      try {
        raw.send({ t: 'sub', id: 7, e: 'guarded', v: { kind } });
        const refused = await raw.waitFor((frame) => frame.id === 7);
        expect(refused).toMatchObject({ t: 'error', e: { code: 'INTERNAL', message: 'Internal server error' } });
        const ok = await raw.request({ t: 'call', id: 8, p: 'echo', v: { text: 'after' } });
        expect(ok).toMatchObject({ t: 'result', v: 'after' });
        expect(crashes).toEqual([]);
      } finally {
        await server.close({ graceMs: 0 });
      }
    },
  );
});

describe('context factory faults', () => {
  it('a refusal whose message is longer than a close frame holds closes with its code, cut to fit', async () => {
    const server = createServer(faultApi, {
      logger: recordingLogger([]),
      handlers: { fault: () => 1, settleTwice: () => '', hold: () => '', echo: () => '' },
      context: () => {
        throw new WirecallError('UNAUTHORIZED', `token expired ${'é'.repeat(200)}`);
      },
    });
    const { url } = await server.listen({ port: 0 });
    await using raw = await RawClient.connect(url);
    try {
      raw.hello(faultApi.fingerprint);
      const { code, reason } = await raw.waitForClose();
      expect(code).toBe(CLOSE_CODES.UNAUTHORIZED);
      expect(reason.startsWith('token expired é')).toBe(true);
      expect(Buffer.byteLength(reason)).toBeLessThanOrEqual(123);
      expect(crashes).toEqual([]);
    } finally {
      await server.close({ graceMs: 0 });
    }
  });

  it('a context factory that throws a hostile Proxy closes that connection with 1011 only', async () => {
    const server = createServer(faultApi, {
      logger: recordingLogger([]),
      handlers: { fault: () => 1, settleTwice: () => '', hold: () => '', echo: ({ input }) => input.text },
      context: () => {
        throw hostileProxy();
      },
    });
    const { url } = await server.listen({ port: 0 });
    await using raw = await RawClient.connect(url);
    try {
      raw.hello(faultApi.fingerprint);
      expect(await raw.waitForClose()).toEqual({ code: CLOSE_CODES.INTERNAL_ERROR, reason: 'internal error' });
      expect(crashes).toEqual([]);
    } finally {
      await server.close({ graceMs: 0 });
    }
  });
});
