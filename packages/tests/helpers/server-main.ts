/**
 * A wirecall server for {@link testApi} in a process of its own, so a chaos test can SIGKILL it
 * and start another on the same port. Started by server-process.ts as
 * `node --conditions=@wirecall/source --import tsx server-main.ts` (workspace sources, no build).
 *
 * Configuration comes as JSON in WIRECALL_SERVER_CONFIG ({@link ServerMainConfig}). The process
 * talks to its parent in JSON lines:
 * - stdout: `{type:'ready',port,pid}` once listening; `{type:'emit',id,seq}` for every `tick` it
 *   emits (seq starts at 1 in every process); `{type:'run',key}` when a counted handler starts
 *   (`getUser:<id>`, `sleep:<tag>`); `{type:'ticks',everyMs,lastSeq}` to acknowledge a command.
 * - stdin: `{cmd:'ticks',everyMs}` starts (or, with 0, stops) the tick stream. When stdin ends (the
 *   parent died or let go), the process exits: a crashed test run leaves no server behind.
 * - stderr: the server's log, one JSON object per line.
 */
import { createInterface } from 'node:readline';
import { createServer, type HeartbeatOptions, type HistoryOptions } from '@wirecall/server';
import { testApi } from './fixtures.js';
import { newObserved, testApiOptions } from './test-handlers.js';

export interface ServerMainConfig {
  /** @default 0 */
  port?: number;
  /** Emit a `tick` every this many ms from the start; 0 or absent: no ticks until told. */
  tickMs?: number;
  heartbeat?: HeartbeatOptions | false;
  history?: HistoryOptions;
  strictContract?: boolean;
}

function tell(message: object): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

function log(level: string) {
  return (details: object, message?: string): void => {
    const err = (details as { err?: unknown }).err;
    process.stderr.write(
      `${JSON.stringify({ level, message, details, err: err instanceof Error ? err.stack : undefined })}\n`,
    );
  };
}

const config = JSON.parse(process.env.WIRECALL_SERVER_CONFIG ?? '{}') as ServerMainConfig;
const server = createServer(testApi, {
  ...testApiOptions(newObserved(), (key) => tell({ type: 'run', key })),
  logger: { error: log('error'), warn: log('warn'), info: log('info'), debug: () => {} },
  ...(config.heartbeat === undefined ? {} : { heartbeat: config.heartbeat }),
  ...(config.history === undefined ? {} : { history: config.history }),
  ...(config.strictContract === undefined ? {} : { strictContract: config.strictContract }),
});

let seq = 0;
let ticker: ReturnType<typeof setInterval> | undefined;
function setTicks(everyMs: number): void {
  clearInterval(ticker);
  ticker = undefined;
  if (everyMs <= 0) return;
  ticker = setInterval(() => {
    const current = ++seq;
    void server.emit('tick', { seq: current, at: new Date() }).then((id) => tell({ type: 'emit', id, seq: current }));
  }, everyMs);
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const command = JSON.parse(line) as { cmd: string; everyMs?: number };
  if (command.cmd === 'ticks') {
    setTicks(command.everyMs ?? 0);
    tell({ type: 'ticks', everyMs: command.everyMs ?? 0, lastSeq: seq });
  }
});
process.stdin.on('end', () => process.exit(0));

const { port } = await server.listen({ port: config.port ?? 0, host: '127.0.0.1' });
setTicks(config.tickMs ?? 0);
tell({ type: 'ready', port, pid: process.pid });
