import { describe } from 'vitest';
import { runTransportSuite, TRANSPORTS } from './transport-suite.js';

for (const transport of TRANSPORTS) {
  describe(`over ${transport.name}`, () => runTransportSuite(transport));
}
