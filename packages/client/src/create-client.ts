import WebSocketImpl from 'isomorphic-ws';
import {
  encodeFrame,
  freezeDeep,
  messageEntries,
  placeAt,
  procedureEntries,
  fromErrorShape,
  toWire,
  WirecallError,
  type AnyContract,
  type EventDef,
  type EventName,
  type ProcedureDef,
  type ServerEnvelope,
  type WelcomeEnvelope,
  type inferConnectionParams,
  type inferInputStreamItem,
  type inferMessageInput,
  type inferStreamItem,
  type isStreamProcedure,
  type ProcedureName,
  type inferInput,
  type inferOutput,
  type inferParams,
  type inferPayload,
  type inferPresence,
  type inferPresenceInput,
  type PresenceEventName,
  type SchemaLike,
  decodeValue,
  encodeValue,
} from '@wirecall/core/internal';
import {
  ConnectionManager,
  type ClientState,
  type SocketConstructor,
  type StateChange,
  type TransportPolicy,
} from './connection/connection-manager.js';
import { watchPageLifecycle } from './connection/page-lifecycle.js';
import {
  CLIENT_DEFAULTS,
  type CallOptions,
  type ClientHeartbeatOptions,
  type FallbackOptions,
  type HttpSupport,
  type TransportMode,
  type ReconnectOptions,
  type UrlOption,
} from './options.js';
import type { CallStream } from './streams/call-stream.js';
import type { StreamSupport } from './stream-hooks.js';
import type { PresenceOptions, PresenceRouter, PresenceSupport } from './presence-hooks.js';
import type { BinaryFrames } from './binary-hooks.js';
import type { Presence } from './presence/presence-room.js';
import type { MessageRouter, MessageSupport } from './message-hooks.js';
import { RequestManager } from './request-manager.js';
import { sharedSocketClass, type ShareAcrossTabs } from './shared-tabs/shared-socket.js';
import { SubscriptionManager, type EventMeta, type SubscribeOptions } from './subscription-manager.js';

/**
 * Where the client reports what the app did not handle. Details first, message second, as pino and
 * the server's `Logger` take them, so one logger object serves both ends.
 */
export interface ClientLogger {
  warn(details: object, message?: string): void;
  error(details: object, message?: string): void;
}

/** The params themselves, or a function re-run on every connect (a refreshed token). */
export type ConnectionParamsOption<TContract extends AnyContract> =
  | inferConnectionParams<TContract>
  | (() => inferConnectionParams<TContract> | Promise<inferConnectionParams<TContract>>);

/**
 * `connectionParams` is required when the contract's schema requires a value, and optional when
 * it accepts `undefined` (or the contract declares none): forgetting a token is a compile error,
 * not three 4401 refusals at run time.
 */
export type ConnectionParamsField<TContract extends AnyContract> =
  undefined extends inferConnectionParams<TContract>
    ? {
        /** Sent in `hello` on every connect; a function is re-run each time (a refreshed token). */
        connectionParams?: ConnectionParamsOption<TContract>;
      }
    : {
        /** Sent in `hello` on every connect; a function is re-run each time (a refreshed token). */
        connectionParams: ConnectionParamsOption<TContract>;
      };

/** Whether any procedure of the contract or of its groups streams (items out or in). */
type HasStreamingProcedure<TContract extends AnyContract> = true extends
  | {
      [TName in keyof TContract['procedures']]: TContract['procedures'][TName] extends
        { stream: SchemaLike } | { inputStream: SchemaLike }
        ? true
        : false;
    }[keyof TContract['procedures']]
  | GroupsStream<TContract['groups']>
  ? true
  : false;

/** {@link HasStreamingProcedure} of each group (nothing for the widest contract's `any` groups). */
type GroupsStream<TGroups> = 0 extends 1 & TGroups
  ? false
  : {
      [TGroup in keyof TGroups]: TGroups[TGroup] extends AnyContract ? HasStreamingProcedure<TGroups[TGroup]> : false;
    }[keyof TGroups];

/**
 * `streams` (from `@wirecall/client/streams`) is required when the contract has streaming
 * procedures, so that forgetting it is a compile error, and apps without them ship none of it.
 */
export type StreamsField<TContract extends AnyContract> =
  HasStreamingProcedure<TContract> extends true
    ? {
        /** Runs the contract's streaming procedures: `import { streams } from '@wirecall/client/streams'`. */
        streams: StreamSupport;
      }
    : {
        /** Runs streaming procedures; this contract has none. */
        streams?: StreamSupport;
      };

/**
 * `presence` (from `@wirecall/client/presence`) is required when an event of the contract declares
 * presence, so that forgetting it is a compile error, and apps without any ship none of it.
 */
export type PresenceField<TContract extends AnyContract> = [PresenceEventName<TContract>] extends [never]
  ? {
      /** Observes and joins presence; this contract declares none. */
      presence?: PresenceSupport;
    }
  : {
      /** Observes and joins the contract's presence: `import { presence } from '@wirecall/client/presence'`. */
      presence: PresenceSupport;
    };

/** Whether the contract or any of its groups declares client messages. */
type HasMessages<TContract extends AnyContract> = true extends
  | {
      [TName in keyof TContract['messages']]: true;
    }[keyof TContract['messages']]
  | GroupsMessage<TContract['groups']>
  ? true
  : false;

/** {@link HasMessages} of each group (nothing for the widest contract's `any` groups). */
type GroupsMessage<TGroups> = 0 extends 1 & TGroups
  ? false
  : {
      [TGroup in keyof TGroups]: TGroups[TGroup] extends AnyContract ? HasMessages<TGroups[TGroup]> : false;
    }[keyof TGroups];

/**
 * `messages` (from `@wirecall/client/messages`) is required when the contract declares client
 * messages, so that forgetting it is a compile error, and apps without any ship none of it.
 */
export type MessagesField<TContract extends AnyContract> =
  HasMessages<TContract> extends true
    ? {
        /** Sends the contract's client messages: `import { messages } from '@wirecall/client/messages'`. */
        messages: MessageSupport;
      }
    : {
        /** Sends client messages; this contract declares none. */
        messages?: MessageSupport;
      };

/**
 * Everything `createClient` takes; `connectionParams`, `streams`, `presence` and `messages` as the
 * contract requires (see {@link ConnectionParamsField}, {@link StreamsField},
 * {@link PresenceField}, {@link MessagesField}).
 */
export type ClientOptions<TContract extends AnyContract> = ClientSettings &
  ConnectionParamsField<TContract> &
  StreamsField<TContract> &
  PresenceField<TContract> &
  MessagesField<TContract>;

export interface ClientSettings {
  /** Server URL, a list of them (rotated on reconnect), or a function evaluated on every connect. */
  url: UrlOption;
  /** Default deadline of a call. @default 30_000 */
  timeoutMs?: number;
  /** Backoff settings, or `false` to never reconnect. */
  reconnect?: ReconnectOptions | false;
  /** Liveness checks, or `false` to rely on TCP alone. */
  heartbeat?: ClientHeartbeatOptions | false;
  /** Calls that may wait for a connection; more fail at once with `UNAVAILABLE`. @default 1_000 */
  maxQueuedCalls?: number;
  /** WebSocket implementation. @default the browser's, or `ws` in Node (via isomorphic-ws) */
  WebSocket?: SocketConstructor;
  /**
   * Tabs of one origin share a single WebSocket through a SharedWorker; each keeps its own calls
   * and subscriptions, and the server sees one subscription per stream. Where SharedWorker is
   * missing, each tab connects on its own. Pass `sharedTabs()` from `@wirecall/client/shared-tabs`
   * (an app without it bundles no worker). See docs/shared-tabs.md. @default undefined (not shared)
   */
  shareAcrossTabs?: ShareAcrossTabs;
  /**
   * Binary frames, so bytes travel raw instead of as base64 in text: pass `binaryFrames()` from
   * `@wirecall/client/binary` (an app without it ships no frame codec). @default undefined (text)
   */
  binary?: BinaryFrames;
  /**
   * The HTTP transport, for when a WebSocket cannot get through: pass `httpTransport()` from
   * `@wirecall/client/http` (an app without it ships none of it). See docs/http.md.
   * @default undefined (WebSocket only)
   */
  http?: HttpSupport;
  /**
   * `websocket`: WebSocket only. `http`: HTTP + Server-Sent Events only. `auto`: a WebSocket, and
   * HTTP when it keeps failing (the rule in docs/reconnection.md), a WebSocket again later.
   * `http` and `auto` need the `http` option. @default 'auto' with `http`, else 'websocket'
   */
  transport?: TransportMode;
  /** When `transport: 'auto'` moves to HTTP and back. */
  fallback?: FallbackOptions;
  /** Random source for backoff jitter, injectable to replay a sequence in tests. @default Math.random */
  random?: () => number;
  /**
   * A message (`client.send.x`) was refused: invalid before it left, or unknown, invalid or refused
   * by the server, or its handler failed there. @default the logger's warn
   */
  onMessageError?: (error: WirecallError, meta: { message: string }) => void;
  /** @default console */
  logger?: ClientLogger;
}

/** `client.send.<name>(payload)` for every client message of the contract: no answer to wait for. */
export type SendProxy<TContract extends AnyContract> = {
  [TName in keyof TContract['messages'] & string]: (payload: inferMessageInput<TContract, TName>) => void;
} & GroupProxies<TContract['groups'], 'send'>;

/**
 * The proxies of a contract's groups (`client.call.users`, `client.send.users`), one per group;
 * nothing for a contract without groups, nor for the widest contract's `any` groups.
 */
type GroupProxies<TGroups, TKind extends 'call' | 'send'> = 0 extends 1 & TGroups
  ? unknown
  : {
      readonly [TGroup in keyof TGroups]: TGroups[TGroup] extends AnyContract
        ? TKind extends 'call'
          ? CallProxy<TGroups[TGroup]>
          : SendProxy<TGroups[TGroup]>
        : never;
    };

/** One procedure as the client calls it. */
export type CallFunction<TInput, TOutput> = (input: TInput, options?: CallOptions) => Promise<TOutput>;

/** What the caller gives a procedure with an `inputStream`: its items, as any iterable. */
export type InputSource<TItem> = AsyncIterable<TItem> | Iterable<TItem>;

/** A procedure as the client calls it, by what it streams (items out, items in, both, or neither). */
export type ProcedureFunction<TContract extends AnyContract, TName extends ProcedureName<TContract>> =
  isStreamProcedure<TContract, TName> extends true
    ? TContract['procedures'][TName] extends { inputStream: SchemaLike }
      ? (
          input: inferInput<TContract, TName>,
          source: InputSource<inferInputStreamItem<TContract, TName>>,
          options?: CallOptions,
        ) => CallStream<inferStreamItem<TContract, TName>, inferOutput<TContract, TName>>
      : (
          input: inferInput<TContract, TName>,
          options?: CallOptions,
        ) => CallStream<inferStreamItem<TContract, TName>, inferOutput<TContract, TName>>
    : TContract['procedures'][TName] extends { inputStream: SchemaLike }
      ? (
          input: inferInput<TContract, TName>,
          source: InputSource<inferInputStreamItem<TContract, TName>>,
          options?: CallOptions,
        ) => Promise<inferOutput<TContract, TName>>
      : CallFunction<inferInput<TContract, TName>, inferOutput<TContract, TName>>;

/**
 * `client.call.<name>(input, options)` for every procedure of the contract. Spelled out (not as
 * an alias of the contract) so that a misspelled procedure's compiler error lists the real ones.
 */
export type CallProxy<TContract extends AnyContract> = {
  [TName in keyof TContract['procedures'] & string]: ProcedureFunction<TContract, TName>;
} & GroupProxies<TContract['groups'], 'call'>;

export type EventHandler<TContract extends AnyContract, TName extends EventName<TContract>> = (
  payload: inferPayload<TContract, TName>,
  meta: EventMeta,
) => void;

/**
 * The arguments of `client.on` after the name: params first for events that declare them. The
 * second form only exists to make the compiler say what is wrong when the params are left out.
 */
export type OnArgs<TContract extends AnyContract, TName extends EventName<TContract>> =
  inferParams<TContract, TName> extends undefined
    ? [handler: EventHandler<TContract, TName>, options?: SubscribeOptions]
    : | [params: inferParams<TContract, TName>, handler: EventHandler<TContract, TName>, options?: SubscribeOptions]
      | [params: `wirecall: "${TName}" takes params before the handler: client.on("${TName}", params, handler)`];

/** The arguments of `client.presence` after the name: params first for events that declare them. */
export type PresenceArgs<TContract extends AnyContract, TName extends EventName<TContract>> =
  inferParams<TContract, TName> extends undefined
    ? [options?: PresenceOptions]
    : [params: inferParams<TContract, TName>, options?: PresenceOptions];

export interface WirecallClient<TContract extends AnyContract> {
  /** One typed function per procedure. */
  readonly call: CallProxy<TContract>;
  /**
   * One typed function per client message: sent without an answer (nothing to await). Checked
   * before it leaves; dropped while offline unless the contract says `queue: true`; a message the
   * client or the server refuses is reported to `onMessageError`.
   */
  readonly send: SendProxy<TContract>;
  /** Subscribes to an event (with params, for events that declare them). Returns the unsubscribe function. */
  on<TName extends keyof TContract['events'] & string>(name: TName, ...args: OnArgs<TContract, TName>): () => void;
  /**
   * The presence of an event stream (with params, for events that declare them): who is there, who
   * joins and leaves; `join(data)` enters it. Observed at once, and again after every reconnect.
   * One per stream: asking twice gives the same one. See docs/rooms.md.
   */
  presence<TName extends PresenceEventName<TContract>>(
    name: TName,
    ...args: PresenceArgs<TContract, TName>
  ): Presence<inferPresence<TContract, TName>, inferPresenceInput<TContract, TName>>;
  /** `connecting | open | reconnecting | closed`. */
  readonly state: ClientState;
  /** Reports every state transition; returns the unsubscribe function. */
  onStateChange(listener: (change: StateChange) => void): () => void;
  /** Closes for good: pending calls reject with `CLOSED`. */
  close(): Promise<void>;
  /** `close()`, so that `await using client = createClient(...)` closes it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void>;
  /**
   * The round-trip time to the server in ms, measured now (`UNAVAILABLE` while not connected).
   * With `shareAcrossTabs`, the shared worker answers: it measures the way to the worker.
   */
  ping(): Promise<number>;
  /**
   * Drops the connection and makes a new one at once, with `connectionParams` evaluated again (after
   * a token refresh). Subscriptions resume after the last event seen and queued calls wait; calls in
   * flight meet the drop as they would any other (idempotent ones are sent again).
   */
  reconnect(): void;
  /** Pending calls and listeners, for leak checks and debugging. */
  readonly pending: { calls: number; listeners: number };
}

const consoleLogger: ClientLogger = {
  warn: (details, message) => console.warn(`[wirecall] ${message ?? ''}`, details),
  error: (details, message) => console.error(`[wirecall] ${message ?? ''}`, details),
};

/** The contract needs an optional part of the client that `createClient` was not given. */
function pluginMissing(feature: 'streams' | 'messages' | 'presence', why: string): TypeError {
  return new TypeError(`wirecall: ${why}; pass \`${feature}\` from '@wirecall/client/${feature}' to createClient`);
}

/** The HTTP transport's policy the options ask for (undefined: WebSocket only). */
function transportPolicy(options: ClientSettings): TransportPolicy | undefined {
  const mode = options.transport ?? (options.http === undefined ? 'websocket' : 'auto');
  if (mode === 'websocket') return undefined;
  if (options.http === undefined) throw new TypeError('wirecall: this transport needs `http: httpTransport()`');
  return options.http.policy(mode, options.fallback);
}

function randomId(): string {
  const crypto = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  return crypto?.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

/**
 * Creates a client for a contract and connects at once. Calls made before the connection opens wait
 * for it.
 *
 * @example
 * const client = createClient(api, { url: 'ws://127.0.0.1:3000' });
 * const sum = await client.call.add({ a: 1, b: 2 });
 * const off = client.on('tick', (tick) => console.log(tick.seq));
 */
export function createClient<TContract extends AnyContract>(
  contract: TContract,
  options: ClientOptions<TContract>,
): WirecallClient<TContract> {
  const logger = options.logger ?? consoleLogger;
  /** Where exceptions of the app's own callbacks go: logged, never thrown into the connection. */
  const reportError = (error: unknown, context: string): void => logger.error({ err: error }, `error in ${context}`);
  const defaultTimeoutMs = options.timeoutMs ?? CLIENT_DEFAULTS.timeoutMs;
  let nextId = 0;
  // One id for this client's life: idempotency keys, and its presence member when anonymous.
  const clientId = randomId();
  const allocateId = (): number => ++nextId;
  const send = (frame: string | Uint8Array): boolean => manager.send(frame);

  const requests = new RequestManager({
    send,
    nextId: allocateId,
    isOffline: () => manager.state === 'reconnecting',
    closedReason: () => closedReason,
    maxQueuedCalls: options.maxQueuedCalls ?? CLIENT_DEFAULTS.maxQueuedCalls,
    clientId,
  });
  const subscriptions = new SubscriptionManager({
    send,
    nextId: allocateId,
    reportError,
  });

  const messageFailed = (error: WirecallError, message: string): void => {
    if (options.onMessageError === undefined) logger.warn({ err: error, message }, `message ${message} failed`);
    else options.onMessageError(error, { message });
  };
  const messages: MessageRouter | undefined = (options as { messages?: MessageSupport }).messages?.create({
    send,
    failed: messageFailed,
  });
  const presenceRouter: PresenceRouter | undefined = (options as { presence?: PresenceSupport }).presence?.create({
    send,
    nextId: allocateId,
    reportError,
  });

  let warnedMismatch = false;
  let closedReason: WirecallError | undefined;
  const manager = new ConnectionManager(
    {
      url: options.url,
      WebSocket:
        options.WebSocket ??
        sharedSocketClass(options.shareAcrossTabs) ??
        (WebSocketImpl as unknown as SocketConstructor),
      reconnect: options.reconnect === false ? false : { ...CLIENT_DEFAULTS.reconnect, ...options.reconnect },
      heartbeat: options.heartbeat === false ? false : { ...CLIENT_DEFAULTS.heartbeat, ...options.heartbeat },
      random: options.random ?? Math.random,
      binary: options.binary,
      transport: transportPolicy(options),
      reportError,
    },
    {
      hello: async () => {
        const params: unknown =
          typeof options.connectionParams === 'function'
            ? await (options.connectionParams as () => unknown)()
            : options.connectionParams;
        const schema = contract.connectionParams as ProcedureDef['input'] | undefined;
        const checked = schema === undefined ? { ok: true as const, value: params } : toWire(schema, params);
        if (!checked.ok) {
          const where = checked.issues.map((issue) => issue.path.map(String).join('.') || '(root)').join(', ');
          throw new WirecallError('UNAUTHORIZED', `invalid connection params at ${where}`, {
            data: { issues: checked.issues },
          });
        }
        return encodeFrame({
          t: 'hello',
          fp: contract.fingerprint,
          // `bin`: this client reads binary frames (bytes travel raw instead of as base64).
          bin: options.binary === undefined ? undefined : true,
          cid: clientId,
          ...encodeValue(checked.value),
        });
      },
      opened: (welcome: WelcomeEnvelope) => {
        if (welcome.fp !== contract.fingerprint && !warnedMismatch) {
          warnedMismatch = true;
          logger.warn(
            { client: contract.fingerprint, server: welcome.fp },
            'this client was built from a different contract than the server (reload to update)',
          );
        }
        // Subscriptions first, so queued calls that trigger events find their subscribers in place.
        subscriptions.resubscribeAll();
        presenceRouter?.opened();
        messages?.opened();
        requests.opened({
          window: welcome.mi,
          maxPayloadBytes: welcome.mp,
          maxStreams: welcome.ms,
          binary: welcome.bin === true ? options.binary : undefined,
        });
      },
      received: (envelope: ServerEnvelope) => route(envelope),
      idle: (): boolean => requests.size === 0,
      lost: (error, final) => {
        subscriptions.connectionLost();
        presenceRouter?.lost();
        requests.connectionLost(error, final);
        if (final) {
          closedReason = error;
          stopWatching();
        }
      },
    },
  );

  function route(envelope: ServerEnvelope): void {
    switch (envelope.t) {
      case 'result':
        requests.resolve(envelope.id, envelope);
        return;
      case 'error':
        if (envelope.n !== undefined) messageFailed(fromErrorShape(envelope.e, undefined, decodeValue), envelope.n);
        else if (envelope.id === undefined) logger.warn({ error: envelope.e }, 'the server reported an error');
        else if (envelope.op !== undefined || !requests.reject(envelope.id, envelope.e)) {
          if (!subscriptions.refused(envelope.id, envelope.e))
            presenceRouter?.refused(envelope.id, envelope.e, envelope.op);
        }
        return;
      case 'presence':
        presenceRouter?.received(envelope);
        return;
      case 'event':
        subscriptions.event(envelope);
        return;
      case 'subscribed':
        subscriptions.subscribed(envelope.id, envelope.k, envelope.last);
        return;
      case 'gap':
        subscriptions.gap(envelope.k, envelope.last);
        return;
      case 'item':
      case 'credit':
        requests.streamFrame(envelope);
        return;
      case 'welcome':
      case 'pong':
        return; // handled by the connection manager
      default: {
        const unreachable: never = envelope;
        logger.warn({ envelope: unreachable }, 'unhandled envelope');
      }
    }
  }

  const events = contract.events as Record<string, EventDef>;
  const call: Record<string, unknown> = {};
  const streamSupport = (options as { streams?: StreamSupport }).streams;
  for (const { name, path, def } of procedureEntries(contract)) {
    const takesStream = def.inputStream !== undefined;
    if ((def.stream !== undefined || takesStream) && streamSupport === undefined) {
      throw pluginMissing('streams', `procedure ${name} streams`);
    }
    placeAt(call, path, (input: unknown, ...rest: unknown[]) => {
      const source = takesStream ? (rest[0] as InputSource<unknown> | undefined) : undefined;
      const callOptions = ((takesStream ? rest[1] : rest[0]) ?? {}) as CallOptions;
      const request = {
        procedure: name,
        def,
        input,
        timeoutMs: callOptions.timeoutMs ?? defaultTimeoutMs,
        signal: callOptions.signal,
        whenOffline: callOptions.whenOffline ?? 'queue',
        window: callOptions.window ?? CLIENT_DEFAULTS.streamWindow,
        source,
      };
      return def.stream === undefined && !takesStream ? requests.call(request) : streamSupport!.call(requests, request);
    });
  }

  const sendProxy: Record<string, unknown> = {};
  for (const { name, path, def } of messageEntries(contract)) {
    if (messages === undefined) {
      throw pluginMissing('messages', `the contract declares message ${name}`);
    }
    placeAt(sendProxy, path, (payload: unknown) => messages.send(name, def, payload));
  }

  const stopWatching = watchPageLifecycle(() => manager.retryNow());
  manager.start();

  const client: WirecallClient<TContract> = {
    call: freezeDeep(call) as CallProxy<TContract>,
    send: freezeDeep(sendProxy) as SendProxy<TContract>,
    on(name, ...args) {
      const def = Object.hasOwn(events, name) ? events[name] : undefined;
      if (def === undefined) throw new WirecallError('NOT_FOUND', `Unknown event ${String(name)}`);
      const [params, handler, subscribeOptions] = (def.params === undefined
        ? [undefined, ...args]
        : args) as unknown as [unknown, (payload: never, meta: EventMeta) => void, SubscribeOptions | undefined];
      return subscriptions.add({ event: name, def, params }, { ...subscribeOptions, handler });
    },
    presence(name, ...args) {
      const def = Object.hasOwn(events, name) ? events[name] : undefined;
      if (def?.presence === undefined)
        throw new WirecallError('NOT_FOUND', `Event ${String(name)} declares no presence`);
      if (presenceRouter === undefined) {
        throw pluginMissing('presence', `event ${name} declares presence`);
      }
      const [params, presenceOptions] = (def.params === undefined ? [undefined, ...args] : args) as [
        unknown,
        PresenceOptions | undefined,
      ];
      return presenceRouter.open({ event: name, def, params, options: presenceOptions ?? {} }) as never;
    },
    get state() {
      return manager.state;
    },
    onStateChange: (listener) => manager.onStateChange(listener),
    ping: () => manager.ping(),
    reconnect: () => manager.reconnect(),
    async close() {
      stopWatching();
      closedReason ??= new WirecallError('CLOSED', 'The client was closed');
      const closing = manager.close();
      requests.rejectAll(closedReason);
      subscriptions.connectionLost();
      presenceRouter?.close();
      await closing;
    },
    [Symbol.asyncDispose]: () => client.close(),
    get pending() {
      return { calls: requests.size, listeners: subscriptions.size };
    },
  };
  return client;
}
