/**
 * The orchestrator's side of the child processes: spawns `child.ts` under tsx (one process per
 * server or client group), sends it requests, and makes sure none outlives the run: each child has
 * a hard timeout of its own, and every child still alive is killed when the orchestrator exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { awaitReply, settleReply, type PendingRequest } from './ipc.js';
import type { PeerName } from './peers/types.js';

export const BENCH_DIR = fileURLToPath(new URL('..', import.meta.url));
const CHILD_FILE = fileURLToPath(new URL('./child.ts', import.meta.url));

/** Every load goes to this machine. */
export const HOST = '127.0.0.1';

/** A child that has not started listening for requests by then has failed. */
const READY_TIMEOUT_MS = 20_000;
/** How long a child may take to exit once told to, before it is killed. */
const EXIT_TIMEOUT_MS = 5_000;

export type Role = 'server' | 'clients';

export interface ChildOptions {
  role: Role;
  peer: PeerName;
  /** For `gc()` before memory readings (scenario D's server). */
  exposeGc?: boolean;
}

/** Settings shared by every child of a run. */
export interface HarnessSettings {
  /** Hard limit on each child's life; the child exits by itself when it passes. */
  childTimeoutMs: number;
  /** When set, children of these peers run with --cpu-prof and write their profiles under `dir`. */
  cpuProfile?: { dir: string; peers: readonly PeerName[] };
}

const live = new Set<ChildProcess>();

/** Kills every child still alive (SIGKILL: they hold nothing worth a clean shutdown). */
export function killAllChildren(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}

let childSeq = 0;

/** One child process and the requests in flight to it. */
export class Child {
  readonly label: string;
  readonly process: ChildProcess;
  readonly exited: Promise<number | null>;
  readonly #pending = new Map<number, PendingRequest>();
  #nextRid = 0;
  #exitError: Error | undefined;

  private constructor(label: string, child: ChildProcess) {
    this.label = label;
    this.process = child;
    live.add(child);
    const relay = (stream: NodeJS.ReadableStream | null) => {
      if (stream) createInterface({ input: stream }).on('line', (line) => console.error(`  [${label}] ${line}`));
    };
    relay(child.stdout);
    relay(child.stderr);
    child.on('message', (message: unknown) => settleReply(this.#pending, message, label));
    this.exited = once(child, 'exit').then(([code, signal]) => {
      live.delete(child);
      this.#exitError = new Error(`${label} exited (${String(code ?? signal)})`);
      for (const pending of this.#pending.values()) {
        clearTimeout(pending.timer);
        pending.reject(this.#exitError);
      }
      this.#pending.clear();
      return code as number | null;
    });
  }

  /** Starts a child and waits until it answers requests. */
  static async start(options: ChildOptions, settings: HarnessSettings, scenario: string): Promise<Child> {
    const label = `${scenario} ${options.peer} ${options.role} #${++childSeq}`;
    const nodeArgs: string[] = [];
    if (options.exposeGc) nodeArgs.push('--expose-gc');
    // Diagnostics for the children only (`BENCH_NODE_ARGS=--trace-gc`): NODE_OPTIONS refuses some flags.
    nodeArgs.push(...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean));
    if (settings.cpuProfile?.peers.includes(options.peer)) {
      const dir = join(settings.cpuProfile.dir, `${scenario}-${options.peer}-${options.role}-${childSeq}`);
      mkdirSync(dir, { recursive: true });
      // A sample every 100 µs instead of V8's 1 ms: a call of A is ~50 µs, and a run lasts seconds.
      nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=100');
    }
    const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', CHILD_FILE, options.role, options.peer], {
      cwd: BENCH_DIR,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'advanced',
      env: { ...process.env, BENCH_CHILD_TIMEOUT_MS: String(settings.childTimeoutMs) },
    });
    const handle = new Child(label, child);
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${label} did not start in ${READY_TIMEOUT_MS} ms`)),
        READY_TIMEOUT_MS,
      );
      child.on('message', (message: unknown) => {
        if (typeof message === 'object' && message !== null && 'ready' in message) {
          clearTimeout(timer);
          resolve();
        }
      });
      void handle.exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`${label} exited before it was ready`));
      });
    });
    try {
      const began = Date.now();
      await ready;
      if (process.env.BENCH_DEBUG) console.error(`  [${label}] ready in ${Date.now() - began} ms`);
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
    return handle;
  }

  /** Sends one request and waits for its answer, at most `timeoutMs`. */
  call<T>(op: string, args: unknown, timeoutMs: number): Promise<T> {
    if (this.#exitError) return Promise.reject(this.#exitError);
    const rid = ++this.#nextRid;
    return awaitReply<T>(this.#pending, (request) => this.process.send(request), {
      rid,
      op,
      args,
      label: this.label,
      timeoutMs,
    });
  }

  /**
   * Asks the child to close its sockets, then to exit (it exits when the IPC channel closes, which
   * lets --cpu-prof write its profile); kills it if it does not comply in time.
   */
  async stop(): Promise<void> {
    if (this.process.exitCode === null && this.process.signalCode === null) {
      try {
        await this.call('close', {}, EXIT_TIMEOUT_MS);
      } catch {
        // Closing failed or took too long: exiting is all that matters now.
      }
      if (this.process.connected) this.process.disconnect();
      const timer = setTimeout(() => this.process.kill('SIGKILL'), EXIT_TIMEOUT_MS);
      await this.exited;
      clearTimeout(timer);
    }
  }
}

/**
 * Runs `body` with a spawner whose children are all stopped when it returns or throws. Children
 * start in parallel where `body` asks for them together, so their startup overlaps.
 */
export async function withChildren<T>(
  settings: HarnessSettings,
  scenario: string,
  body: (start: (options: ChildOptions) => Promise<Child>) => Promise<T>,
): Promise<T> {
  const starting: Promise<Child>[] = [];
  const startChild = (options: ChildOptions): Promise<Child> => {
    const child = Child.start(options, settings, scenario);
    starting.push(child);
    return child;
  };
  const began = Date.now();
  try {
    return await body(startChild);
  } finally {
    const stopping = Date.now();
    // Also the children that were still starting when `body` failed.
    const settled = await Promise.allSettled(starting);
    const children = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    await Promise.all(children.map((child) => child.stop()));
    if (process.env.BENCH_DEBUG)
      console.error(`  [${scenario}] body ${stopping - began} ms, stop ${Date.now() - stopping} ms`);
  }
}

/**
 * `--awake`: one busy loop per core at the lowest priority (nice 19), for `ms` at most, killed with
 * the other children. Whenever a process of the run wants a core it preempts the loop, so the loops
 * take next to nothing from the run; what they change is that no core ever goes idle. On this VM a
 * core woken from idle costs tens of microseconds per wake-up (A's raw ws p50 went from ~95 µs idle
 * to ~25 µs with the cores kept busy), which otherwise dominates every round trip.
 */
export function startSpinners(count: number, ms: number): void {
  for (let index = 0; index < count; index++) {
    const child = spawn(process.execPath, ['-e', `const end = Date.now() + ${ms}; while (Date.now() < end);`], {
      stdio: 'ignore',
    });
    live.add(child);
    child.on('exit', () => live.delete(child));
    // They must not keep the run alive: the run kills them when it exits.
    child.unref();
    if (child.pid !== undefined) os.setPriority(child.pid, 19);
  }
}

/** Polls `check` every 25 ms until it returns true; throws after `timeoutMs` with `what`. */
export async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Runs a benchmark's `main` as the process's job: its result is the exit code; a failure, Ctrl-C
 * or SIGTERM kills every child first, so nothing outlives the run.
 */
export async function runMain(main: () => Promise<number>, onSignal: () => void = () => {}): Promise<void> {
  process.on('exit', killAllChildren);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      killAllChildren();
      onSignal();
      process.exit(130);
    });
  }
  try {
    process.exitCode = await main();
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    killAllChildren();
    process.exitCode = 1;
  }
}
