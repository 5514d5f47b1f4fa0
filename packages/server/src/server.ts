import {
  createServer as createHttpServer,
  type IncomingMessage,
  type RequestListener,
  type Server as HttpServer,
} from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  procedureEntries,
  valueAt,
  checkSchema,
  CLOSE_CODES,
  PROTOCOL,
  streamKey,
  isWirecallError,
  toWire,
  toWirecallError,
  WirecallError,
  type AnyContract,
  type EventDef,
  type EventName,
  type inferParams,
  type inferPayloadInput,
  type inferPresence,
  type PresenceEventName,
  type WireValue,
  decodeValue,
  encodeValue,
} from '@wirecall/core/internal';
import { randomBytes } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Broker } from './broker/broker.js';
import { memoryBroker } from './broker/memory-broker.js';
import { Connection } from './connection/connection.js';
import { ConnectionSlots, type ConnectionSlot } from './connection/connection-slots.js';
import type { ConnectionHost, ContextRequest, ProcedureEntry } from './connection/connection-host.js';
import type { ConnectionInfo } from './connection/connection-info.js';
import { StreamRegistry } from './connection/stream-registry.js';
import { safeHook } from './hooks.js';
import { offeredProtocols, pathnameOf, rejectUpgrade } from './http-reject.js';
import { consoleLogger, guardLogger, type Logger } from './logger.js';
import {
  resolveLimits,
  SERVER_DEFAULTS,
  type AttachOptions,
  type CloseOptions,
  type DefaultContext,
  type ListenOptions,
  type ResolvedLimits,
  type ServerHooks,
  type ServerOptions,
  MAX_LISTED_MEMBERS,
} from './options.js';
import { createCaller, type Caller } from './caller.js';
import { DeadlineQueue } from './utils/deadline-queue.js';
import { withMiddleware, type AnyHandler, type Middleware } from './router/handlers.js';
import { IdempotencyCache } from './router/idempotency-cache.js';
import { buildMessages, type MessageEntry, type MessagesField } from './router/messages.js';
import { TrafficCounters, type ServerStats } from './stats.js';
import { PresenceHub } from './presence/presence-hub.js';
import { UserDirectory, type UserConnection } from './presence/user-directory.js';
import { keyFor, personalKey } from './connection/stream-access.js';
import { HttpTransport } from './http/http-transport.js';
import type { AcceptArgs } from './http/http-host.js';
import type { VirtualSocket } from './http/sse-socket.js';

/** Connections by id (`ConnectionInfo.id`, from any node), or users by id, as an emit's target. */
export type Targets = string | readonly string[];

/** Where an event goes: a personal event (`to: 'user'`) to users or connections, any other to all or to connections. */
type EmitTarget<
  TContract extends AnyContract,
  TName extends EventName<TContract>,
> = TContract['events'][TName] extends {
  to: 'user';
}
  ? { user: Targets; connection?: never } | { connection: Targets; user?: never }
  : {
      /** To these connections alone, wherever they are: not recorded in history (no resume). */
      connection?: Targets;
    };

/**
 * Options of `emit`: the params that pick the stream (for events that declare params), and the
 * target (required for personal events).
 */
export type EmitArgs<TContract extends AnyContract, TName extends EventName<TContract>> =
  inferParams<TContract, TName> extends undefined
    ? TContract['events'][TName] extends { to: 'user' }
      ? [options: EmitTarget<TContract, TName>]
      : [options?: EmitTarget<TContract, TName>]
    : [options: { params: inferParams<TContract, TName> } & EmitTarget<TContract, TName>];

/** What `server.presence()` takes: params for events that declare them, and a page. */
export type PresenceQueryArgs<TContract extends AnyContract, TName extends EventName<TContract>> =
  inferParams<TContract, TName> extends undefined
    ? [options?: PresenceQuery]
    : [options: PresenceQuery & { params: inferParams<TContract, TName> }];

export interface PresenceQuery {
  /** Members per page. @default 100 (at most 1_000) */
  limit?: number;
  /** From the previous page's `cursor`. */
  cursor?: string;
}

/** A page of a stream's presence, as the server reads it. */
export interface PresenceSnapshot<TData> {
  /** Members in the stream now (all of them, not only this page's). */
  count: number;
  members: { key: string; connections: number; data: TData }[];
  /** Pass it back for the next page; absent on the last one. */
  cursor?: string;
}

/** Where a listening server can be reached. */
export interface ListeningAddress {
  port: number;
  host: string;
  /** `ws://host:port/path`, ready for createClient. */
  url: string;
}

/** Unsent automatic pongs a peer may cause before ws terminates its socket (see the constructor). */
const MAX_PENDING_AUTO_PONGS = 60;

/** ws 8.18 has the option; @types/ws does not list it yet. */
type ServerOptionsWithPongLimit = ConstructorParameters<typeof WebSocketServer>[0] & { maxPendingAutoPongs: number };

type UpgradeListener = (request: IncomingMessage, socket: Duplex, head: Buffer) => void;

const STATUS_BY_CODE: Partial<Record<string, number>> = { UNAUTHORIZED: 401, FORBIDDEN: 403, RATE_LIMITED: 429 };

/**
 * A wirecall server: serves one contract's procedures and events over WebSocket. Create it with
 * {@link createServer}, then `listen()` on a port or `attach()` to an existing HTTP(S) server.
 */
export class WirecallServer<
  TContract extends AnyContract,
  TContext = DefaultContext<TContract, undefined>,
  TAuth = undefined,
> {
  // Not `implements ConnectionHost`: the host's members are internal (stripped from the published
  // types, see tsup.config.ts); passing `this` to each Connection checks the fit.
  readonly contract: TContract;
  /** @internal */
  readonly procedures: ReadonlyMap<string, ProcedureEntry>;
  /** @internal */
  readonly messages: ReadonlyMap<string, MessageEntry>;
  /** @internal */
  readonly events: ReadonlyMap<string, EventDef>;
  /** @internal */
  readonly broker: Broker;
  /** @internal */
  readonly streams: StreamRegistry;
  readonly logger: Logger;
  /** @internal */
  readonly hooks: ServerHooks;
  /** @internal */
  readonly limits: ResolvedLimits;
  /** @internal */
  readonly counters = new TrafficCounters();
  /** @internal */
  readonly deadlines = new DeadlineQueue();
  /** @internal */
  readonly idempotency: IdempotencyCache;
  /** @internal */
  readonly strictContract: boolean;
  /** @internal */
  readonly heartbeatIntervalMs: number;
  /** @internal */
  readonly canSubscribe: ConnectionHost['canSubscribe'];
  /** @internal */
  readonly canJoin: ConnectionHost['canJoin'];
  /** This node's id: the first part of every connection id it hands out. */
  readonly nodeId = randomBytes(6).toString('base64url');
  /** @internal */
  readonly presence: PresenceHub | undefined;
  /** @internal */
  readonly presenceOptions: { maxMembers: number };
  readonly #directory: UserDirectory;
  #closing = false;
  readonly #options: ServerOptions<TContract, TContext, TAuth>;
  readonly #ownsBroker: boolean;
  readonly #wss: WebSocketServer;
  readonly #connections = new Set<Connection>();
  readonly #slots: ConnectionSlots;
  readonly #attached: {
    server: HttpServer | HttpsServer;
    listener: UpgradeListener;
    owned: boolean;
    /** On an app's server: its own `request` listeners, which wirecall's wraps (see #attach). */
    requests?: { wrapper: RequestListener; wrapped: RequestListener[] };
  }[] = [];
  /** Calls and SSE sessions over plain HTTP, on the same paths; undefined with `http: false`. */
  readonly #http: HttpTransport | undefined;
  readonly #stopBroker: () => void;
  readonly #stopBrokerStatus: (() => void) | undefined;
  readonly #stopBrokerGap: (() => void) | undefined;
  readonly #heartbeat: ReturnType<typeof setInterval> | undefined;

  constructor(contract: TContract, options: ServerOptions<TContract, TContext, TAuth>) {
    this.contract = contract;
    this.#options = options;
    this.logger = guardLogger(options.logger ?? consoleLogger);
    this.hooks = options.hooks ?? {};
    this.limits = resolveLimits(options.limits);
    this.#slots = new ConnectionSlots({ ...SERVER_DEFAULTS.maxConnections, ...options.maxConnections });
    this.strictContract = options.strictContract ?? false;
    this.idempotency = new IdempotencyCache(options.idempotency);
    this.canSubscribe = options.canSubscribe as ConnectionHost['canSubscribe'];
    this.canJoin = options.canJoin as ConnectionHost['canJoin'];
    this.procedures = buildProcedures(contract, options.handlers, (options.middleware ?? []) as Middleware<unknown>[]);
    this.messages = buildMessages(contract, options.messages);
    this.events = new Map(Object.entries(contract.events as Record<string, EventDef>));
    if (options.broker !== undefined && options.history !== undefined) {
      throw new TypeError(
        'wirecall: `history` configures the default broker; give it to your broker instead (redisBroker({ history }))',
      );
    }
    this.#ownsBroker = options.broker === undefined;
    this.broker = options.broker ?? memoryBroker({ history: options.history ?? {} });
    this.streams = new StreamRegistry(this.broker);
    this.#stopBroker = this.broker.listen((event) => {
      try {
        this.streams.dispatch(event);
      } catch (error) {
        this.logger.error({ err: error, stream: event.key }, 'delivering an event failed');
      }
    });
    this.#stopBrokerGap = this.broker.onGap?.((key, resumeFrom) => {
      this.logger.warn({ stream: key }, 'events of a stream were lost from history; its subscribers get a gap');
      this.streams.gap(key, resumeFrom);
    });
    let brokerConnected = true;
    this.#stopBrokerStatus = this.broker.onStatus?.(({ connected, error }) => {
      if (error) this.logger.warn({ err: error }, 'broker error');
      if (connected === brokerConnected) return;
      brokerConnected = connected;
      if (connected) this.logger.info({}, 'broker connected: events flow again');
      else this.logger.warn({}, 'broker disconnected: calls keep working, emits fail until it is back');
    });
    this.#wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      // Compression is off: inflating a peer's frames is a memory bomb waiting to be tuned.
      perMessageDeflate: false,
      maxPayload: this.limits.maxPayloadBytes,
      handleProtocols: (protocols) => (protocols.has(PROTOCOL) ? PROTOCOL : false),
      // ws answers every ping frame with a pong by itself, and those pongs sit outside
      // `maxBufferedBytes`: a peer that pings without reading would grow them without end. Past
      // this many unsent pongs ws terminates the socket (the peer sees 1006). ws's default, made ours.
      maxPendingAutoPongs: MAX_PENDING_AUTO_PONGS,
    } as ServerOptionsWithPongLimit);
    const heartbeat = options.heartbeat === false ? undefined : { ...SERVER_DEFAULTS.heartbeat, ...options.heartbeat };
    // 0 announces "no heartbeat" in `welcome.hb`.
    this.heartbeatIntervalMs = heartbeat?.intervalMs ?? 0;
    const presence = { ...SERVER_DEFAULTS.presence, ...options.presence };
    this.presenceOptions = { maxMembers: Math.min(MAX_LISTED_MEMBERS, Math.max(1, presence.maxMembers)) };
    // A node that dies takes its members with it after two heartbeat intervals (of the default
    // interval when heartbeats are off: the lease still needs a clock).
    this.presence =
      this.broker.presence &&
      new PresenceHub(this.broker.presence, this.logger, {
        leaseMs: 2 * (this.heartbeatIntervalMs || SERVER_DEFAULTS.heartbeat.intervalMs),
        graceMs: presence.graceMs,
      });
    this.#directory = new UserDirectory(this.nodeId, this.events, {
      signals: this.broker.signals,
      hub: this.presence,
      logger: this.logger,
    });
    this.#http = options.http === false ? undefined : new HttpTransport(this, options.http ?? {});
    if (heartbeat) {
      // One timer for every connection, not one per socket.
      this.#heartbeat = setInterval(() => {
        const now = Date.now();
        for (const connection of this.#connections) connection.heartbeat(now, heartbeat.timeoutMs);
      }, heartbeat.intervalMs);
      this.#heartbeat.unref();
    }
  }

  /** @internal */
  get closing(): boolean {
    return this.#closing;
  }

  /** Starts an HTTP server of its own and serves WebSocket upgrades on it. */
  async listen(options: ListenOptions = {}): Promise<ListeningAddress> {
    const host = options.host ?? '127.0.0.1';
    const server = createHttpServer((request, response) => {
      if (this.#http?.handle(request, response, options.path) === true) return;
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

  /** Serves WebSocket upgrades on an existing HTTP or HTTPS server (`wss://` with HTTPS). */
  attach(server: HttpServer | HttpsServer, options: AttachOptions = {}): this {
    this.#attach(server, options.path, false);
    return this;
  }

  /**
   * Publishes an event to every subscriber of its stream (for events with params, of those params).
   * The payload is validated against the contract first; a bad payload throws `BAD_REQUEST`.
   * Resolves with the event's id once the broker has accepted it.
   *
   * Targets: `user` (personal events) publishes to each user's own stream, with history and
   * resume, and resolves with the last id. `connection` sends to those connections alone, on any
   * node, if they subscribe to the stream: no history, no id (resolves with '').
   */
  async emit<TName extends keyof TContract['events'] & string>(
    name: TName,
    payload: inferPayloadInput<TContract, TName>,
    ...args: EmitArgs<TContract, TName>
  ): Promise<string> {
    const def = this.events.get(name);
    if (def === undefined) throw new WirecallError('NOT_FOUND', `Unknown event ${name}`);
    const checked = toWire(def.payload, payload);
    if (!checked.ok) {
      throw new WirecallError('BAD_REQUEST', `Payload of ${name} does not match the contract`, {
        data: { issues: checked.issues },
      });
    }
    const target = (args[0] ?? {}) as { params?: unknown; user?: Targets; connection?: Targets };
    const paramsJson = this.#paramsJson(name, def, target.params);
    const value = encodeValue(checked.value);
    try {
      if (target.connection !== undefined) {
        await this.#directory.push(listOf(target.connection), { event: name, params: paramsJson, value });
        return '';
      }
      const base = streamKey(name, paramsJson);
      if (def.to !== 'user') return await this.broker.publish(base, value);
      if (target.user === undefined)
        throw new WirecallError('BAD_REQUEST', `Event ${name} is personal: emit it to a user or a connection`);
      let id = '';
      for (const user of listOf(target.user)) id = await this.broker.publish(personalKey(base, { user }), value);
      return id;
    } catch (error) {
      // The event was not accepted by the broker (Redis down): the emitter must know, by code.
      throw isWirecallError(error)
        ? error
        : new WirecallError('UNAVAILABLE', `Event ${name} was not published: the broker is unavailable`, {
            cause: error,
          });
    }
  }

  /**
   * Who is in an event stream's presence: the member count and a page of members, read from the
   * broker (every node's members). Throws `BAD_REQUEST` for an event without `presence`.
   */
  async presenceOf<TName extends PresenceEventName<TContract>>(
    name: TName,
    ...args: PresenceQueryArgs<TContract, TName>
  ): Promise<PresenceSnapshot<inferPresence<TContract, TName>>> {
    const def = this.events.get(name);
    if (def?.presence === undefined || this.presence === undefined) {
      throw new WirecallError('BAD_REQUEST', `Event ${name} declares no presence (or the broker keeps none)`);
    }
    const query = (args[0] ?? {}) as PresenceQuery & { params?: unknown };
    const key = keyFor({ event: name, def, params: this.#paramsJson(name, def, query.params) }, undefined);
    const limit = Math.min(MAX_LISTED_MEMBERS, Math.max(1, query.limit ?? this.presenceOptions.maxMembers));
    const page = await this.presence.list(key, limit, query.cursor);
    const schema = def.presence;
    const members: PresenceSnapshot<inferPresence<TContract, TName>>['members'] = [];
    for (const member of page.members) {
      const parsed = checkSchema(schema, decodeValue(JSON.parse(member.data) as WireValue));
      if (parsed.ok) members.push({ key: member.key, connections: member.connections, data: parsed.value as never });
    }
    return page.cursor === undefined
      ? { count: page.count, members }
      : { count: page.count, members, cursor: page.cursor };
  }

  /** A user's connections on every node (with a broker that keeps presence; else this node's). */
  connectionsOf(user: string): Promise<UserConnection[]> {
    return this.#directory.connectionsOf(user);
  }

  /**
   * Closes every connection of a user, on every node (a revoked session). With the default 4401
   * the client treats it as an authentication refusal: it reconnects with fresh connection params
   * and gives up after `maxRefusals`.
   */
  disconnectUser(user: string, options: { code?: number; reason?: string } = {}): Promise<void> {
    return this.#directory.disconnect(
      user,
      options.code ?? CLOSE_CODES.UNAUTHORIZED,
      options.reason ?? 'session ended',
    );
  }

  /** The wire form of an emit's params, read as a subscriber's are, so equal params name one stream. */
  #paramsJson(name: string, def: EventDef, params: unknown): unknown {
    if (def.params === undefined) return undefined;
    const checked = toWire(def.params, params);
    if (!checked.ok) {
      throw new WirecallError('BAD_REQUEST', `Params of ${name} do not match the contract`, {
        data: { issues: checked.issues },
      });
    }
    return encodeValue(checked.parsed).v;
  }

  /** @internal */
  identify(ctx: unknown): string | undefined {
    const user = (this.#options.identify as ((ctx: unknown) => unknown) | undefined)?.(ctx);
    if (user === undefined) return undefined;
    // A member key and part of a stream key: a short string, like any token on the wire.
    if (typeof user !== 'string' || user.length === 0 || user.length > 256) {
      throw new TypeError('identify must return a non-empty string of at most 256 characters, or undefined');
    }
    return user;
  }

  /** @internal */
  connectionReady(connection: ConnectionInfo): void {
    this.#directory.added(connection as Connection);
  }

  stats(): ServerStats {
    let inFlightCalls = 0;
    let subscriptions = 0;
    for (const connection of this.#connections) {
      inFlightCalls += connection.inFlight;
      subscriptions += connection.subscriptionCount;
    }
    const { messagesIn, messagesOut, bytesIn, bytesOut, errors } = this.counters;
    return {
      connections: this.#connections.size,
      inFlightCalls,
      subscriptions,
      messagesIn,
      messagesOut,
      bytesIn,
      bytesOut,
      errors: { ...errors },
      broker: {
        connected: this.broker.connected ?? true,
        received: { events: this.broker.received?.events ?? 0, bytes: this.broker.received?.bytes ?? 0 },
      },
    };
  }

  /** `close()`, so that `await using server = createServer(...)` closes it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * Calls this server's procedures in process, with `ctx` as the connection's context: for
   * server-side rendering, scripts and tests. Inputs and outputs are checked and parsed as over a
   * socket, middleware runs, and failures reject with the same `WirecallError`s.
   *
   * @example
   * const caller = server.createCaller({ user: ada });
   * const profile = await caller.users.get({ id: 'u1' });
   */
  createCaller(ctx: TContext): Caller<TContract> {
    return createCaller(this, ctx) as Caller<TContract>;
  }

  /**
   * Shuts down: stops accepting connections and calls, lets in-flight calls finish for up to
   * `graceMs`, then closes every connection with 1001 so clients reconnect (elsewhere). The HTTP
   * server `listen()` made is closed; one given to `attach()` is left running (it is the app's, and
   * may serve more than WebSockets): wirecall only stops answering its upgrades. A broker given in
   * the options is left open too (close it after the server); the default one is closed.
   */
  async close(options: CloseOptions = {}): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    clearInterval(this.#heartbeat);
    const owned = this.#attached.filter((entry) => entry.owned).map((entry) => entry.server);
    for (const server of owned) server.close();
    const graceMs = options.graceMs ?? SERVER_DEFAULTS.closeGraceMs;
    const deadline = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
    await Promise.all([
      ...[...this.#connections].map(async (connection) => {
        await Promise.race([connection.drained(), deadline]);
        connection.close(CLOSE_CODES.GOING_AWAY, 'server shutting down');
      }),
      Promise.race([this.#http?.drained(), deadline]),
    ]);
    for (const { server, listener, requests } of this.#attached) {
      server.off('upgrade', listener);
      if (requests !== undefined) {
        // The app's own listeners answer every request again, as before attach().
        server.off('request', requests.wrapper);
        for (const wrapped of requests.wrapped) server.on('request', wrapped);
      }
    }
    this.#stopBroker();
    this.presence?.close();
    this.#directory.close();
    this.#stopBrokerStatus?.();
    this.#stopBrokerGap?.();
    if (this.#ownsBroker) await this.broker.close();
    await new Promise<void>((resolve) => {
      this.#wss.close(() => resolve());
    });
    for (const server of owned) server.closeAllConnections();
  }

  /** @internal */
  createContext({ request, auth, connectionParams }: ContextRequest): unknown {
    const factory = this.#options.context;
    if (factory === undefined) return { auth, connectionParams };
    return factory({ request, auth: auth as TAuth, connectionParams: connectionParams as never });
  }

  /** @internal */
  connectionClosed(connection: ConnectionInfo, close: { code: number; reason: string }): void {
    this.#connections.delete(connection as Connection);
    this.#directory.removed(connection as Connection);
    (connection as Connection).slot.release();
    safeHook(this, 'onDisconnect', () => this.hooks.onDisconnect?.(connection, close));
  }

  #attach(server: HttpServer | HttpsServer, path: string | undefined, owned: boolean): void {
    const listener: UpgradeListener = (request, socket, head) => {
      // Upgrades for other paths belong to other listeners (a dev server's HMR, another API).
      if (path !== undefined && pathnameOf(request.url) !== path) return;
      this.#upgrade(request, socket, head).catch((error: unknown) => {
        // Nothing in an upgrade may crash the process (a throwing allowedOrigins predicate, say).
        this.logger.error({ err: error }, 'upgrade failed');
        rejectUpgrade(socket, 500, 'internal error');
      });
    };
    server.on('upgrade', listener);
    const http = this.#http;
    if (http === undefined || owned) {
      this.#attached.push({ server, listener, owned });
      return;
    }
    // As engine.io's attach(): the app's `request` listeners move behind one of ours, which
    // answers wirecall's HTTP routes under `path` and hands every other request to them, in order.
    const wrapped = server.listeners('request') as RequestListener[];
    server.removeAllListeners('request');
    const wrapper: RequestListener = (request, response) => {
      if (http.handle(request, response, path)) return;
      for (const original of wrapped) original.call(server, request, response);
    };
    server.on('request', wrapper);
    this.#attached.push({ server, listener, owned, requests: { wrapper, wrapped } });
  }

  /** @internal Whether the app restricted origins (the HTTP transport sends CORS headers to those). */
  get restrictsOrigins(): boolean {
    return this.#options.allowedOrigins !== undefined;
  }

  /** @internal The upgrade's origin check, for the HTTP transport's requests. */
  originAllowed(origin: string | undefined): boolean {
    return this.#originAllowed(origin);
  }

  /** @internal A place under `maxConnections` for an SSE session. */
  reserveSlot(address: string): ConnectionSlot | undefined {
    return this.#slots.reserve(address);
  }

  /** @internal The app's `authenticate` on an HTTP request, as on an upgrade. */
  authenticate(request: IncomingMessage): unknown {
    return this.#options.authenticate?.({ request });
  }

  /** @internal An SSE session's virtual socket becomes a connection, as an upgraded WebSocket does. */
  accept(socket: VirtualSocket, init: AcceptArgs): void {
    // The virtual socket offers what a Connection uses of a `ws` WebSocket (see http/sse-socket.ts).
    this.#connections.add(new Connection(socket as unknown as WebSocket, init, this));
  }

  /** Everything decided before a WebSocket exists, each refusal an HTTP status. */
  async #upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const onError = (error: Error): void => this.logger.debug({ err: error }, 'socket error during upgrade');
    socket.on('error', onError);
    if (this.#closing) return rejectUpgrade(socket, 503, 'server is shutting down');
    if (!offeredProtocols(request.headers['sec-websocket-protocol']).includes(PROTOCOL)) {
      return rejectUpgrade(socket, 400, `expected WebSocket subprotocol ${PROTOCOL}`);
    }
    if (!this.#originAllowed(request.headers.origin)) return rejectUpgrade(socket, 403, 'origin not allowed');
    const slot = this.#slots.reserve(request.socket.remoteAddress ?? '');
    if (slot === undefined) return rejectUpgrade(socket, 503, 'too many connections');
    // Whichever way the upgrade ends without a connection (refused here, or by ws for a malformed
    // handshake, which destroys the socket without calling back), the place is given back.
    const onClose = (): void => slot.release();
    socket.once('close', onClose);
    let auth: unknown;
    try {
      auth = await this.#options.authenticate?.({ request });
    } catch (thrown) {
      const error = toWirecallError(thrown);
      if (error.code === 'INTERNAL') this.logger.error({ err: error.cause }, 'authenticate failed');
      this.counters.countError(error.code);
      return rejectUpgrade(
        socket,
        STATUS_BY_CODE[error.code] ?? 500,
        error.code === 'INTERNAL' ? 'internal error' : error.message,
      );
    }
    if (socket.destroyed) return;
    if (this.#closing) return rejectUpgrade(socket, 503, 'server is shutting down');
    this.#wss.handleUpgrade(request, socket, head, (ws: WebSocket) => {
      // The connection owns the slot and the socket's listeners now; these two would otherwise keep
      // this upgrade's whole scope (the request, its head buffer) alive as long as the socket.
      socket.off('close', onClose);
      socket.off('error', onError);
      this.#connections.add(new Connection(ws, { request, auth, slot }, this));
    });
  }

  #originAllowed(origin: string | undefined): boolean {
    const allowed = this.#options.allowedOrigins;
    if (allowed === undefined || origin === undefined) return true;
    if (typeof allowed !== 'function') return allowed.includes(origin);
    try {
      return allowed(origin);
    } catch (error) {
      // A predicate that cannot judge an origin (new URL('null') throws) refuses it.
      this.logger.warn({ err: error, origin }, 'allowedOrigins threw; refusing the origin');
      return false;
    }
  }
}

function listOf(targets: Targets): readonly string[] {
  return typeof targets === 'string' ? [targets] : targets;
}

function buildProcedures(
  contract: AnyContract,
  handlers: object,
  middleware: readonly Middleware<unknown>[],
): Map<string, ProcedureEntry> {
  const entries = new Map<string, ProcedureEntry>();
  for (const { name, path, def } of procedureEntries(contract)) {
    const handler = valueAt(handlers, path);
    if (typeof handler !== 'function') throw new TypeError(`wirecall: no handler for procedure ${name}`);
    entries.set(name, { name, def, handler: withMiddleware(handler as AnyHandler, middleware) });
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
export function createServer<
  TContract extends AnyContract,
  TAuth = undefined,
  TContext = DefaultContext<TContract, TAuth>,
>(
  contract: TContract,
  options: ServerOptions<TContract, TContext, TAuth> & MessagesField<TContract, TContext>,
): WirecallServer<TContract, TContext, TAuth> {
  return new WirecallServer(contract, options);
}
