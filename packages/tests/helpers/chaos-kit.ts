import net from 'node:net';
import type { ClientLogger, ClientState, StateChange } from '@wirecall/client';
import { isWirecallError } from '@wirecall/core';

/**
 * mulberry32: a tiny seeded PRNG, uniform in [0, 1). Chaos tests draw every random choice from it
 * so a failing run can be replayed from its seed.
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * The seed of a randomised test: `WIRECALL_SEED` when set (to replay a failure), otherwise a fresh
 * one. Put it in every assertion message (`seed ${seed}`): a test may not print.
 */
export function chaosSeed(): number {
  const fromEnv = process.env.WIRECALL_SEED;
  if (fromEnv !== undefined && fromEnv !== '') return Number(fromEnv) >>> 0;
  return Math.floor(Math.random() * 2 ** 32) >>> 0;
}

/** A seeded source of the random choices a chaos test makes. */
export interface Dice {
  readonly seed: number;
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [min, max]. */
  int(min: number, max: number): number;
}

export function dice(seed: number): Dice {
  const next = mulberry32(seed);
  return { seed, next, int: (min, max) => min + Math.floor(next() * (max - min + 1)) };
}

/** A client logger that records instead of printing (printing fails the test). */
export interface RecordingClientLogger extends ClientLogger {
  readonly entries: { level: 'warn' | 'error'; message: string; details: unknown }[];
}

export function recordingClientLogger(): RecordingClientLogger {
  const entries: RecordingClientLogger['entries'] = [];
  return {
    entries,
    warn: (details, message = '') => entries.push({ level: 'warn', message, details }),
    error: (details, message = '') => entries.push({ level: 'error', message, details }),
  };
}

interface Observable {
  readonly state: ClientState;
  onStateChange(listener: (change: StateChange) => void): () => void;
}

/** Every state change of a client from now on, in order; `stop()` unsubscribes. */
export function recordStates(client: Observable): StateChange[] & { stop: () => void } {
  const changes: StateChange[] = [];
  const stop = client.onStateChange((change) => changes.push(change));
  return Object.assign(changes, { stop });
}

/**
 * Resolves with the next change into `state` (register it before the action that causes it), or
 * rejects after `timeoutMs`: no wait in a test is unbounded.
 */
export function nextState(client: Observable, state: ClientState, timeoutMs = 10_000): Promise<StateChange> {
  return new Promise<StateChange>((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`client did not reach state ${state} within ${timeoutMs} ms (it is ${client.state})`));
    }, timeoutMs);
    const stop = client.onStateChange((change) => {
      if (change.state !== state) return;
      clearTimeout(timer);
      stop();
      resolve(change);
    });
  });
}

/** How a promise settled, for assertions over many calls. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; code: string; error: unknown };

export function outcomeOf<T>(promise: Promise<T>): Promise<Outcome<T>> {
  return promise.then(
    (value) => ({ ok: true, value }),
    (error: unknown) => ({ ok: false, code: isWirecallError(error) ? error.code : 'NOT_A_WIRECALL_ERROR', error }),
  );
}

/**
 * The outcome of `promise`, or `'hung'` if it has not settled within `limitMs`: proves that a call
 * settles without waiting forever for one that does not.
 */
export async function settleWithin<T>(promise: Promise<T>, limitMs: number): Promise<Outcome<T> | 'hung'> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), limitMs)));
  try {
    return await Promise.race([outcomeOf(promise), hung]);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether `promise` has settled by the next turn of the event loop: "rejects at once" without a clock. */
export async function settledNow<T>(promise: Promise<T>): Promise<Outcome<T> | 'pending'> {
  const pending = new Promise<'pending'>((resolve) => setImmediate(() => resolve('pending')));
  return Promise.race([outcomeOf(promise), pending]);
}

/** A port on 127.0.0.1 that nobody listens on (it was free a moment ago). */
export async function unusedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** `resolved`, the error code, `hung` or `pending`: one word per outcome, for `toContain` checks. */
export function label(outcome: Outcome<unknown> | 'hung' | 'pending'): string {
  if (typeof outcome === 'string') return outcome;
  return outcome.ok ? 'resolved' : outcome.code;
}

/** The backoff schedule as docs/reconnection.md states it, written independently of the client. */
export interface BackoffSchedule {
  minDelayMs: number;
  maxDelayMs: number;
  factor: number;
  jitter: number;
}

/** The cap of attempt `attempt` (1 for the first retry): `min(maxDelayMs, minDelayMs × factor^(n−1))`. */
export function backoffCap(attempt: number, schedule: BackoffSchedule): number {
  return Math.min(schedule.maxDelayMs, schedule.minDelayMs * schedule.factor ** (attempt - 1));
}

/** The delay of attempt `attempt`: the cap minus a random share `jitter` of it, in whole ms. */
export function documentedBackoff(attempt: number, schedule: BackoffSchedule, random: () => number): number {
  return Math.round(backoffCap(attempt, schedule) * (1 - schedule.jitter * random()));
}

/** Makes anything with `close()` (a client, a server) closable by `await using`. */
export function closing<T extends { close(): Promise<void> }>(resource: T): T & AsyncDisposable {
  return Object.assign(resource, { [Symbol.asyncDispose]: () => resource.close() });
}
