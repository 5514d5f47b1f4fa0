import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  CLOSE_CODES,
  checkSchema,
  encodeValue,
  PROTOCOL,
  streamKey,
  toWirecallError,
  WirecallError,
  type AnyContract,
  type EventDef,
  type EventName,
  type inferParams,
  type inferPayloadInput,
} from '@wirecall/core';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Broker } from './broker/broker.js';
import { memoryBroker } from './broker/memory-broker.js';
import { Connection } from './connection/connection.js';
import type { ConnectionHost, ProcedureEntry } from './connection/connection-host.js';
import { StreamRegistry } from './connection/stream-registry.js';
import { offeredProtocols, pathnameOf, rejectUpgrade } from './http-reject.js';
import { consoleLogger, type Logger } from './logger.js';
import {
  SERVER_DEFAULTS,
  type AttachOptions,
  type CloseOptions,
  type ListenOptions,
  type ServerOptions,
} from './options.js';
import type { AnyHandler } from './router/handlers.js';
import { IdempotencyCache } from './router/idempotency-cache.js';

/** Options of `emit`: the params that pick the stream, for events that declare params. */
export type EmitArgs<TContract extends AnyContract, TName extends EventName<TContract>> =
  inferParams<TContract, TName> extends undefined ? [] : [options: { params: inferParams<TContract, TName> }];

/** Where a listening server can be reached. */
export interface ListeningAddress {
  port: number;
  host: string;
  /** `ws://host:port/path`, ready for createClient. */
  url: string;
}

/** Counters for dashboards and health checks. */
export interface ServerStats {
  connections: number;
  inFlightCalls: number;
  /** (stream, connection) pairs: one per stream a connection listens to. */
  subscriptions: number;
}

type UpgradeListener = (request: IncomingMessage, socket: Duplex, head: Buffer) => void;

const STATUS_BY_CODE: Partial<Record<string, number>> = { UNAUTHORIZED: 401, FORBIDDEN: 403 };

/**
 * A wirecall server: serves one contract's procedures and events over WebSocket. Create it with
 * {@link createServer}, then `listen()` on a port or `attach()` to an existing HTTP(S) server.
 */
export class WirecallServer<TContract extends AnyContract, TContext = undefined> implements ConnectionHost {
  readonly contract: TContract;
  readonly procedures: ReadonlyMap<string, ProcedureEntry>;
  readonly events: ReadonlyMap<string, EventDef>;
  readonly broker: Broker;
  readonly streams = new StreamRegistry();
  readonly logger: Logger;
  readonly idempotency: IdempotencyCache;
  readonly strictContract: boolean;
  readonly heartbeatIntervalMs: number;
  #closing = false;
  readonly #ownsBroker: boolean;
  readonly #contextFactory: ServerOptions<TContract, TContext>['context'];
  readonly #wss: WebSocketServer;
  readonly #connections = new Set<Connection>();
  readonly #attached: { server: HttpServer | HttpsServer; listener: UpgradeListener; owned: boolean }[] = [];
  readonly #stopBroker: () => void;
  readonly #heartbeat: ReturnType<typeof setInterval> | undefined;

  constructor(contract: TContract, options: ServerOptions<TContract, TContext>) {
    this.contract = contract;
    this.logger = options.logger ?? consoleLogger;
    this.strictContract = options.strictContract ?? false;
    this.idempotency = new IdempotencyCache(options.idempotency);
    this.#contextFactory = options.context;
    this.procedures = buildProcedures(contract, options.handlers as Record<string, AnyHandler>);
    this.events = new Map(Object.entries(contract.events as Record<string, EventDef>));
    this.#ownsBroker = options.broker === undefined;
    this.broker = options.broker ?? memoryBroker({ history: options.history ?? {} });
    this.#stopBroker = this.broker.listen((event) => this.streams.dispatch(event));
    this.#wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: options.maxPayloadBytes ?? SERVER_DEFAULTS.maxPayloadBytes,
      handleProtocols: (protocols) => (protocols.has(PROTOCOL) ? PROTOCOL : false),
    });
    const heartbeat = options.heartbeat === false ? undefined : { ...SERVER_DEFAULTS.heartbeat, ...options.heartbeat };
    this.heartbeatIntervalMs = heartbeat?.intervalMs ?? SERVER_DEFAULTS.heartbeat.intervalMs;
    if (heartbeat) {
      this.#heartbeat = setInterval(() => {
        const now = Date.now();
        for (const connection of this.#connections) connection.heartbeat(now, heartbeat.timeoutMs);
      }, heartbeat.intervalMs);
      this.#heartbeat.unref();
    }
  }

  get closing(): boolean {
    return this.#closing;
  }

  /** Starts an HTTP server of its own and serves WebSocket upgrades on it. */
  async listen(options: ListenOptions = {}): Promise<ListeningAddress> {
    const host = options.host ?? '127.0.0.1';
    const server = createHttpServer((_request, response) => {
      response.writeHead(426, { 'Content-Type': 'text/plain', Upgrade: 'websocket' });
      response.end(`This endpoint speaks WebSocket (${PROTOCOL}).\n`);
    });
    this.#attach(server, options.path, true);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    const urlHost = host.includes(':') ? `[${host}]` : host;
    return { port, host, url: `ws://${urlHost}:${port}${options.path ?? ''}` };
  }

  /** Serves WebSocket upgrades on an existing HTTP or HTTPS server (for `wss://`). */
  attach(server: HttpServer | HttpsServer, options: AttachOptions = {}): this {
    this.#attach(server, options.path, false);
    return this;
  }

  /**
   * Publishes an event to every subscriber of its stream (for events with params, of those params).
   * The payload is validated against the contract first; a bad payload throws `BAD_REQUEST`.
   * Resolves with the event's id once the broker has accepted it.
   */
  emit<TName extends EventName<TContract>>(
    name: TName,
    payload: inferPayloadInput<TContract, TName>,
    ...args: EmitArgs<TContract, TName>
  ): Promise<string> {
    const def = this.events.get(name);
    if (def === undefined) throw new WirecallError('NOT_FOUND', `Unknown event ${name}`);
    const checked = checkSchema(def.payload, payload);
    if (!checked.ok) {
      throw new WirecallError('BAD_REQUEST', `Payload of ${name} does not match the contract`, {
        data: { issues: checked.issues },
      });
    }
    let paramsJson: unknown;
    if (def.params !== undefined) {
      const params = checkSchema(def.params, (args[0] as { params?: unknown } | undefined)?.params);
      if (!params.ok) {
        throw new WirecallError('BAD_REQUEST', `Params of ${name} do not match the contract`, {
          data: { issues: params.issues },
        });
      }
      paramsJson = encodeValue(params.value).v;
    }
    return this.broker.publish(streamKey(name, paramsJson), encodeValue(checked.value));
  }

  stats(): ServerStats {
    let inFlightCalls = 0;
    for (const connection of this.#connections) inFlightCalls += connection.inFlight;
    return { connections: this.#connections.size, inFlightCalls, subscriptions: this.streams.size };
  }

  /**
   * Shuts down: stops accepting connections and calls, lets in-flight calls finish for up to
   * `graceMs`, then closes every connection with 1001 so clients reconnect (elsewhere).
   */
  async close(options: CloseOptions = {}): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    clearInterval(this.#heartbeat);
    const owned = this.#attached.filter((entry) => entry.owned).map((entry) => entry.server);
    for (const server of owned) server.close();
    const graceMs = options.graceMs ?? 5_000;
    const deadline = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
    await Promise.all(
      [...this.#connections].map(async (connection) => {
        await Promise.race([connection.drained(), deadline]);
        connection.close(CLOSE_CODES.GOING_AWAY, 'server shutting down');
      }),
    );
    for (const { server, listener } of this.#attached) server.off('upgrade', listener);
    this.#stopBroker();
    if (this.#ownsBroker) await this.broker.close();
    await new Promise<void>((resolve) => {
      this.#wss.close(() => resolve());
    });
    for (const server of owned) server.closeAllConnections();
  }

  connectionClosed(connection: object): void {
    this.#connections.delete(connection as Connection);
  }

  #attach(server: HttpServer | HttpsServer, path: string | undefined, owned: boolean): void {
    const listener: UpgradeListener = (request, socket, head) => {
      // Upgrades for other paths belong to other listeners (a dev server's HMR, another API).
      if (path !== undefined && pathnameOf(request.url) !== path) return;
      void this.#upgrade(request, socket, head);
    };
    server.on('upgrade', listener);
    this.#attached.push({ server, listener, owned });
  }

  async #upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', (error) => this.logger.debug({ err: error }, 'socket error during upgrade'));
    if (this.#closing) return rejectUpgrade(socket, 503, 'server is shutting down');
    if (!offeredProtocols(request.headers['sec-websocket-protocol']).includes(PROTOCOL)) {
      return rejectUpgrade(socket, 400, `expected WebSocket subprotocol ${PROTOCOL}`);
    }
    let ctx: unknown;
    try {
      ctx = await this.#contextFactory?.({ request });
    } catch (thrown) {
      const error = toWirecallError(thrown);
      if (error.code === 'INTERNAL') this.logger.error({ err: error.cause }, 'context factory failed');
      return rejectUpgrade(socket, STATUS_BY_CODE[error.code] ?? 500, error.message);
    }
    if (socket.destroyed || this.#closing) return rejectUpgrade(socket, 503, 'server is shutting down');
    this.#wss.handleUpgrade(request, socket, head, (ws: WebSocket) => {
      this.#connections.add(new Connection(ws, ctx, this));
    });
  }
}

function buildProcedures(contract: AnyContract, handlers: Record<string, AnyHandler>): Map<string, ProcedureEntry> {
  const entries = new Map<string, ProcedureEntry>();
  for (const [name, def] of Object.entries(contract.procedures as Record<string, ProcedureEntry['def']>)) {
    const handler = Object.hasOwn(handlers, name) ? handlers[name] : undefined;
    if (typeof handler !== 'function') throw new TypeError(`wirecall: no handler for procedure ${name}`);
    entries.set(name, { name, def, handler });
  }
  return entries;
}

/**
 * Creates a wirecall server for a contract, with an in-memory broker unless one is given.
 *
 * @example
 * const server = createServer(api, { handlers: { add: ({ input }) => input.a + input.b } });
 * const { url } = await server.listen({ port: 0 });
 */
export function createServer<TContract extends AnyContract, TContext = undefined>(
  contract: TContract,
  options: ServerOptions<TContract, TContext>,
): WirecallServer<TContract, TContext> {
  return new WirecallServer(contract, options);
}
