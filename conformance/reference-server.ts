/**
 * The reference server of the conformance suite: the conformance contract (contract.ts) served by
 * `@wirecall/server`, once per profile, each on its own path of one HTTP server:
 *
 * | path       | what differs from the defaults                                                         |
 * | ---------- | -------------------------------------------------------------------------------------- |
 * | `/default` | nothing                                                                                |
 * | `/strict`  | `strictContract: true` (a wrong fingerprint closes with 4409)                          |
 * | `/small`   | 1 KiB frames, 2 calls / 2 subscriptions / 1 stream at once, 300 ms handshake, 3 events of history |
 * | `/rate`    | a rate limit of 0.5 frames a second with bursts of 3                                   |
 *
 * Any other path is refused with HTTP 404; a plain GET answers a JSON description of the server.
 * server.ts starts it from the command line; the vitest runner starts it in process.
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import {
  createServer,
  silentLogger,
  WirecallError,
  type LimitOptions,
  type Logger,
  type WirecallServer,
} from '@wirecall/server';
import { PROTOCOL } from '@wirecall/core';
import { conformanceApi, type ConformanceApi } from './contract.js';
import { describeValue, valueCase } from './values.js';

/** What the connection params give each connection. */
export interface ConformanceContext {
  user: string | undefined;
}

/** The server options each profile changes. */
interface Profile {
  strictContract?: boolean;
  limits?: LimitOptions;
  history?: { maxEvents: number };
}

/** The profiles, by name; a vector's `server` names one (served at `/<name>`). */
export const PROFILES: Readonly<Record<string, Profile>> = {
  default: {},
  strict: { strictContract: true },
  small: {
    limits: {
      maxPayloadBytes: 1_024,
      maxInFlightCalls: 2,
      maxSubscriptions: 2,
      maxStreams: 1,
      handshakeTimeoutMs: 300,
    },
    history: { maxEvents: 3 },
  },
  rate: { limits: { rateLimit: { messagesPerSecond: 0.5, burst: 3 } } },
};

export interface ReferenceServerOptions {
  /** @default 0 (any free port) */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** Where every profile's server logs. @default silentLogger */
  logger?: Logger;
}

export interface ReferenceServer extends AsyncDisposable {
  /** `ws://<host>:<port>`; a profile is served at `<url>/<profile>`. */
  url: string;
  port: number;
  /** The wirecall server of each profile, by name. */
  servers: ReadonlyMap<string, WirecallServer<ConformanceApi, ConformanceContext>>;
  close(): Promise<void>;
}

type Server = WirecallServer<ConformanceApi, ConformanceContext>;

/** The code of an abort reason (a WirecallError's), or a short description. */
function reasonCode(reason: unknown): string {
  const code = (reason as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : String(reason);
}

/** A declared error of the contract: its code is not a built-in one, so the types need a nudge. */
function declared(code: string, message: string, data: unknown): WirecallError {
  return new WirecallError(code as never, message, { data } as never);
}

function profileServer(profile: Profile, logger: Logger): Server {
  /** Abort reasons `hold` saw, by key (read back with `abortReason`). */
  const aborts = new Map<string, string>();
  /** Runs of `once`, by key. */
  const runs = new Map<string, number>();
  // The handlers publish through the server they belong to (it exists by the time they run).
  const emit = (event: string, payload: unknown, params: unknown): Promise<string> =>
    (server.emit as (name: string, payload: unknown, target?: object) => Promise<string>)(
      event,
      payload,
      params === undefined ? undefined : { params },
    );
  const server: Server = createServer(conformanceApi, {
    logger,
    ...(profile.strictContract === undefined ? {} : { strictContract: profile.strictContract }),
    ...(profile.limits === undefined ? {} : { limits: profile.limits }),
    ...(profile.history === undefined ? {} : { history: profile.history }),
    context: async ({ connectionParams }): Promise<ConformanceContext> => {
      switch (connectionParams?.token) {
        case 'deny':
          throw new WirecallError('UNAUTHORIZED', 'token refused');
        case 'forbid':
          throw new WirecallError('FORBIDDEN', 'not allowed here');
        case 'crash':
          throw new Error('the context factory crashed');
        case 'slow':
          // Frames sent behind the hello wait for the welcome (and more than 256 of them close with 1008).
          await delay(200);
          break;
        default:
          break;
      }
      return { user: connectionParams?.user };
    },
    identify: (ctx) => ctx.user,
    canSubscribe: ({ params }) => {
      const room = (params as { room?: unknown } | undefined)?.room;
      return !(typeof room === 'string' && room.startsWith('secret'));
    },
    canJoin: ({ data }) => (data as { name: string }).name !== 'banned',
    handlers: {
      add: ({ input }) => input.a + input.b,
      echo: ({ input }) => input,
      inspect: ({ input }) => describeValue(input),
      sample: ({ input }) => {
        const found = valueCase(input.name);
        if (found === undefined) throw new WirecallError('NOT_FOUND', `no value case ${input.name}`);
        return found.value;
      },
      sleep: async ({ input, signal }) => {
        await delay(input.ms, undefined, { signal });
        return input.tag ?? 'slept';
      },
      hold: ({ input, signal }) =>
        new Promise<string>((_resolve, reject) => {
          signal.addEventListener('abort', () => {
            aborts.set(input.key, reasonCode(signal.reason));
            reject(signal.reason as Error);
          });
        }),
      abortReason: ({ input }) => aborts.get(input.key) ?? null,
      fail: ({ input }) => {
        switch (input.kind) {
          case 'forbidden':
            throw new WirecallError('FORBIDDEN', 'not for you');
          case 'notFound':
            throw new WirecallError('NOT_FOUND', 'no such thing', { data: { at: new Date(0), n: 5n } });
          case 'declared':
            throw declared('OUT_OF_STOCK', 'sold out', { left: 0, until: new Date(0) });
          case 'undeclared':
            throw declared('SOLD_ELSEWHERE', 'gone', {});
          case 'badData':
            throw declared('OUT_OF_STOCK', 'sold out', { left: 'none' });
          case 'plain':
            throw new Error('db password is hunter2');
          case 'badOutput':
            return 'not a number' as unknown as number;
        }
      },
      count: async function* ({ input }) {
        for (let i = 1; i <= input.n; i++) {
          if (input.failAt === i) throw new WirecallError('FORBIDDEN', `stopped at ${i}`);
          await Promise.resolve();
          yield { i };
        }
        return { total: input.n };
      },
      sum: async ({ inputStream }) => {
        let total = 0;
        for await (const item of inputStream) total += item;
        return total;
      },
      once: ({ input }) => {
        const count = (runs.get(input.key) ?? 0) + 1;
        runs.set(input.key, count);
        return count;
      },
      whoami: ({ ctx }) => ctx.user ?? null,
      control: {
        emit: ({ input }) => emit(input.event, input.payload, input.params),
      },
    },
    messages: {
      typing: ({ payload }) => emit('chat', { text: 'typing' }, { room: payload.room }),
    },
  });
  return server;
}

function refuse(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/** Starts every profile on one HTTP server. Close it (or dispose it) when done. */
export async function startReferenceServer(options: ReferenceServerOptions = {}): Promise<ReferenceServer> {
  const logger = options.logger ?? silentLogger;
  const host = options.host ?? '127.0.0.1';
  const http: HttpServer = createHttpServer((_request, response) => {
    response.writeHead(200, { 'Content-Type': 'application/json' });
    response.end(
      `${JSON.stringify({
        protocol: PROTOCOL,
        fingerprint: conformanceApi.fingerprint,
        profiles: Object.keys(PROFILES).map((name) => `/${name}`),
      })}\n`,
    );
  });
  const servers = new Map<string, Server>();
  for (const [name, profile] of Object.entries(PROFILES)) {
    servers.set(name, profileServer(profile, logger).attach(http, { path: `/${name}` }));
  }
  const paths = new Set([...servers.keys()].map((name) => `/${name}`));
  http.on('upgrade', (request, socket) => {
    const url = request.url ?? '/';
    const path = url.includes('?') ? url.slice(0, url.indexOf('?')) : url;
    if (!paths.has(path)) refuse(socket, 404, 'Not Found');
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 0, host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const { port } = http.address() as AddressInfo;
  const close = async (): Promise<void> => {
    await Promise.all([...servers.values()].map((server) => server.close({ graceMs: 0 })));
    await new Promise<void>((resolve) => http.close(() => resolve()));
    http.closeAllConnections();
  };
  return {
    url: `ws://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    servers,
    close,
    [Symbol.asyncDispose]: close,
  };
}
