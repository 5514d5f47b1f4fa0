/**
 * @module @wirecall/server/redis: the Redis broker, for several server nodes sharing events and
 * their history. Needs the optional peer dependency `ioredis`.
 */
export { redisBroker, RedisBroker, type RedisBrokerOptions } from './broker/redis-broker.js';
