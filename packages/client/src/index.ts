/**
 * @module @wirecall/client: typed calls and subscriptions over one self-healing WebSocket, in
 * browsers and Node.
 */
export {
  createClient,
  type ClientOptions,
  type ClientLogger,
  type WirecallClient,
  type CallProxy,
  type CallFunction,
  type ProcedureFunction,
  type InputSource,
  type EventHandler,
  type OnArgs,
} from './create-client.js';
export type { ClientState, StateChange, SocketConstructor, SocketLike } from './connection/connection-manager.js';
export type {
  CallOptions,
  ReconnectOptions,
  ClientHeartbeatOptions,
  UrlOption,
  WhenOffline,
  TransportMode,
  FallbackOptions,
  HttpSupport,
} from './options.js';
export type { EventMeta, SubscribeOptions } from './subscription-manager.js';
export type { ShareAcrossTabs, SharedTabs } from './shared-tabs/shared-socket.js';
export type { PortLike } from './shared-tabs/messages.js';
export { isCallError } from './call-error.js';
export type { CallStream } from './streams/call-stream.js';
export type { StreamSupport } from './stream-hooks.js';
export type { BinaryFrames } from './binary-hooks.js';
export {
  WirecallError,
  isWirecallError,
  defineContract,
  type ErrorCode,
  type inferCallError,
  type BuiltinErrorData,
  type Register,
} from '@wirecall/core';
