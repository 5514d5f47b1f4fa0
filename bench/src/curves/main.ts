/**
 * @module `npm run bench:curves -w bench`: the benchmark's curves (see run.ts), each bounded in time.
 */
import { runMain } from '../harness.js';
import { curvesMain } from './run.js';

await runMain(() => curvesMain(process.argv.slice(2)));
