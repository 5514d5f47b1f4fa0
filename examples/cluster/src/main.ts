/**
 * The cluster demo: three nodes (src/node.ts) sharing one Redis, and one client whose `url` lists all
 * three. Events are emitted from random nodes; midway, the node the client is on is killed with
 * SIGKILL. The client moves to another node and resumes each stream after the last event it saw:
 * the events emitted while it was away come from the history in Redis. At the end it checks that
 * it got every event exactly once and in order, prints a summary, and exits 0 (1 if anything was
 * wrong).
 *
 *   redis-server --daemonize yes    (if no Redis runs yet; REDIS_URL points elsewhere)
 *   npm start                       (from examples/cluster, once the packages are built)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { createClient, type WirecallClient } from '@wirecall/client';
import { Redis } from 'ioredis';
import { api, type Api } from './contract.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const NODES = ['node-1', 'node-2', 'node-3'];
const ROOMS = ['lobby', 'launches'];
const EVENTS = 40;
/** The node the client is on is killed after this many events. */
const KILL_AFTER = 15;
/** Pause between two emits, so the stream goes on while the client reconnects. */
const EMIT_EVERY_MS = 20;
/** Limits, so a broken run ends instead of hanging. */
const START_TIMEOUT_MS = 15_000;
const DELIVERY_TIMEOUT_MS = 15_000;
/** Keys of this run only: several runs can share one Redis. */
const PREFIX = `wirecall-example-${process.pid}-${Date.now()}`;

/** A tiny seeded PRNG (mulberry32), so every run picks the same nodes and rooms. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
const pick = random(42);
const pickFrom = <T>(items: readonly T[]): T => items[Math.floor(pick() * items.length)]!;

/** A plain Redis connection that gives up at once: for the check at start and the cleanup at the end. */
function adminConnection(): Redis {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => {}); // surfaced by the rejected commands
  return redis;
}

async function redisAnswers(): Promise<boolean> {
  const redis = adminConnection();
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

async function deleteRunKeys(): Promise<void> {
  const redis = adminConnection();
  try {
    await redis.connect();
    let cursor = '0';
    for (let round = 0; round < 1_000; round++) {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${PREFIX}:*`, 'COUNT', 1_000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
      if (cursor === '0') break;
    }
  } finally {
    redis.disconnect();
  }
}

/** A node in a child process, its output relayed with its name. */
class Node {
  readonly name: string;
  readonly process: ChildProcess;
  readonly url: Promise<string>;
  readonly exited: Promise<void>;

  constructor(name: string) {
    this.name = name;
    const script = fileURLToPath(new URL('./node.ts', import.meta.url));
    // The same Node flags as this process: the tsx loader (and, in the repository, the condition that
    // picks the workspace sources).
    this.process = spawn(process.execPath, [...process.execArgv, script], {
      env: { ...process.env, NODE_NAME: name, PORT: '0', REDIS_URL, WIRECALL_PREFIX: PREFIX },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let onUrl: (url: string) => void = () => {};
    this.url = new Promise<string>((resolve) => (onUrl = resolve));
    createInterface({ input: this.process.stdout! }).on('line', (line) => {
      console.log(`[${name}] ${line}`);
      const url = /^listening (ws:\/\/\S+)$/.exec(line)?.[1];
      if (url) onUrl(url);
    });
    createInterface({ input: this.process.stderr! }).on('line', (line) => console.error(`[${name}] ${line}`));
    this.exited = once(this.process, 'close').then(() => undefined);
  }

  get running(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  kill(signal: NodeJS.Signals): Promise<void> {
    if (this.running) this.process.kill(signal);
    return this.exited;
  }
}

/** Resolves with `promise`, or rejects after `ms`: every wait of the demo is bounded. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, limit]);
  } finally {
    clearTimeout(timer);
  }
}

async function run(nodes: Node[]): Promise<boolean> {
  const urls = await within(Promise.all(nodes.map((node) => node.url)), START_TIMEOUT_MS, 'starting the nodes');

  // The subscriber: one client, every node's URL. A failed attempt moves to the next URL.
  // Half jitter: the first retry waits 200-400 ms, long enough for a few events to be emitted while the
  // client is away. (With many clients keep the default full jitter, which spreads their retries.)
  const client = createClient(api, { url: urls, reconnect: { minDelayMs: 400, maxDelayMs: 2_000, jitter: 0.5 } });
  let current: string | undefined;
  const visited: string[] = [];
  /** Events emitted while the client had no node: it can only get them from the history in Redis. */
  const whileAway = new Set<string>();
  let away = false;
  let replayed = 0;
  client.onStateChange(({ state, closeCode, delayMs }) => {
    away = state !== 'open';
    if (state === 'reconnecting') {
      console.log(`[client] lost ${current} (close code ${closeCode}), reconnecting in ${delayMs} ms`);
    }
    if (state !== 'open') return;
    client.call.whoami(null).then(
      (name) => {
        current = name;
        visited.push(name);
        console.log(`[client] connected to ${name}`);
      },
      () => {}, // lost again before the answer: the next `open` asks again
    );
  });
  const received = new Map<string, number[]>(ROOMS.map((room) => [room, []]));
  let total = 0;
  let gaps = 0;
  let onAll: () => void = () => {};
  const all = new Promise<void>((resolve) => (onAll = resolve));
  for (const room of ROOMS) {
    client.on(
      'news',
      { room },
      (news) => {
        received.get(room)!.push(news.seq);
        const fromHistory = whileAway.has(`${room}#${news.seq}`);
        if (fromHistory) replayed++;
        const note = fromHistory ? ', emitted while the client was away: replayed from Redis' : '';
        console.log(`[client] ${room} #${news.seq} (emitted by ${news.from}${note}) via ${current}`);
        if (++total >= EVENTS) onAll();
      },
      { onGap: () => gaps++ },
    );
  }
  await within(client.call.whoami(null), START_TIMEOUT_MS, 'connecting the client');

  // The emitters: one admin client per node, so each event is emitted by the node main picks.
  const publishers = new Map<string, WirecallClient<Api>>(
    nodes.map((node, index) => [node.name, createClient(api, { url: urls[index]!, reconnect: false })]),
  );
  const emittedBy = new Map<string, number>(nodes.map((node) => [node.name, 0]));
  const perRoom = new Map<string, number>(ROOMS.map((room) => [room, 0]));
  const live = [...nodes];
  let killed: string | undefined;
  for (let event = 1; event <= EVENTS; event++) {
    if (event === KILL_AFTER + 1) {
      const victim = live.find((node) => node.name === current) ?? live[0]!;
      console.log(`[main] killing ${victim.name} (SIGKILL), the node the client is on, mid-stream`);
      live.splice(live.indexOf(victim), 1);
      await victim.kill('SIGKILL');
      await publishers.get(victim.name)!.close();
      killed = victim.name;
      away = true; // from now on until the client is welcomed by another node
    }
    const node = pickFrom(live);
    const room = pickFrom(ROOMS);
    const seq = perRoom.get(room)! + 1;
    await publishers.get(node.name)!.call.publish({ room, seq });
    if (away) whileAway.add(`${room}#${seq}`);
    perRoom.set(room, seq);
    emittedBy.set(node.name, emittedBy.get(node.name)! + 1);
    await sleep(EMIT_EVERY_MS);
  }

  const complete = await within(all, DELIVERY_TIMEOUT_MS, 'receiving every event').then(
    () => true,
    (error: Error) => (console.error(`[main] ${error.message}`), false),
  );
  // Every room's events exactly once, in order: seq 1, 2, 3, … with nothing missing or repeated.
  let missing = 0;
  let duplicated = 0;
  let outOfOrder = 0;
  for (const [room, seqs] of received) {
    const seen = new Set<number>();
    seqs.forEach((seq, index) => {
      if (seen.has(seq)) duplicated++;
      else if (index > 0 && seq < seqs[index - 1]!) outOfOrder++;
      seen.add(seq);
    });
    for (let seq = 1; seq <= perRoom.get(room)!; seq++) if (!seen.has(seq)) missing++;
  }
  await client.close();
  for (const publisher of publishers.values()) await publisher.close();

  const shares = [...emittedBy].map(([name, count]) => `${name}: ${count}`).join(', ');
  console.log(
    `[main] summary: ${EVENTS} events emitted from ${nodes.length} nodes (${shares}); ${killed} killed after event ${KILL_AFTER}`,
  );
  console.log(
    `[main] the client was on ${visited.join(' -> ')} and received ${total}/${EVENTS} events: ` +
      `${missing} missing, ${duplicated} duplicated, ${outOfOrder} out of order, ${gaps} gaps; ` +
      `${replayed} of them were emitted while it was away and replayed from the history in Redis`,
  );
  const ok =
    complete &&
    total === EVENTS &&
    missing + duplicated + outOfOrder + gaps === 0 &&
    new Set(visited).size > 1 &&
    replayed === whileAway.size;
  console.log(ok ? '[main] OK: every event arrived exactly once, in order' : '[main] FAILED');
  return ok;
}

if (!(await redisAnswers())) {
  console.error(
    `[main] Redis is not reachable at ${REDIS_URL}. Start one with \`redis-server --daemonize yes\`, or set REDIS_URL.`,
  );
  process.exit(1);
}
const nodes = NODES.map((name) => new Node(name));
let ok = false;
try {
  ok = await run(nodes);
} catch (error) {
  console.error(`[main] ${(error as Error).message}`);
} finally {
  // The survivors shut down gracefully; then this run's keys go.
  await Promise.all(nodes.map((node) => node.kill('SIGTERM')));
  await deleteRunKeys();
}
process.exitCode = ok ? 0 : 1;
