/**
 * Runs the whole quickstart: starts src/server.ts, waits for its first line, `listening <url>`, runs
 * src/client.ts against that URL, relays both outputs with `[server]` / `[client]` prefixes, then
 * stops the server with SIGTERM. Exits 0 when both children did; Ctrl-C stops both.
 *
 *   npm run demo            (from the repository root: builds the packages first)
 *   npm start               (from examples/quickstart, once the packages are built)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** How long the server may take to print `listening <url>`. */
const START_TIMEOUT_MS = 15_000;
/** How long the client may run. */
const CLIENT_TIMEOUT_MS = 30_000;
/** How long a child may take to exit after SIGTERM before it is killed. */
const STOP_TIMEOUT_MS = 5_000;

/** The tsx loader, resolved from this file so the children find it whatever their working directory. */
const tsxLoader = import.meta.resolve('tsx');

class Child {
  readonly process: ChildProcess;
  /** The exit code (1 after a signal), once the process has exited and its output has ended. */
  readonly exited: Promise<number>;
  #stopping: Promise<number> | undefined;

  /** Starts `file` under tsx and relays each line it prints with `prefix`; `onLine` sees stdout lines. */
  constructor(file: string, args: string[], prefix: string, onLine?: (line: string) => void) {
    const path = fileURLToPath(new URL(file, import.meta.url));
    const child = spawn(process.execPath, ['--import', tsxLoader, path, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      console.log(`${prefix} ${line}`);
      onLine?.(line);
    });
    createInterface({ input: child.stderr }).on('line', (line) => console.error(`${prefix} ${line}`));
    this.process = child;
    // 'close' fires after the output streams have ended, so no line is lost.
    this.exited = once(child, 'close').then(([code]) => (typeof code === 'number' ? code : 1));
  }

  /** SIGTERM, then SIGKILL if the child has not exited in time. Safe to call more than once. */
  stop(): Promise<number> {
    this.#stopping ??= (async () => {
      if (this.process.exitCode !== null || this.process.signalCode !== null) return this.exited;
      this.process.kill('SIGTERM');
      const limit = timer(STOP_TIMEOUT_MS);
      const outcome = await Promise.race([this.exited, limit.elapsed]);
      limit.cancel();
      if (outcome !== 'timeout') return outcome;
      this.process.kill('SIGKILL');
      await this.exited;
      return 1;
    })();
    return this.#stopping;
  }
}

/** A timer to race against a child; `cancel` it once the race is over so it keeps nothing alive. */
function timer(ms: number): { elapsed: Promise<'timeout'>; cancel: () => void } {
  let handle: ReturnType<typeof setTimeout> | undefined;
  const elapsed = new Promise<'timeout'>((resolve) => (handle = setTimeout(() => resolve('timeout'), ms)));
  return { elapsed, cancel: () => clearTimeout(handle) };
}

const children: Child[] = [];
let interrupted = false;
/** Ctrl-C or a kill: stop both children, then exit 130 once they are gone. */
function interrupt(): void {
  interrupted = true;
  for (const child of children) void child.stop();
}
process.on('SIGINT', interrupt);
process.on('SIGTERM', interrupt);

async function run(): Promise<number> {
  let onFirstLine: (line: string) => void = () => {};
  const firstLine = new Promise<string>((resolve) => (onFirstLine = resolve));
  const server = new Child('./server.ts', [], '[server]', (line) => onFirstLine(line));
  children.push(server);

  const startLimit = timer(START_TIMEOUT_MS);
  const started = await Promise.race([firstLine, server.exited.then(() => 'exited'), startLimit.elapsed]);
  startLimit.cancel();
  const url = /^listening (ws:\/\/\S+)$/.exec(started)?.[1];
  if (interrupted) return 130;
  if (url === undefined) {
    console.error(`[main] expected "listening <url>" from the server, got: ${started}`);
    await server.stop();
    return 1;
  }

  const client = new Child('./client.ts', [url], '[client]');
  children.push(client);
  const clientLimit = timer(CLIENT_TIMEOUT_MS);
  const clientOutcome = await Promise.race([client.exited, clientLimit.elapsed]);
  clientLimit.cancel();
  if (clientOutcome === 'timeout') console.error(`[main] the client did not finish within ${CLIENT_TIMEOUT_MS} ms`);
  const clientCode = clientOutcome === 'timeout' ? (await client.stop(), 1) : clientOutcome;

  const serverCode = await server.stop();
  if (interrupted) return 130;
  console.log(`[main] client exited with ${clientCode}, server with ${serverCode}`);
  return clientCode === 0 && serverCode === 0 ? 0 : 1;
}

process.exitCode = await run();
process.off('SIGINT', interrupt);
process.off('SIGTERM', interrupt);
