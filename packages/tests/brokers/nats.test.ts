import type { HistoryOptions } from '@wirecall/server';
import { natsBroker, type NatsBroker } from '@wirecall/server/nats';
import { describe } from 'vitest';
import { uniquePrefix } from '../cluster/helpers/redis.js';
import { deleteStream, natsSuite, requireNats } from './nats.js';
import { describeBrokerConformance } from './broker-conformance.js';

/** The NATS JetStream broker (NATS_URL, 127.0.0.1:4222 by default): nodes are brokers sharing one prefix. */
const nats = await requireNats();

describe.skipIf(!nats.available)(natsSuite('NATS JetStream broker', nats), () => {
  describeBrokerConformance('NATS JetStream broker', () => {
    // A prefix names a JetStream stream: letters, digits, - and _ only.
    const prefix = uniquePrefix('conformance').replace(/[^A-Za-z0-9_-]/g, '_');
    const nodes: NatsBroker[] = [];
    return {
      interestRouting: true,
      exactTrim: true,
      async node(history?: HistoryOptions) {
        const broker = natsBroker({
          servers: nats.url,
          prefix,
          storage: 'memory',
          ...(history === undefined ? {} : { history }),
        });
        nodes.push(broker);
        await broker.ready();
        return broker;
      },
      async cleanUp() {
        await Promise.all(nodes.map((broker) => broker.close()));
        await deleteStream(nats.url, prefix);
      },
    };
  });
});
