import { memoryBroker, type Broker } from '@wirecall/server';
import { describeBrokerConformance } from './broker-conformance.js';

/** The in-memory broker: one process, so every "node" of a test is the same broker. */
describeBrokerConformance('memory broker', () => {
  let broker: Broker | undefined;
  return {
    interestRouting: false,
    exactTrim: true,
    node(history) {
      broker ??= memoryBroker(history === undefined ? {} : { history });
      return Promise.resolve(broker);
    },
    cleanUp: async () => {
      await broker?.close();
    },
  };
});
