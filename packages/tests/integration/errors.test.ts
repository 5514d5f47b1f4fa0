import { isWirecallError, WirecallError, type ErrorCode } from '@wirecall/client';
import { describe, expect, it } from 'vitest';
import { RawClient, recordingWebSocket, type WireEntry } from '../helpers/raw-client.js';
import { connectClient, startTestServer } from '../helpers/test-server.js';
import { testApiOptions } from '../helpers/test-handlers.js';
import { testApi } from '../helpers/fixtures.js';

/** Awaits a promise that must reject, and returns what it rejected with. */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject, but it resolved');
}

/** Asserts a client-side rejection is a proper WirecallError with this code, and returns it. */
function expectWirecallError(error: unknown, code: ErrorCode): WirecallError {
  expect(error).toBeInstanceOf(WirecallError);
  expect(isWirecallError(error)).toBe(true);
  const wirecallError = error as WirecallError;
  expect(wirecallError.name).toBe('WirecallError');
  expect(wirecallError.code).toBe(code);
  return wirecallError;
}

interface Issue {
  path: (string | number)[];
  message: string;
}

function issuesOf(data: unknown): Issue[] {
  const issues = (data as { issues?: unknown } | undefined)?.issues;
  expect(Array.isArray(issues)).toBe(true);
  return issues as Issue[];
}

describe('errors', () => {
  describe('bad input', () => {
    it('rejects a typed call with BAD_REQUEST and zod issues in data.issues', async () => {
      await using ctx = await startTestServer(testApi, testApiOptions());
      await using client = connectClient(testApi, ctx.url);

      const error = expectWirecallError(
        await rejectionOf(client.call.add({ a: 'x' } as unknown as { a: number; b: number })),
        'BAD_REQUEST',
      );

      expect(error.message).toContain('add');
      const issues = issuesOf(error.data);
      expect(issues.map((issue) => issue.path)).toEqual(expect.arrayContaining([['a'], ['b']]));
      for (const issue of issues) expect(typeof issue.message).toBe('string');
      expect(ctx.logs.filter((entry) => entry.level === 'error')).toEqual([]);
    });

    it('answers a raw call frame with bad input with an error frame carrying the issues', async () => {
      await using ctx = await startTestServer(testApi, testApiOptions());
      await using raw = await RawClient.greeted(ctx.url);

      const answer = await raw.request({ t: 'call', id: 1, p: 'add', v: { a: 'x' } });

      expect(answer).toMatchObject({ t: 'error', id: 1, e: { code: 'BAD_REQUEST' } });
      const issues = issuesOf(answer.e?.data);
      expect(issues.map((issue) => issue.path)).toEqual(expect.arrayContaining([['a'], ['b']]));
      expect(raw.isOpen).toBe(true);
      expect(await raw.request({ t: 'call', id: 2, p: 'add', v: { a: 1, b: 2 } })).toEqual({
        t: 'result',
        id: 2,
        v: 3,
      });
    });

    it('refuses a Uint8Array sent as superjson typed-array (a JSON array of numbers)', async () => {
      await using ctx = await startTestServer(testApi, testApiOptions());
      await using raw = await RawClient.greeted(ctx.url);

      const annotated = await raw.request({
        t: 'call',
        id: 1,
        p: 'bytes',
        v: { data: [1, 2, 3] },
        m: { values: { data: [['typed-array', 'Uint8Array']] }, v: 1 },
      });
      const plain = await raw.request({ t: 'call', id: 2, p: 'bytes', v: { data: [1, 2, 3] } });

      expect(annotated).toMatchObject({ t: 'error', id: 1, e: { code: 'BAD_REQUEST' } });
      expect(plain).toMatchObject({ t: 'error', id: 2, e: { code: 'BAD_REQUEST' } });
      expect(raw.isOpen).toBe(true);
    });

    it('refuses a subscription with bad params with BAD_REQUEST and issues, through onError', async () => {
      await using ctx = await startTestServer(testApi, testApiOptions());
      await using client = connectClient(testApi, ctx.url);
      const errors: WirecallError[] = [];
      const received: unknown[] = [];

      client.on('chatMessage', { room: 42 } as unknown as { room: string }, (payload) => received.push(payload), {
        onError: (error) => errors.push(error),
      });

      await expect.poll(() => errors.length).toBe(1);
      const error = expectWirecallError(errors[0], 'BAD_REQUEST');
      expect(issuesOf(error.data).map((issue) => issue.path)).toEqual([['room']]);
      expect(received).toEqual([]);
      // A refused subscription is forgotten, not retried on every reconnect.
      expect(client.pending.listeners).toBe(0);
    });
  });

  describe('unknown names', () => {
    it.each(['nope', 'toString', '__proto__', 'constructor', 'hasOwnProperty', 'valueOf'])(
      'answers a call of procedure %j with NOT_FOUND and keeps the socket',
      async (name) => {
        await using ctx = await startTestServer(testApi, testApiOptions());
        await using raw = await RawClient.greeted(ctx.url);

        const answer = await raw.request({ t: 'call', id: 1, p: name, v: {} });

        expect(answer).toMatchObject({ t: 'error', id: 1, e: { code: 'NOT_FOUND' } });
        expect(raw.isOpen).toBe(true);
        expect(await raw.request({ t: 'call', id: 2, p: 'add', v: { a: 2, b: 2 } })).toMatchObject({ v: 4 });
      },
    );

    it.each(['nope', 'toString', '__proto__', 'constructor'])(
      'answers a subscription to event %j with NOT_FOUND',
      async (name) => {
        await using ctx = await startTestServer(testApi, testApiOptions());
        await using raw = await RawClient.greeted(ctx.url);

        const from = raw.frames.length;
        raw.send({ t: 'sub', id: 9, e: name });
        const answer = await raw.waitFor((frame) => frame.id === 9, { from });

        expect(answer).toMatchObject({ t: 'error', id: 9, e: { code: 'NOT_FOUND' } });
        expect(raw.isOpen).toBe(true);
      },
    );

    it.each(['nope', 'toString', '__proto__', 'constructor'])(
      'throws NOT_FOUND from client.on for event %j',
      async (name) => {
        await using ctx = await startTestServer(testApi, testApiOptions());
        await using client = connectClient(testApi, ctx.url);

        let thrown: unknown;
        try {
          (client.on as unknown as (event: string, handler: () => void) => () => void)(name, () => {});
        } catch (error) {
          thrown = error;
        }

        expectWirecallError(thrown, 'NOT_FOUND');
        expect(client.pending.listeners).toBe(0);
      },
    );
  });

  describe('handler failures', () => {
    it('passes a typed WirecallError from a handler to the caller with its code and message', async () => {
      await using ctx = await startTestServer(testApi, testApiOptions());
      await using client = connectClient(testApi, ctx.url);

      const error = expectWirecallError(await rejectionOf(client.call.fail({ kind: 'typed' })), 'FORBIDDEN');

      expect(error.message).toBe('not for you');
      const notFound = expectWirecallError(await rejectionOf(client.call.getUser({ id: 'missing' })), 'NOT_FOUND');
      expect(notFound.message).toBe('no such user');
      // Expected errors are the caller's business, not the operator's.
      expect(ctx.logs.filter((entry) => entry.level === 'error')).toEqual([]);
    });

    it.each([
      { kind: 'plain', secret: 'hunter2' },
      { kind: 'string', secret: 'a thrown string' },
    ] as const)(
      'turns a $kind throw into INTERNAL without sending what was thrown, and logs it on the server',
      async ({ kind, secret }) => {
        await using ctx = await startTestServer(testApi, testApiOptions());
        const wire: WireEntry[] = [];
        await using client = connectClient(testApi, ctx.url, { WebSocket: recordingWebSocket(wire) });
        await using raw = await RawClient.greeted(ctx.url);

        const error = expectWirecallError(await rejectionOf(client.call.fail({ kind })), 'INTERNAL');
        const rawAnswer = await raw.request({ t: 'call', id: 1, p: 'fail', v: { kind } });

        expect(error.message).toBe('Internal server error');
        expect(error.data).toBeUndefined();
        expect(error.cause).toBeUndefined();
        expect(JSON.stringify({ ...error, message: error.message, stack: error.stack })).not.toContain(secret);
        expect(rawAnswer).toEqual({ t: 'error', id: 1, e: { code: 'INTERNAL', message: 'Internal server error' } });
        const received = [...wire.filter((entry) => entry.dir === 'in').map((entry) => entry.text), ...raw.texts];
        expect(received.length).toBeGreaterThan(2);
        for (const text of received) expect(text).not.toContain(secret);
        // The operator gets the details: one error entry per failed call, naming the procedure.
        const logged = ctx.logs.filter((entry) => entry.level === 'error');
        expect(logged).toHaveLength(2);
        for (const entry of logged) {
          expect(entry.details).toMatchObject({ procedure: 'fail' });
          const err = (entry.details as { err?: unknown }).err;
          expect(err instanceof Error ? err.message : err).toContain(secret);
        }
      },
    );

    it('turns an output that breaks the contract into INTERNAL and logs the mismatch', async () => {
      await using ctx = await startTestServer(testApi, testApiOptions());
      await using client = connectClient(testApi, ctx.url);

      const error = expectWirecallError(await rejectionOf(client.call.fail({ kind: 'badOutput' })), 'INTERNAL');

      expect(error.message).toBe('Internal server error');
      expect(error.data).toBeUndefined();
      const logged = ctx.logs.filter((entry) => entry.level === 'error');
      expect(logged).toHaveLength(1);
      expect(logged[0]!.details).toMatchObject({ procedure: 'fail' });
      const err = (logged[0]!.details as { err?: unknown }).err;
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toContain('does not match the contract');
    });

    it('keeps the connection usable after every kind of failure', async () => {
      await using ctx = await startTestServer(testApi, testApiOptions());
      await using client = connectClient(testApi, ctx.url);

      const outcomes = await Promise.allSettled([
        client.call.fail({ kind: 'typed' }),
        client.call.fail({ kind: 'plain' }),
        client.call.fail({ kind: 'string' }),
        client.call.fail({ kind: 'badOutput' }),
        client.call.add({ a: 'x' } as unknown as { a: number; b: number }),
      ]);

      expect(outcomes.map((outcome) => outcome.status)).toEqual(Array(5).fill('rejected'));
      expect(
        outcomes.map((outcome) => (outcome.status === 'rejected' ? (outcome.reason as WirecallError).code : null)),
      ).toEqual(['FORBIDDEN', 'INTERNAL', 'INTERNAL', 'INTERNAL', 'BAD_REQUEST']);
      expect(client.state).toBe('open');
      expect(await client.call.add({ a: 20, b: 22 })).toBe(42);
    });
  });
});
