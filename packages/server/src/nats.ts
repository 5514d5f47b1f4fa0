/**
 * @module @wirecall/server/nats: the NATS JetStream broker, for several server nodes sharing
 * events and history. Needs the optional peer dependencies `@nats-io/transport-node` and
 * `@nats-io/jetstream`.
 */
export { natsBroker, NatsBroker, type NatsBrokerOptions } from './broker/nats-broker.js';
