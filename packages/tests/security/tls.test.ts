import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import type { SocketConstructor } from '@wirecall/client';
import { createServer, silentLogger, type WirecallServer } from '@wirecall/server';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { testApi, type TestApi } from '../helpers/fixtures.js';
import { fastReconnect } from './helpers.js';
import { connectClient } from '../helpers/test-server.js';
import { recordStates } from '../helpers/chaos-kit.js';

let dir: string;
let key: Buffer;
let cert: Buffer;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wirecall-tls-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      join(dir, 'k.pem'),
      '-out',
      join(dir, 'c.pem'),
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    { stdio: 'pipe' },
  );
  key = readFileSync(join(dir, 'k.pem'));
  cert = readFileSync(join(dir, 'c.pem'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

interface WssServer extends AsyncDisposable {
  server: WirecallServer<TestApi, { encrypted: boolean; protocol: string | null }>;
  https: HttpsServer;
  port: number;
  tlsErrors: Error[];
}

/** An HTTPS server with the self-signed certificate, serving testApi through `attach`. */
async function startWss(): Promise<WssServer> {
  const https = createHttpsServer({ key, cert });
  const tlsErrors: Error[] = [];
  https.on('tlsClientError', (error) => tlsErrors.push(error));
  const server = createServer(testApi, {
    logger: silentLogger,
    context: ({ request }) => {
      const socket = request.socket as TLSSocket;
      return { encrypted: socket.encrypted === true, protocol: socket.getProtocol?.() ?? null };
    },
    handlers: {
      add: ({ input }) => input.a + input.b,
      getUser: ({ input }) => ({ id: input.id, name: 'tls', createdAt: new Date(0) }),
      echo: ({ input, ctx }) => (input === 'ctx' ? ctx : input),
      sleep: () => 'slept',
      fail: () => 0,
      waitForAbort: () => 'never',
      bytes: ({ input }) => input.data,
    },
  });
  server.attach(https);
  await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
  const { port } = https.address() as AddressInfo;
  return {
    server,
    https,
    port,
    tlsErrors,
    [Symbol.asyncDispose]: async () => {
      await server.close({ graceMs: 0 });
      https.closeAllConnections();
      await new Promise<void>((resolve) => https.close(() => resolve()));
    },
  };
}

/** A `ws` WebSocket that trusts the test certificate. */
function trustingWebSocket(ca: Buffer): SocketConstructor {
  class TrustingWebSocket extends WebSocket {
    constructor(url: string, protocols: string | string[]) {
      super(url, protocols, { ca });
    }
  }
  return TrustingWebSocket as unknown as SocketConstructor;
}

describe('wss:// through server.attach(httpsServer)', () => {
  it('serves calls over TLS to a client that trusts the certificate', async () => {
    await using wss = await startWss();
    await using client = connectClient(testApi, `wss://localhost:${wss.port}`, { WebSocket: trustingWebSocket(cert) });
    const states = recordStates(client);

    expect(await client.call.add({ a: 20, b: 22 })).toBe(42);
    expect(await client.call.getUser({ id: 'u1' })).toEqual({ id: 'u1', name: 'tls', createdAt: new Date(0) });
    // The server side of the socket really is TLS.
    expect(await client.call.echo('ctx')).toEqual({
      encrypted: true,
      protocol: expect.stringMatching(/^TLSv1\.[23]$/) as string,
    });
    expect(states.map((change) => change.state)).toEqual(['open']);
    expect(wss.server.stats().connections).toBe(1);
  });

  it('a client that does not trust the certificate never opens', async () => {
    await using wss = await startWss();
    await using client = connectClient(testApi, `wss://localhost:${wss.port}`, { reconnect: fastReconnect });
    const states = recordStates(client);
    const call = client.call.add({ a: 1, b: 1 }, { timeoutMs: 60_000 }).then(
      () => 'resolved',
      (error: unknown) => error,
    );

    await vi.waitFor(() =>
      expect(states.filter((change) => change.state === 'reconnecting').length).toBeGreaterThanOrEqual(3),
    );
    await vi.waitFor(() => expect(wss.tlsErrors.length).toBeGreaterThanOrEqual(3));

    expect(states.some((change) => change.state === 'open')).toBe(false);
    expect(states.every((change) => change.error?.code === 'CONNECTION_LOST')).toBe(true);
    expect(wss.server.stats()).toMatchObject({ connections: 0, messagesIn: 0 });
    await client.close();
    expect(await call).toMatchObject({ code: 'CLOSED' });
  });

  it('a plain ws:// client cannot talk to the TLS port', async () => {
    await using wss = await startWss();
    await using client = connectClient(testApi, `ws://localhost:${wss.port}`, { reconnect: fastReconnect });
    const states = recordStates(client);

    await vi.waitFor(() =>
      expect(states.filter((change) => change.state === 'reconnecting').length).toBeGreaterThanOrEqual(2),
    );

    expect(states.some((change) => change.state === 'open')).toBe(false);
    expect(wss.server.stats()).toMatchObject({ connections: 0, messagesIn: 0 });
  });
});
