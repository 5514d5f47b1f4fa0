/**
 * @module @wirecall/server/node-cluster: one server process per core on one port (node:cluster),
 * sharing events, history, presence, pushes and idempotency keys through the primary process,
 * without Redis: `setupPrimary()` in the primary, `workerBroker()` in each worker.
 */
export { setupPrimary, type Primary, type PrimaryOptions } from './node-cluster/primary.js';
export { workerBroker, WorkerBroker, type WorkerBrokerOptions } from './node-cluster/worker-broker.js';
