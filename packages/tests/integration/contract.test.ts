import { createClient, type StateChange } from '@wirecall/client';
import { describe, expect, it, vi } from 'vitest';
import { driftedApi } from '../helpers/extra-fixtures.js';
import { testApi } from '../helpers/fixtures.js';
import { RawClient, recordingClientLogger, type ClientLogEntry } from '../helpers/raw-client.js';
import { startTestServer } from '../helpers/test-server.js';
import { testApiOptions } from '../helpers/test-handlers.js';

const STALE_FP = 'deadbeefdeadbeef';

describe('contract fingerprint', () => {
  it('welcomes a client with the same fingerprint and logs nothing', async () => {
    await using ctx = await startTestServer(testApi, { ...testApiOptions(), strictContract: true });
    await using raw = await RawClient.connect(ctx.url);

    raw.hello(testApi.fingerprint);

    expect(await raw.waitFor((frame) => frame.t === 'welcome')).toEqual({
      t: 'welcome',
      fp: testApi.fingerprint,
      hb: expect.any(Number) as number,
      mi: expect.any(Number) as number,
      mp: expect.any(Number) as number,
      ms: expect.any(Number) as number,
    });
    expect(ctx.logs.filter((entry) => entry.level === 'warn')).toEqual([]);
  });

  it('welcomes a client with another fingerprint, logs a warning, and serves it', async () => {
    await using ctx = await startTestServer(testApi, testApiOptions());
    await using raw = await RawClient.connect(ctx.url);

    raw.hello(STALE_FP);

    const welcome = await raw.waitFor((frame) => frame.t === 'welcome');
    expect(welcome.fp).toBe(testApi.fingerprint);
    const warnings = ctx.logs.filter((entry) => entry.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.details).toMatchObject({ client: STALE_FP, server: testApi.fingerprint });
    expect(await raw.request({ t: 'call', id: 1, p: 'add', v: { a: 1, b: 2 } })).toEqual({ t: 'result', id: 1, v: 3 });
  });

  it('closes a client with another fingerprint with 4409 under strictContract', async () => {
    await using ctx = await startTestServer(testApi, { ...testApiOptions(), strictContract: true });
    await using raw = await RawClient.connect(ctx.url);

    raw.hello(STALE_FP);

    const close = await raw.waitForClose();
    expect(close.code).toBe(4409);
    // The reason names the server's fingerprint, so any client can tell what it should have sent.
    expect(close.reason).toBe(`contracts differ; server fp ${ctx.server.contract.fingerprint}`);
    expect(raw.frames).toEqual([]);
  });

  it('lets a typed client built from another contract call what both share, and warns on both ends', async () => {
    await using ctx = await startTestServer(testApi, testApiOptions());
    const clientLogs: ClientLogEntry[] = [];
    const client = createClient(driftedApi, { url: ctx.url, logger: recordingClientLogger(clientLogs) });
    await using _client = { [Symbol.asyncDispose]: () => client.close() };

    expect(await client.call.add({ a: 2, b: 2 })).toBe(4);
    await expect(client.call.addedLater({ n: 1 })).rejects.toMatchObject({ code: 'NOT_FOUND' });

    expect(clientLogs).toEqual([
      {
        level: 'warn',
        message: expect.stringContaining('different contract') as string,
        details: { client: driftedApi.fingerprint, server: testApi.fingerprint },
      },
    ]);
    expect(ctx.logs.filter((entry) => entry.level === 'warn')).toHaveLength(1);
  });

  it('stops a typed client built from another contract under strictContract', async () => {
    await using ctx = await startTestServer(testApi, { ...testApiOptions(), strictContract: true });
    const client = createClient(driftedApi, { url: ctx.url, reconnect: false, logger: recordingClientLogger([]) });
    await using _client = { [Symbol.asyncDispose]: () => client.close() };
    const changes: StateChange[] = [];
    client.onStateChange((change) => changes.push(change));

    const call = client.call.add({ a: 1, b: 1 }).catch((error: unknown) => error);

    await vi.waitFor(() => expect(client.state).toBe('closed'));
    expect(changes.at(-1)).toMatchObject({ state: 'closed', closeCode: 4409 });
    expect(await call).toMatchObject({ name: 'WirecallError' });
    expect(ctx.server.stats().connections).toBe(0);
  });
});
