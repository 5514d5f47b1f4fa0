/**
 * Runs the conformance vectors from the command line and prints TAP:
 *
 *   node --conditions=@wirecall/source --import tsx conformance/run.ts [--url ws://host:port] [--grep text] [--transcript]
 *
 * Without `--url` it starts the reference server in this process; with one, it tests that server
 * (one serving the conformance contract and its profiles, in any language). `--transcript` prints
 * every frame of every vector. Exits 1 if a vector fails.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startReferenceServer } from './reference-server.js';
import { CONFORMANCE_DIR, loadVectors, runVector } from './runner.js';

const { values } = parseArgs({
  options: { url: { type: 'string' }, grep: { type: 'string' }, transcript: { type: 'boolean', default: false } },
});

const { conformance } = JSON.parse(readFileSync(path.join(CONFORMANCE_DIR, 'fingerprints.json'), 'utf8')) as {
  conformance: { fingerprint: string };
};
const vectors = loadVectors().filter((vector) => values.grep === undefined || vector.name.includes(values.grep));
const server = values.url === undefined ? await startReferenceServer() : undefined;
const baseUrl = values.url ?? server!.url;

let failed = 0;
process.stdout.write(`TAP version 13\n1..${vectors.length}\n`);
for (const [index, vector] of vectors.entries()) {
  const started = Date.now();
  try {
    const { transcript } = await runVector(vector, { baseUrl, fingerprint: conformance.fingerprint });
    process.stdout.write(`ok ${index + 1} - ${vector.name} # ${Date.now() - started} ms\n`);
    if (values.transcript) process.stdout.write(`${transcript.map((line) => `  # ${line}`).join('\n')}\n`);
  } catch (error) {
    failed++;
    process.stdout.write(`not ok ${index + 1} - ${vector.name}\n`);
    process.stdout.write(`${String((error as Error).message).replace(/^/gm, '  # ')}\n`);
  }
}
await server?.close();
process.stdout.write(`# ${vectors.length - failed} passed, ${failed} failed\n`);
process.exitCode = failed === 0 ? 0 : 1;
