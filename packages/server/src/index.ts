/**
 * @module @wirecall/server: serves a wirecall contract over WebSocket (on `ws`).
 */
export {
  createServer,
  WirecallServer,
  type EmitArgs,
  type ListeningAddress,
  type PresenceQuery,
  type PresenceQueryArgs,
  type PresenceSnapshot,
  type Targets,
} from './server.js';
export type { UserConnection } from './presence/user-directory.js';
export type {
  PresenceEntry,
  PresenceListener,
  PresenceMember,
  PresenceNotice,
  PresencePage,
  PresenceStore,
  SignalBus,
} from './presence/presence-store.js';
export type { ServerStats } from './stats.js';
export type { HttpOptions } from './options.js';
export type {
  ServerOptions,
  AuthenticateArgs,
  ContextArgs,
  DefaultContext,
  HeartbeatOptions,
  LimitOptions,
  RateLimitOptions,
  MaxConnectionsOptions,
  ServerHooks,
  SubscribeCheckArgs,
  JoinCheckArgs,
  PresenceOptions,
  ListenOptions,
  AttachOptions,
  CloseOptions,
} from './options.js';
export type { ConnectionInfo } from './connection/connection-info.js';
export { tracked, type Tracked } from './router/tracked.js';
export { middleware, Guard, type GuardArgs, type Passed, type WithContext } from './router/middleware.js';
export type { Caller, CallerFunction, CallerCallOptions } from './caller.js';
export type { MessageArgs, MessageHandlers, MessagesField } from './router/messages.js';
export type {
  Handlers,
  HandlerArgs,
  InputStreamArgs,
  ResumableArgs,
  ProcedureArgs,
  ProcedureResult,
  CallMeta,
  Middleware,
} from './router/handlers.js';
export type { IdempotencyOptions, Outcome } from './router/idempotency-cache.js';
export type { Claim, SharedIdempotency } from './router/shared-idempotency.js';
export type {
  Broker,
  BrokerEvent,
  BrokerGapListener,
  BrokerListener,
  BrokerStatus,
  BrokerTraffic,
  ReplayResult,
} from './broker/broker.js';
export { memoryBroker, MemoryBroker, type HistoryOptions, type MemoryBrokerOptions } from './broker/memory-broker.js';
export { consoleLogger, silentLogger, type Logger } from './logger.js';
export {
  WirecallError,
  isWirecallError,
  defineContract,
  CLOSE_CODES,
  type ErrorCode,
  type Register,
} from '@wirecall/core';
