/**
 * A runner of the conformance vectors, in TypeScript on `ws`: the reference implementation of the
 * rules in README.md ("Running the vectors"). The vitest suite uses it against the reference
 * server; `run.ts` runs it against any server from the command line. A runner in another language
 * follows the same rules.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket, { type RawData } from 'ws';

export const CONFORMANCE_DIR = path.dirname(fileURLToPath(import.meta.url));
export const VECTORS_DIR = path.join(CONFORMANCE_DIR, 'vectors');

/** How long an `expect` or `expectClose` waits, unless the step says `within`. */
export const DEFAULT_WAIT_MS = 2_000;
/** The subprotocol offered unless a `connect` step says otherwise. */
const DEFAULT_PROTOCOLS = ['wirecall.v1'];
/** The connection every step acts on unless it says `on`. */
const MAIN = 'main';
/** The connection the `emit` steps use, opened on first use. */
const CONTROL = '$control';

/** One step of a vector; exactly one of the action fields is set (see README.md). */
export interface Step {
  on?: string;
  within?: number;
  send?: unknown;
  sendText?: string;
  sendBinary?: string;
  sendTextBytes?: string;
  repeat?: number;
  expect?: unknown;
  expectClose?: { code: number; reason?: unknown };
  expectNothing?: number;
  connect?: string;
  protocols?: string[];
  expectStatus?: number;
  close?: { code?: number; reason?: string };
  emit?: { event: string; params?: unknown; payload?: unknown; m?: unknown };
  save?: string;
}

export interface Vector {
  name: string;
  doc?: string;
  /** The server profile, served at `/<server>`. @default 'default' */
  server?: string;
  tags?: string[];
  steps: Step[];
  /** Where the vector was read from (file:line), set by {@link loadVectors}. */
  source?: string;
}

const ACTIONS = [
  'send',
  'sendText',
  'sendBinary',
  'sendTextBytes',
  'expect',
  'expectClose',
  'expectNothing',
  'connect',
  'close',
  'emit',
] as const;

/** Reads every `*.jsonl` file of `dir` (one vector per non-empty line), in file-name order. */
export function loadVectors(dir: string = VECTORS_DIR): Vector[] {
  const vectors: Vector[] = [];
  const names = new Set<string>();
  for (const file of readdirSync(dir)
    .filter((name) => name.endsWith('.jsonl'))
    .sort()) {
    const lines = readFileSync(path.join(dir, file), 'utf8').split('\n');
    lines.forEach((line, index) => {
      if (line.trim() === '') return;
      const source = `${file}:${index + 1}`;
      let vector: Vector;
      try {
        vector = JSON.parse(line) as Vector;
      } catch (error) {
        throw new Error(`${source}: not JSON (${(error as Error).message})`, { cause: error });
      }
      const problem = checkVector(vector);
      if (problem !== undefined) throw new Error(`${source}: ${problem}`);
      if (names.has(vector.name)) throw new Error(`${source}: the name ${vector.name} is taken`);
      names.add(vector.name);
      vectors.push({ ...vector, source });
    });
  }
  return vectors;
}

/** What is wrong with a vector's shape, or undefined. */
function checkVector(vector: Vector): string | undefined {
  if (typeof vector !== 'object' || vector === null) return 'a vector is an object';
  if (typeof vector.name !== 'string' || vector.name === '') return 'a vector needs a name';
  if (!Array.isArray(vector.steps) || vector.steps.length === 0)
    return `${vector.name}: steps must be a non-empty array`;
  for (const [index, step] of vector.steps.entries()) {
    const actions = ACTIONS.filter((action) => action in step);
    if (actions.length !== 1)
      return `${vector.name}: step ${index + 1} needs exactly one action, has [${actions.join(', ')}]`;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Variables and patterns

export type Variables = Map<string, unknown>;

/** Replaces `"${name}"` (the whole string: any JSON value) and `${name}` inside strings (its text). */
export function substitute(value: unknown, vars: Variables): unknown {
  if (typeof value === 'string') {
    const whole = /^\$\{([A-Za-z0-9_]+)\}$/.exec(value);
    if (whole) return lookup(vars, whole[1]!);
    return value.replace(/\$\{([A-Za-z0-9_]+)\}/g, (_match, name: string) => {
      const found = lookup(vars, name);
      if (typeof found !== 'string' && typeof found !== 'number') {
        throw new Error(`variable ${name} is not a string or a number and cannot go inside a string`);
      }
      return String(found);
    });
  }
  if (Array.isArray(value)) return value.map((item) => substitute(item, vars));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      Object.defineProperty(out, key, { value: substitute(item, vars), enumerable: true, writable: true });
    }
    return out;
  }
  return value;
}

function lookup(vars: Variables, name: string): unknown {
  if (!vars.has(name)) throw new Error(`variable ${name} is not set`);
  return vars.get(name);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** JSON equality: same types, same keys (in any order), same items. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((item, i) => jsonEqual(item, b[i]));
  if (isRecord(a) && isRecord(b)) {
    const keys = Object.keys(a);
    return (
      keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && jsonEqual(a[key], b[key]))
    );
  }
  return false;
}

const TYPE_CHECKS: Record<string, (value: unknown) => boolean> = {
  $any: (value) => value !== undefined,
  $string: (value) => typeof value === 'string',
  $number: (value) => typeof value === 'number',
  $integer: (value) => Number.isSafeInteger(value),
  $boolean: (value) => typeof value === 'boolean',
  $object: isRecord,
  $array: Array.isArray,
};

/**
 * Matches a received value against a pattern (README.md, "Patterns"). Returns undefined on a match
 * (and records `$save:` captures in `vars`), or a description of the first difference. Inside
 * `{"$exact": pattern}`, objects may hold no member the pattern does not name.
 */
export function match(pattern: unknown, actual: unknown, vars: Variables, at = '$', exact = false): string | undefined {
  const differs = (): string => `${at}: expected ${JSON.stringify(pattern)}, got ${describe(actual)}`;
  if (typeof pattern === 'string' && pattern.startsWith('$')) {
    if (pattern.startsWith('$$')) return actual === pattern.slice(1) ? undefined : differs();
    if (pattern === '$absent') return actual === undefined ? undefined : differs();
    if (pattern.startsWith('$save:')) {
      if (actual === undefined) return differs();
      vars.set(pattern.slice('$save:'.length), actual);
      return undefined;
    }
    const check = TYPE_CHECKS[pattern];
    if (check === undefined) throw new Error(`${at}: unknown placeholder ${pattern}`);
    return check(actual) ? undefined : differs();
  }
  if (Array.isArray(pattern)) {
    if (!Array.isArray(actual) || actual.length !== pattern.length) return differs();
    for (const [index, item] of pattern.entries()) {
      const problem = match(item, actual[index], vars, `${at}[${index}]`, exact);
      if (problem !== undefined) return problem;
    }
    return undefined;
  }
  if (isRecord(pattern)) {
    const keys = Object.keys(pattern);
    if (keys.length === 1 && keys[0] === '$exact') return match(pattern.$exact, actual, vars, at, true);
    if (!isRecord(actual)) return differs();
    for (const key of keys) {
      const problem = match(
        pattern[key],
        Object.hasOwn(actual, key) ? actual[key] : undefined,
        vars,
        `${at}.${key}`,
        exact,
      );
      if (problem !== undefined) return problem;
    }
    if (exact) {
      const extra = Object.keys(actual).find((key) => !Object.hasOwn(pattern, key));
      if (extra !== undefined) return `${at}.${extra}: not expected, got ${describe(actual[extra])}`;
    }
    return undefined;
  }
  return pattern === actual ? undefined : differs();
}

function describe(value: unknown): string {
  return value === undefined ? '(absent)' : JSON.stringify(value);
}

// ---------------------------------------------------------------------------------------------
// Connections

/** A received frame: a text frame's JSON (or `{"$text": ...}` if it is not JSON), a binary frame's header plus `$body`. */
type Received = Record<string, unknown>;

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** A binary frame as the matcher sees it: its header envelope, with the body's base64 in `$body`. */
function binaryFrame(bytes: Buffer): Received {
  if (bytes.length < 4) return { $binary: bytes.toString('base64') };
  const length = bytes.readUInt32BE(0);
  if (bytes.length < 4 + length) return { $binary: bytes.toString('base64') };
  try {
    const header = JSON.parse(bytes.subarray(4, 4 + length).toString('utf8')) as unknown;
    if (isRecord(header)) return { ...header, $body: bytes.subarray(4 + length).toString('base64') };
  } catch {
    // Reported as the raw bytes below.
  }
  return { $binary: bytes.toString('base64') };
}

function textFrame(text: string): Received {
  try {
    const parsed = JSON.parse(text) as unknown;
    if (isRecord(parsed)) return parsed;
  } catch {
    // Reported as text below.
  }
  return { $text: text };
}

class Connection {
  readonly name: string;
  readonly socket: WebSocket;
  readonly frames: Received[] = [];
  /** Frames already matched by a step. */
  read = 0;
  closed: { code: number; reason: string } | undefined;
  readonly #wakers = new Set<() => void>();
  readonly log: string[];

  constructor(name: string, socket: WebSocket, log: string[]) {
    this.name = name;
    this.socket = socket;
    this.log = log;
    socket.on('message', (data: RawData, isBinary: boolean) => {
      const bytes = toBuffer(data);
      const frame = isBinary ? binaryFrame(bytes) : textFrame(bytes.toString('utf8'));
      this.frames.push(frame);
      this.log.push(`${name} <- ${JSON.stringify(frame)}`);
      this.#wake();
    });
    socket.on('close', (code: number, reason: Buffer) => {
      this.closed = { code, reason: reason.toString('utf8') };
      this.log.push(`${name} <- close ${code} ${JSON.stringify(this.closed.reason)}`);
      this.#wake();
    });
    socket.on('error', () => {
      // 'close' follows.
    });
  }

  get unread(): Received[] {
    return this.frames.slice(this.read);
  }

  /** Resolves when `ready()` is true, or with false after `ms`. */
  wait(ready: () => boolean, ms: number): Promise<boolean> {
    if (ready()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waker = (): void => {
        if (!ready()) return;
        this.#wakers.delete(waker);
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.#wakers.delete(waker);
        resolve(ready());
      }, ms);
      this.#wakers.add(waker);
    });
  }

  send(data: string | Buffer, binary: boolean): void {
    this.log.push(`${this.name} -> ${binary ? `binary ${data.toString('base64')}` : String(data)}`);
    // The server may have closed the socket already; what it did is what the next steps check.
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(data, { binary }, () => {});
  }

  #wake(): void {
    for (const waker of [...this.#wakers]) waker();
  }
}

/** Opens a socket; resolves with it, or with the HTTP status that refused the upgrade. */
function open(url: string, protocols: string[]): Promise<WebSocket | { status: number }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, protocols, { perMessageDeflate: false });
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error(`no answer to the upgrade of ${url} within ${DEFAULT_WAIT_MS} ms`));
    }, DEFAULT_WAIT_MS);
    socket.once('open', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('unexpected-response', (_request, response) => {
      clearTimeout(timer);
      response.resume();
      resolve({ status: response.statusCode ?? 0 });
      socket.terminate();
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Running a vector

export interface RunOptions {
  /** The server's base URL, `ws://host:port`; a profile is at `<baseUrl>/<profile>`. */
  baseUrl: string;
  /** The conformance contract's fingerprint (variable `fp`). */
  fingerprint: string;
  /** The value of variable `run`. @default 8 random characters */
  run?: string;
}

/** Thrown when a vector fails: the step, what differed, and the transcript of the connection(s). */
export class VectorFailure extends Error {}

/**
 * Runs one vector over real sockets. Resolves with the transcript when every step passed and no
 * connection holds a frame no step read; rejects with a {@link VectorFailure} otherwise. Closes every socket it opened.
 */
export async function runVector(vector: Vector, options: RunOptions): Promise<{ transcript: string[] }> {
  const vars: Variables = new Map<string, unknown>([
    ['fp', options.fingerprint],
    ['run', options.run ?? Math.random().toString(36).slice(2, 10).padEnd(8, '0')],
  ]);
  const log: string[] = [];
  const connections = new Map<string, Connection>();
  const profile = vector.server ?? 'default';
  let emits = 0;

  const fail = (index: number, message: string): never => {
    throw new VectorFailure(
      `${vector.name} (${vector.source ?? '?'}), step ${index + 1}: ${message}\n  transcript:\n    ${log.join('\n    ')}`,
    );
  };

  const connect = async (index: number, name: string, step: Step): Promise<void> => {
    const url = `${options.baseUrl}/${profile}`;
    const opened = await open(url, step.protocols ?? DEFAULT_PROTOCOLS).catch((error: unknown) =>
      fail(index, `could not connect to ${url}: ${(error as Error).message}`),
    );
    if ('status' in opened) {
      log.push(`${name}: upgrade refused with HTTP ${opened.status}`);
      if (step.expectStatus === opened.status) return;
      return fail(index, `the upgrade was refused with HTTP ${opened.status}`);
    }
    if (step.expectStatus !== undefined) {
      opened.terminate();
      return fail(index, `expected the upgrade to be refused with HTTP ${step.expectStatus}, it was accepted`);
    }
    log.push(`${name}: connected to ${url} (${opened.protocol})`);
    connections.get(name)?.socket.terminate();
    connections.set(name, new Connection(name, opened, log));
  };

  const expectFrame = async (index: number, conn: Connection, pattern: unknown, within: number): Promise<void> => {
    await conn.wait(() => conn.unread.length > 0 || conn.closed !== undefined, within);
    const frame = conn.unread[0];
    if (frame === undefined) {
      return fail(
        index,
        conn.closed
          ? `expected ${JSON.stringify(pattern)} on ${conn.name}, the socket closed (${conn.closed.code}) instead`
          : `expected ${JSON.stringify(pattern)} on ${conn.name}, nothing arrived within ${within} ms`,
      );
    }
    const problem = match(pattern, frame, vars);
    if (problem !== undefined)
      return fail(index, `frame ${JSON.stringify(frame)} on ${conn.name} does not match: ${problem}`);
    conn.read++;
  };

  const control = async (index: number): Promise<Connection> => {
    const existing = connections.get(CONTROL);
    if (existing !== undefined) return existing;
    await connect(index, CONTROL, {});
    const conn = connections.get(CONTROL)!;
    conn.send(JSON.stringify({ t: 'hello', fp: options.fingerprint }), false);
    await expectFrame(index, conn, { t: 'welcome' }, DEFAULT_WAIT_MS);
    return conn;
  };

  try {
    await connect(-1, MAIN, {});
    for (const [index, step] of vector.steps.entries()) {
      const name = step.on ?? MAIN;
      const within = step.within ?? DEFAULT_WAIT_MS;
      const conn = (): Connection => connections.get(name) ?? fail(index, `no connection named ${name}`);
      if (step.connect !== undefined) {
        await connect(index, step.connect, step);
      } else if (step.send !== undefined) {
        const text = JSON.stringify(substitute(step.send, vars));
        for (let i = 0; i < (step.repeat ?? 1); i++) conn().send(text, false);
      } else if (step.sendText !== undefined) {
        const text = substitute(step.sendText, vars) as string;
        for (let i = 0; i < (step.repeat ?? 1); i++) conn().send(text, false);
      } else if (step.sendBinary !== undefined) {
        const bytes = Buffer.from(step.sendBinary, 'base64');
        for (let i = 0; i < (step.repeat ?? 1); i++) conn().send(bytes, true);
      } else if (step.sendTextBytes !== undefined) {
        const bytes = Buffer.from(step.sendTextBytes, 'base64');
        for (let i = 0; i < (step.repeat ?? 1); i++) conn().send(bytes, false);
      } else if (step.expect !== undefined) {
        await expectFrame(index, conn(), substitute(step.expect, vars), within);
      } else if (step.expectClose !== undefined) {
        const c = conn();
        await c.wait(() => c.unread.length > 0 || c.closed !== undefined, within);
        if (c.unread.length > 0) fail(index, `expected a close on ${name}, got ${JSON.stringify(c.unread[0])}`);
        if (c.closed === undefined)
          fail(index, `expected a close on ${name}, the socket is still open after ${within} ms`);
        const expected = substitute(step.expectClose, vars) as { code: number; reason?: unknown };
        if (c.closed!.code !== expected.code)
          fail(index, `expected close code ${expected.code}, got ${c.closed!.code}`);
        if (expected.reason !== undefined) {
          const problem = match(expected.reason, c.closed!.reason, vars, 'reason');
          if (problem !== undefined) fail(index, `close reason ${JSON.stringify(c.closed!.reason)}: ${problem}`);
        }
      } else if (step.expectNothing !== undefined) {
        const c = conn();
        await c.wait(() => c.unread.length > 0 || c.closed !== undefined, step.expectNothing);
        if (c.unread.length > 0) fail(index, `expected nothing on ${name}, got ${JSON.stringify(c.unread[0])}`);
        if (c.closed !== undefined) fail(index, `expected nothing on ${name}, the socket closed (${c.closed.code})`);
      } else if (step.close !== undefined) {
        const c = conn();
        if (c.closed === undefined) {
          c.log.push(`${name} -> close ${step.close.code ?? 1000}`);
          c.socket.close(step.close.code ?? 1000, step.close.reason ?? '');
          if (!(await c.wait(() => c.closed !== undefined, within))) c.socket.terminate();
        }
        connections.delete(name);
      } else if (step.emit !== undefined) {
        const c = await control(index);
        const { m, ...input } = substitute(step.emit, vars) as Record<string, unknown>;
        const id = `emit-${++emits}`;
        c.send(
          JSON.stringify({ t: 'call', id, p: 'control.emit', v: input, ...(m === undefined ? {} : { m }) }),
          false,
        );
        await expectFrame(
          index,
          c,
          { t: 'result', id, v: step.save === undefined ? '$string' : `$save:${step.save}` },
          within,
        );
      }
    }
    for (const conn of connections.values()) {
      if (conn.unread.length > 0) {
        fail(
          vector.steps.length - 1,
          `${conn.name} received a frame no step expected: ${JSON.stringify(conn.unread[0])}`,
        );
      }
    }
    return { transcript: log };
  } finally {
    await Promise.all(
      [...connections.values()].map(async (conn) => {
        if (conn.closed !== undefined) return;
        conn.socket.close(1000);
        if (!(await conn.wait(() => conn.closed !== undefined, 500))) conn.socket.terminate();
      }),
    );
  }
}
