/**
 * Starts the conformance reference server from the command line, for a runner in any language:
 *
 *   node --conditions=@wirecall/source --import tsx conformance/server.ts [--port 0] [--host 127.0.0.1]
 *
 * Prints `listening ws://127.0.0.1:<port>` on stdout once it accepts connections (each profile at
 * `ws://127.0.0.1:<port>/<profile>`, see reference-server.ts), logs the server's warnings and
 * errors to stderr as JSON lines, and stops on SIGINT or SIGTERM.
 */
import { parseArgs } from 'node:util';
import type { Logger } from '@wirecall/server';
import { startReferenceServer } from './reference-server.js';

const { values } = parseArgs({
  options: { port: { type: 'string', default: '0' }, host: { type: 'string', default: '127.0.0.1' } },
});

function log(level: string) {
  return (details: object, message?: string): void => {
    const err = (details as { err?: unknown }).err;
    process.stderr.write(
      `${JSON.stringify({ level, message, details, err: err instanceof Error ? err.stack : undefined })}\n`,
    );
  };
}
const stderrLogger: Logger = { error: log('error'), warn: log('warn'), info: () => {}, debug: () => {} };

const server = await startReferenceServer({ port: Number(values.port), host: values.host, logger: stderrLogger });
process.stdout.write(`listening ${server.url}\n`);

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  server.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
