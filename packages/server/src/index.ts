/**
 * @module @wirecall/server: serves a wirecall contract over WebSocket (on `ws`).
 */
export { createServer, WirecallServer, type EmitArgs, type ListeningAddress, type ServerStats } from './server.js';
export type {
  ServerOptions,
  ContextArgs,
  HeartbeatOptions,
  ListenOptions,
  AttachOptions,
  CloseOptions,
} from './options.js';
export type { Handlers, HandlerArgs, CallMeta } from './router/handlers.js';
export type { Broker, BrokerEvent, BrokerListener, ReplayResult } from './broker/broker.js';
export { memoryBroker, MemoryBroker, type HistoryOptions, type MemoryBrokerOptions } from './broker/memory-broker.js';
export { consoleLogger, silentLogger, type Logger } from './logger.js';
export { WirecallError, isWirecallError, defineContract, CLOSE_CODES, type ErrorCode } from '@wirecall/core';
