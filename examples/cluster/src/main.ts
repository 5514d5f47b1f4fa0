/**
 * The cluster demo: three nodes (src/node.ts) sharing one Redis, and one client whose `url` lists all
 * three. Events are emitted from random nodes; midway, the node the client is on is killed with
 * SIGKILL. The client moves to another node and resumes each stream after the last event it saw:
 * the events emitted while it was away come from the history in Redis. At the end it checks that
 * it got every event exactly once and in order, prints a summary, and exits 0 (1 if anything was
 * wrong).
 *
 * The client is also alice, present in the lobby's presence, and a second client, bob, is present
 * from another node: each sees the other join and type. When alice's node is killed, she moves to
 * another node without bob ever seeing her leave, even once her entry on the dead node runs out.
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
import { presence, type Presence, type PresenceChange } from '@wirecall/client/presence';
import { Redis } from 'ioredis';
import { api, type Api, type Member } from './contract.js';

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
/** The room whose presence alice and bob are in. */
const LOBBY = { room: 'lobby' };
/** Limit for each presence step: seeing a join or an update, or a dead node's entry running out. */
const PRESENCE_TIMEOUT_MS = 10_000;
/** How often main asks a node for alice's connections, while the dead node's entry runs out. */
const POLL_EVERY_MS = 100;
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

/** Asks `test` again and again until it says yes; rejects after `ms`. */
async function poll(test: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  let waiting = true;
  const answered = (async () => {
    while (waiting && !(await test())) await sleep(POLL_EVERY_MS);
  })();
  try {
    await within(answered, ms, what);
  } finally {
    waiting = false; // a loop that ran out of time stops too
  }
}

/**
 * One user in the lobby's presence: joins it with the node it is on and whether it is typing, and
 * prints what changes for the others (`[bob] alice is typing…`). `seen` keeps those changes, in
 * order, for the checks at the end.
 */
class LobbyMember {
  readonly user: string;
  readonly room: Presence<Member, Member>;
  readonly seen: { type: 'join' | 'update' | 'leave'; key: string; data?: Member }[] = [];
  /** The others' data as of the previous change: what an update is compared with to print it. */
  readonly #known = new Map<string, Member>();
  #data: Member | undefined;

  constructor(user: string, client: WirecallClient<Api>) {
    this.user = user;
    this.room = client.presence('news', LOBBY, {
      onError: (error) => console.error(`[${user}] lobby presence: ${error.message}`),
    });
    this.room.subscribe((change) => this.#changed(change));
  }

  join(node: string): void {
    this.#set({ node, typing: false });
  }

  /**
   * Tells the others the node this user is on now. (After a reconnect the client is back in the
   * lobby on its own, with its last data: only the node is new. Before joining, there is no one to tell.)
   */
  movedTo(node: string): void {
    if (this.#data !== undefined) this.#set({ ...this.#data, node });
  }

  typing(typing: boolean): void {
    if (this.#data !== undefined) this.#set({ ...this.#data, typing });
  }

  /** What this user sees of `key`'s data, if `key` is in the lobby. */
  sees(key: string): Member | undefined {
    return this.room.members.get(key)?.data;
  }

  /** Who is in the lobby, as this user sees it: `alice (on node-1), bob (on node-3)`. */
  online(): string {
    return [...this.room.members.values()]
      .sort((a, b) => a.key.localeCompare(b.key))
      .map((member) => `${member.key} (on ${member.data.node})`)
      .join(', ');
  }

  /** Resolves once `test` holds, checked now and after every change; rejects after the presence limit. */
  async until(test: () => boolean, what: string): Promise<void> {
    let stop = (): void => {};
    const met = new Promise<void>((resolve) => {
      stop = this.room.subscribe(() => {
        if (test()) resolve();
      });
      if (test()) resolve();
    });
    try {
      await within(met, PRESENCE_TIMEOUT_MS, what);
    } finally {
      stop();
    }
  }

  /** Joining again updates: the others see an `update`, not a leave and a join. */
  #set(data: Member): void {
    this.#data = data;
    this.room.join(data);
  }

  #changed(change: PresenceChange<Member>): void {
    if (change.type === 'sync') {
      // Every (re)connect lists the lobby anew: later updates are compared with that list.
      this.#known.clear();
      for (const member of this.room.members.values()) this.#known.set(member.key, member.data);
      return;
    }
    const key = change.type === 'leave' ? change.key : change.member.key;
    if (key === this.room.me) return; // the user's own joins and updates are no news to it
    if (change.type === 'leave') {
      this.#known.delete(key);
      this.seen.push({ type: 'leave', key });
      this.#say(`${key} left the lobby`);
      return;
    }
    const { data } = change.member;
    const before = this.#known.get(key);
    this.#known.set(key, data);
    this.seen.push({ type: change.type, key, data });
    if (change.type === 'join') {
      this.#say(`${key} joined the lobby (on ${data.node})`);
      return;
    }
    if (data.node !== before?.node) this.#say(`${key} is now on ${data.node}, still in the lobby: no leave, no join`);
    if (data.typing !== before?.typing) this.#say(data.typing ? `${key} is typing…` : `${key} stopped typing`);
  }

  #say(line: string): void {
    console.log(`[${this.user}] ${line}`);
  }
}

/** Whether `viewer` saw `key` start typing and then stop. */
function sawTyping(viewer: LobbyMember, key: string): boolean {
  const flags = viewer.seen.flatMap((change) => (change.key === key && change.data ? [change.data.typing] : []));
  const started = flags.indexOf(true);
  return started !== -1 && flags.includes(false, started + 1);
}

/** alice (the client) and bob, each present in the lobby from a node of their own. */
class LobbyDemo {
  readonly alice: LobbyMember;
  readonly bob: LobbyMember;
  readonly bobNode: string;
  /** An admin client of bob's node: reads what that node counts of the lobby's members. */
  readonly admin: WirecallClient<Api>;

  constructor(parts: { alice: LobbyMember; bob: LobbyMember; bobNode: string; admin: WirecallClient<Api> }) {
    this.alice = parts.alice;
    this.bob = parts.bob;
    this.bobNode = parts.bobNode;
    this.admin = parts.admin;
  }

  /** They meet in the lobby, on two nodes; bob types, and alice sees it. */
  async meet(aliceNode: string): Promise<void> {
    const { alice, bob } = this;
    console.log(
      `[main] the client is alice, in the lobby from ${aliceNode}; bob, a second client, is on ${this.bobNode} only`,
    );
    // bob observes first, so that alice's join reaches him as a join (not in his first list).
    await bob.until(() => bob.room.me !== undefined, 'bob observing the lobby');
    bob.join(this.bobNode);
    alice.join(aliceNode);
    for (const member of [alice, bob]) {
      await member.until(() => member.room.members.size === 2, `${member.user} seeing alice and bob in the lobby`);
    }
    console.log(`[bob] online in lobby: ${bob.online()}`);
    bob.typing(true);
    await alice.until(() => alice.sees('bob')?.typing === true, 'alice seeing bob type');
    bob.typing(false);
    await alice.until(() => alice.sees('bob')?.typing === false, 'alice seeing bob stop typing');
  }

  /**
   * After alice lost her node `from` and moved to another one: bob still sees her, on the new node. Her entry on the dead
   * node stays in Redis until its lease runs out (no node is left to remove it), which is when a
   * wrong leave would be announced: wait for that, then let alice type. Presence notices reach every
   * node in the order Redis made them, so once bob sees her typing, any leave announced before would
   * have reached him too.
   */
  async afterMove(from: string): Promise<void> {
    const { alice, bob } = this;
    const moved = (): boolean => {
      const node = bob.sees('alice')?.node;
      return node !== undefined && node !== from;
    };
    await bob.until(moved, `bob seeing alice move off ${from}`);
    await poll(
      async () => (await this.admin.call.connections(LOBBY)).alice === 1,
      PRESENCE_TIMEOUT_MS,
      `alice's entry on ${from} running out`,
    );
    console.log(`[main] ${this.bobNode} counts 1 connection for alice: her entry on ${from} ran out with its lease`);
    alice.typing(true);
    await bob.until(() => bob.sees('alice')?.typing === true, 'bob seeing alice type');
    alice.typing(false);
    await bob.until(() => bob.sees('alice')?.typing === false, 'bob seeing alice stop typing');
    console.log(`[bob] online in lobby: ${bob.online()}`);
  }

  /**
   * Prints what bob saw of alice, who was on the nodes `visited`: one join, no leave, her moves as
   * updates; and typing seen both ways. Returns whether all of it was so.
   */
  report(visited: readonly string[], stepsOk: boolean): boolean {
    const aboutAlice = this.bob.seen.filter((change) => change.key === 'alice');
    const joins = aboutAlice.filter((change) => change.type === 'join').length;
    const leaves = aboutAlice.filter((change) => change.type === 'leave').length;
    // The nodes bob saw alice on, in order (an update that left her node as it was is not a move).
    const path = aboutAlice
      .flatMap((change) => (change.data ? [change.data.node] : []))
      .filter((node, index, nodes) => node !== nodes[index - 1]);
    const typing = sawTyping(this.alice, 'bob') && sawTyping(this.bob, 'alice');
    const ok = stepsOk && joins === 1 && leaves === 0 && visited.length > 1 && path.join() === visited.join() && typing;
    console.log(
      ok
        ? `[main] presence: bob saw alice join once and never leave while she moved ${path.join(' -> ')}; typing seen across nodes`
        : `[main] presence FAILED: bob saw alice join ${joins} times and leave ${leaves} times, on ` +
            `${path.join(' -> ') || 'no node'} (she was on ${visited.join(' -> ')}); typing seen across nodes: ${typing}`,
    );
    return ok;
  }
}

/** Runs a step of the presence demo: a failure is printed, and makes the presence part fail. */
async function step(body: () => Promise<void>): Promise<boolean> {
  try {
    await body();
    return true;
  } catch (error) {
    console.error(`[main] ${(error as Error).message}`);
    return false;
  }
}

async function run(nodes: Node[]): Promise<boolean> {
  const urls = await within(Promise.all(nodes.map((node) => node.url)), START_TIMEOUT_MS, 'starting the nodes');

  // The subscriber: one client, every node's URL. A failed attempt moves to the next URL.
  // Half jitter: the first retry waits 200-400 ms, long enough for a few events to be emitted while the
  // client is away. (With many clients keep the default full jitter, which spreads their retries.)
  const client = createClient(api, {
    url: urls,
    // The subscriber is also alice, present in the lobby as herself whichever node she is on.
    connectionParams: { user: 'alice' },
    presence,
    reconnect: { minDelayMs: 400, maxDelayMs: 2_000, jitter: 0.5 },
  });
  const alice = new LobbyMember('alice', client);
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
        alice.movedTo(name);
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
  const aliceNode = await within(client.call.whoami(null), START_TIMEOUT_MS, 'connecting the client');

  // The emitters: one admin client per node, so each event is emitted by the node main picks. (They
  // take `presence` because the contract's types ask for it; they never use it.)
  const publishers = new Map<string, WirecallClient<Api>>(
    nodes.map((node, index) => [node.name, createClient(api, { url: urls[index]!, presence, reconnect: false })]),
  );
  // bob, on one node only: two after alice's, so that alice, who moves to the next URL when she loses
  // her node, moves to the third one and the two stay on different nodes.
  const bobIndex = (nodes.findIndex((node) => node.name === aliceNode) + 2) % nodes.length;
  const bobNode = nodes[bobIndex]!.name;
  const bobClient = createClient(api, { url: urls[bobIndex]!, connectionParams: { user: 'bob' }, presence });
  const lobby = new LobbyDemo({
    alice,
    bob: new LobbyMember('bob', bobClient),
    bobNode,
    admin: publishers.get(bobNode)!,
  });
  const met = await step(() => lobby.meet(aliceNode));
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
  const moved = met && (await step(() => lobby.afterMove(killed!)));
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
  // Out of the lobby before the clients close: the leaves that closing announces are not the demo's.
  lobby.bob.room.close();
  alice.room.close();
  await bobClient.close();
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
  return lobby.report(visited, moved) && ok;
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
