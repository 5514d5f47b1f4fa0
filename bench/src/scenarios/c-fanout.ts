/**
 * C: fan-out of one event stream to 200 clients in 2 client processes. The server emits N events
 * in batches, yielding to the event loop (setImmediate) after each batch so the sockets drain;
 * each client counts every event by its sequence number. Reports delivered events/s: deliveries /
 * (last delivery - first emit), checks that every client got every event exactly once, and the
 * CPU time per delivery of the server process(es) and of the client processes.
 *
 * Four lines: two patterns, `paced` (one event per event-loop turn, the way events usually arrive:
 * a chat message, a price tick) and `burst` (10 per turn, where writing a burst in one system call
 * dominates); two payloads, `{ seq, at }` with `at` a Date (the emitter's `new Date()`) or a number
 * (`Date.now()`). Each client checks that `at` arrived with its peer's type (see payloads.ts).
 *
 * The first emit and the last delivery happen in different processes; both read
 * `process.hrtime.bigint()`, the system-wide monotonic clock (CLOCK_MONOTONIC on Linux).
 */
import { HOST, sleep, waitUntil, withChildren, type Child } from '../harness.js';
import { isInstantType, now, type ArrivesAs } from '../peers/payloads.js';
import {
  PAYLOAD_LABELS,
  PEER_NAMES,
  type BenchClient,
  type BenchServer,
  type BrokerReceived,
  type Payload,
  type Tick,
} from '../peers/types.js';
import { seconds } from '../stats.js';
import { JOB_TIMEOUT_MS, profileWindow, type Pattern, type RunResult, type Scenario } from './types.js';

export interface EmitArgs {
  base: number;
  count: number;
  /** Events per event-loop turn: 1 is the paced pattern, 10 the burst. */
  batch: number;
  /** What `at` is (default `numbers`). */
  payload?: Payload;
  /**
   * The isolation curve: emit at this many events per second, one per turn, each at its time
   * (`batch` is then ignored); an emitter behind its schedule emits one per turn until it catches up.
   */
  ratePerSec?: number;
  /**
   * Scenario E: emit each tick to every one of this many rooms (`r0`, `r1`, ...) instead of the
   * one `tick` stream; a batch is then `batch` ticks times the rooms.
   */
  rooms?: number;
}

/** Scenario E's partitioning: rooms and the nodes they are spread over. */
export interface RoomPlan {
  rooms: number;
  nodes: number;
}

export const roomName = (room: number): string => `r${room}`;

/**
 * The room of the client with global index `index` (clients go round-robin over the nodes: client
 * g connects to node g % nodes). Node i's partition is the rooms r with r % nodes === i; its
 * clients take turns over them, so every client of node i is in a room of partition i only.
 */
export function roomOf(index: number, { rooms, nodes }: RoomPlan): number {
  const node = index % nodes;
  const perNode = rooms / nodes;
  return node + nodes * (Math.floor(index / nodes) % perNode);
}

export interface EmitReport {
  firstEmitNs: bigint;
  lastEmitNs: bigint;
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

/** Server side: emits ticks `base .. base + count - 1`, `batch` at a time, yielding between batches. */
export async function emitTicks(server: BenchServer, args: EmitArgs): Promise<EmitReport> {
  const { base, count, batch, rooms, payload = 'numbers', ratePerSec } = args;
  if (ratePerSec !== undefined) return emitAtRate(server, args, ratePerSec);
  const roomNames = rooms === undefined ? [] : Array.from({ length: rooms }, (_, room) => roomName(room));
  const emitRoomTick = server.emitRoomTick?.bind(server);
  if (rooms !== undefined && emitRoomTick === undefined) throw new Error('this peer has no rooms');
  const firstEmitNs = process.hrtime.bigint();
  for (let i = 0; i < count;) {
    if (batch === 1 && rooms === undefined) {
      // Paced: one event, awaited when the emit is asynchronous, then the next turn.
      const result = server.emitTick({ seq: base + i++, at: now(payload) });
      if (result !== undefined) await result;
      await nextTurn();
      continue;
    }
    const accepted: Promise<unknown>[] = [];
    for (const end = Math.min(count, i + batch); i < end; i++) {
      if (rooms === undefined) {
        const result = server.emitTick({ seq: base + i, at: now(payload) });
        if (result !== undefined) accepted.push(result);
        continue;
      }
      for (const room of roomNames) {
        const result = emitRoomTick!(room, { seq: base + i, at: now(payload) });
        if (result !== undefined) accepted.push(result);
      }
    }
    await Promise.all(accepted);
    await nextTurn();
  }
  return { firstEmitNs, lastEmitNs: process.hrtime.bigint() };
}

/** The isolation curve's emitter: event i at start + i / rate, one per turn at most. */
async function emitAtRate(server: BenchServer, { base, count, payload = 'numbers' }: EmitArgs, ratePerSec: number) {
  const firstEmitNs = process.hrtime.bigint();
  const startMs = performance.now();
  for (let i = 0; i < count; i++) {
    const aheadMs = startMs + (i * 1e3) / ratePerSec - performance.now();
    // Timers fire on whole milliseconds at best: sleep only when a wait that long is due.
    if (aheadMs >= 1) await sleep(Math.floor(aheadMs));
    const result = server.emitTick({ seq: base + i, at: now(payload) });
    if (result !== undefined) await result;
    await nextTurn();
  }
  return { firstEmitNs, lastEmitNs: process.hrtime.bigint() };
}

export interface TickReport {
  clients: number;
  /** Events each client should get. */
  expectedPerClient: number;
  /** Distinct expected events received, over all clients. */
  delivered: number;
  duplicates: number;
  /** Events outside the expected range, or whose payload was not `{ seq, at }` with `at` of the expected type. */
  unexpected: number;
  /** Events that arrived after one with a higher sequence number. */
  outOfOrder: number;
  /** When the last counted event arrived (0n if none did). */
  lastDeliveryNs: bigint;
  /** CPU time of this client process from `expect` until the round ended, in microseconds. */
  cpuUs: number;
  /** Of which system (kernel) time. */
  systemUs: number;
}

/** One client's count of the current round. */
class TickCounter {
  seen = new Uint8Array(0);
  base = 0;
  delivered = 0;
  duplicates = 0;
  unexpected = 0;
  outOfOrder = 0;
  lastSeq = -1;
  lastAtNs = 0n;
  arrivesAs: ArrivesAs = 'number';
  readonly #onComplete: () => void;

  constructor(onComplete: () => void) {
    this.#onComplete = onComplete;
  }

  reset(base: number, count: number, arrivesAs: ArrivesAs): void {
    this.arrivesAs = arrivesAs;
    this.seen = new Uint8Array(count);
    this.base = base;
    this.delivered = 0;
    this.duplicates = 0;
    this.unexpected = 0;
    this.outOfOrder = 0;
    this.lastSeq = -1;
    this.lastAtNs = 0n;
  }

  readonly onTick = (tick: Tick): void => {
    const now = process.hrtime.bigint();
    const index = typeof tick?.seq === 'number' && isInstantType(tick.at, this.arrivesAs) ? tick.seq - this.base : -1;
    if (!(index >= 0 && index < this.seen.length)) {
      this.unexpected++;
      return;
    }
    this.lastAtNs = now;
    if (tick.seq < this.lastSeq) this.outOfOrder++;
    this.lastSeq = tick.seq;
    if (this.seen[index] !== 0) {
      this.duplicates++;
      return;
    }
    this.seen[index] = 1;
    if (++this.delivered === this.seen.length) this.#onComplete();
  };
}

/** Client side: the tick counters of every client of this process, one round at a time. */
export class TickReceiver {
  readonly #counters: TickCounter[] = [];
  #incomplete = 0;
  #lastEventAt = 0;
  #roundDone: (() => void) | undefined;
  #cpuStart: NodeJS.CpuUsage = { user: 0, system: 0 };

  /** Clients subscribed so far. */
  get subscribed(): number {
    return this.#counters.length;
  }

  /**
   * Subscribes these clients, to `tick`, or (scenario E) to the room `roomOf(index)` of its global
   * index; the server's subscriber count tells when all are live.
   */
  subscribe(clients: readonly { client: BenchClient; index: number }[], plan?: RoomPlan): void {
    for (const { client, index } of clients) {
      const counter = new TickCounter(() => {
        if (--this.#incomplete === 0) this.#roundDone?.();
      });
      this.#counters.push(counter);
      const listener = (tick: Tick) => {
        this.#lastEventAt = Date.now();
        counter.onTick(tick);
      };
      if (plan === undefined) client.onTick(listener);
      else if (client.onRoomTick === undefined) throw new Error('this peer has no rooms');
      else client.onRoomTick(roomName(roomOf(index, plan)), listener);
    }
  }

  /** Starts a round: every client expects ticks `base .. base + count - 1`, `at` arriving as `arrivesAs`. */
  expect({ base, count, arrivesAs }: { base: number; count: number; arrivesAs: ArrivesAs }): void {
    for (const counter of this.#counters) counter.reset(base, count, arrivesAs);
    this.#incomplete = count === 0 ? 0 : this.#counters.length;
    this.#cpuStart = process.cpuUsage();
  }

  /**
   * Resolves once every client has its events, or when nothing arrived for `quietMs` (events were
   * lost), or after `timeoutMs`; the report tells which.
   */
  async wait({ quietMs, timeoutMs }: { quietMs: number; timeoutMs: number }): Promise<TickReport> {
    const startedAt = Date.now();
    this.#lastEventAt = startedAt;
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        const now = Date.now();
        if (now - this.#lastEventAt > quietMs || now - startedAt > timeoutMs) finish();
      }, 50);
      const finish = () => {
        clearInterval(poll);
        this.#roundDone = undefined;
        resolve();
      };
      this.#roundDone = finish;
      if (this.#incomplete === 0) finish();
    });
    const { user, system } = process.cpuUsage(this.#cpuStart);
    const report: TickReport = {
      clients: this.#counters.length,
      expectedPerClient: this.#counters[0]?.seen.length ?? 0,
      delivered: 0,
      duplicates: 0,
      unexpected: 0,
      outOfOrder: 0,
      lastDeliveryNs: 0n,
      cpuUs: user + system,
      systemUs: system,
    };
    for (const counter of this.#counters) {
      report.delivered += counter.delivered;
      report.duplicates += counter.duplicates;
      report.unexpected += counter.unexpected;
      report.outOfOrder += counter.outOfOrder;
      if (counter.lastAtNs > report.lastDeliveryNs) report.lastDeliveryNs = counter.lastAtNs;
    }
    return report;
  }
}

export interface FanoutSizes {
  clients: number;
  clientProcesses: number;
  warmupEvents: number;
  events: number;
  /** Events per turn: 1 (paced) or 10 (burst). */
  batch: number;
  /** What `at` is (default `numbers`). */
  payload?: Payload;
  /** Warm-up rounds of `warmupEvents` repeat until this long has passed (default: one round). */
  warmupMs?: number;
}

/** A process the orchestrator sends requests to: a harness `Child`, or a node:cluster worker (bench:cores). */
export type Endpoint = Pick<Child, 'call'>;

/** How long a client process waits without any event before it reports the round as lossy. */
const QUIET_MS = 3_000;

export interface SubscriberSetup {
  clients: number;
  /** Scenario E: each client subscribes to a room of its node's partition instead of `tick`. */
  plan?: RoomPlan;
  /** What `at` is in the calls of these clients (default `numbers`). */
  payload?: Payload;
}

/** Orchestrator: connects `setup.clients` clients spread over the processes (round-robin over `urls`) and subscribes them. */
export async function connectSubscribers(
  clientProcesses: readonly Endpoint[],
  urls: readonly string[],
  { clients, plan, payload }: SubscriberSetup,
): Promise<void> {
  const perProcess = Math.ceil(clients / clientProcesses.length);
  await Promise.all(
    clientProcesses.map(async (child, index) => {
      const count = Math.min(perProcess, clients - index * perProcess);
      await child.call(
        'connect',
        { urls, count, offset: index * perProcess, concurrency: 20, ...(payload === undefined ? {} : { payload }) },
        JOB_TIMEOUT_MS,
      );
      await child.call('subscribe', plan === undefined ? {} : { plan }, JOB_TIMEOUT_MS);
    }),
  );
}

/** Orchestrator: waits until the servers count `total` live subscriptions. */
export async function awaitSubscribers(servers: readonly Endpoint[], total: number): Promise<void> {
  await waitUntil(
    async () => {
      const counts = await Promise.all(
        servers.map((server) => server.call<{ subscribers: number }>('stats', {}, JOB_TIMEOUT_MS)),
      );
      return counts.reduce((sum, { subscribers }) => sum + subscribers, 0) >= total;
    },
    30_000,
    `${total} subscriptions`,
  );
}

/** What each server received from its broker so far. */
async function brokerReceived(servers: readonly Endpoint[]): Promise<BrokerReceived[]> {
  const stats = await Promise.all(
    servers.map((server) => server.call<{ broker?: BrokerReceived }>('stats', {}, JOB_TIMEOUT_MS)),
  );
  return stats.map(({ broker }) => broker ?? { events: Number.NaN, bytes: Number.NaN });
}

/** The CPU time the server processes have used so far, summed: user + system, and system alone. */
async function serversCpu(servers: readonly Endpoint[]): Promise<{ total: number; system: number }> {
  const readings = await Promise.all(
    servers.map((server) => server.call<NodeJS.CpuUsage>('cpuUsage', {}, JOB_TIMEOUT_MS)),
  );
  return readings.reduce(
    (sum, { user, system }) => ({ total: sum.total + user + system, system: sum.system + system }),
    { total: 0, system: 0 },
  );
}

/**
 * Orchestrator: one round (emit on the first server, count on every client process) and its
 * figures; the CPU time per delivery sums every server process, and every client process.
 */
export async function fanoutRound(
  servers: readonly Endpoint[],
  clientProcesses: readonly Endpoint[],
  { base, count, batch, rooms, payload, ratePerSec }: EmitArgs,
): Promise<RunResult> {
  await Promise.all(clientProcesses.map((child) => child.call('expect', { base, count }, JOB_TIMEOUT_MS)));
  const receivedBefore = rooms === undefined ? [] : await brokerReceived(servers);
  const serverCpuStart = await serversCpu(servers);
  const [emitted, ...reports] = await Promise.all([
    servers[0]!.call<EmitReport>(
      'emit',
      {
        base,
        count,
        batch,
        ...(rooms === undefined ? {} : { rooms }),
        ...(payload === undefined ? {} : { payload }),
        ...(ratePerSec === undefined ? {} : { ratePerSec }),
      },
      JOB_TIMEOUT_MS,
    ),
    ...clientProcesses.map((child) =>
      child.call<TickReport>('awaitTicks', { quietMs: QUIET_MS, timeoutMs: JOB_TIMEOUT_MS - 5_000 }, JOB_TIMEOUT_MS),
    ),
  ]);
  const serverCpuEnd = await serversCpu(servers);
  const serverCpuUs = serverCpuEnd.total - serverCpuStart.total;
  const serverSystemUs = serverCpuEnd.system - serverCpuStart.system;
  let clientCpuUs = 0;
  let clientSystemUs = 0;
  let clients = 0;
  let delivered = 0;
  let duplicates = 0;
  let unexpected = 0;
  let outOfOrder = 0;
  let lastDeliveryNs = 0n;
  for (const report of reports) {
    clients += report.clients;
    delivered += report.delivered;
    duplicates += report.duplicates;
    unexpected += report.unexpected;
    outOfOrder += report.outOfOrder;
    clientCpuUs += report.cpuUs;
    clientSystemUs += report.systemUs;
    if (report.lastDeliveryNs > lastDeliveryNs) lastDeliveryNs = report.lastDeliveryNs;
  }
  const expected = clients * count;
  const lost = expected - delivered;
  // Scenario E: what each node heard from its broker during the round, against all published.
  const traffic: Record<string, number> = {};
  if (rooms !== undefined) {
    const receivedAfter = await brokerReceived(servers);
    const published = count * rooms;
    traffic.published = published;
    receivedAfter.forEach((after, node) => {
      const events = after.events - receivedBefore[node]!.events;
      traffic[`node${node}Events`] = events;
      traffic[`node${node}Bytes`] = after.bytes - receivedBefore[node]!.bytes;
      traffic[`node${node}Share`] = events / published;
    });
    const shares = receivedAfter.map((_, node) => traffic[`node${node}Share`]!);
    traffic.maxNodeShare = Math.max(...shares);
    traffic.meanNodeEvents =
      receivedAfter.reduce((sum, _, node) => sum + traffic[`node${node}Events`]!, 0) / servers.length;
    traffic.meanNodeBytes =
      receivedAfter.reduce((sum, _, node) => sum + traffic[`node${node}Bytes`]!, 0) / servers.length;
    traffic.meanNodeShare = traffic.meanNodeEvents / published;
  }
  const durationS = lastDeliveryNs === 0n ? Number.NaN : seconds(emitted.firstEmitNs, lastDeliveryNs);
  const failures: string[] = [];
  if (lost > 0) failures.push(`${lost} of ${expected} deliveries lost`);
  if (duplicates > 0) failures.push(`${duplicates} duplicate deliveries`);
  if (unexpected > 0) failures.push(`${unexpected} unexpected or malformed events`);
  if (outOfOrder > 0) failures.push(`${outOfOrder} events out of order`);
  return {
    metrics: {
      eventsPerSec: delivered / durationS,
      durationMs: durationS * 1e3,
      emitMs: seconds(emitted.firstEmitNs, emitted.lastEmitNs) * 1e3,
      serverCpuUs: serverCpuUs / delivered,
      clientCpuUs: clientCpuUs / delivered,
      serverSystemUs: serverSystemUs / delivered,
      clientSystemUs: clientSystemUs / delivered,
      deliveries: delivered,
      lost,
      duplicates,
      outOfOrder,
      ...traffic,
      ...(lastDeliveryNs === 0n ? {} : profileWindow(emitted.firstEmitNs, lastDeliveryNs)),
    },
    failures,
  };
}

/** Warm-up round, then the measured round; failures of both are reported. */
export async function fanoutRounds(
  servers: readonly Endpoint[],
  clientProcesses: readonly Endpoint[],
  sizes: FanoutSizes,
  rooms?: number,
): Promise<RunResult> {
  const common = {
    batch: sizes.batch,
    ...(rooms === undefined ? {} : { rooms }),
    ...(sizes.payload === undefined ? {} : { payload: sizes.payload }),
  };
  // Warm-up rounds until warmupMs have passed (one at least): V8 keeps compiling the receive path
  // for a while, on the cores the measured round needs (profiles showed a fifth of the clients' CPU).
  const failures: string[] = [];
  const warmUntil = Date.now() + (sizes.warmupMs ?? 0);
  let base = 0;
  do {
    const warmup = await fanoutRound(servers, clientProcesses, { base, count: sizes.warmupEvents, ...common });
    failures.push(...warmup.failures.map((failure) => `warm-up: ${failure}`));
    base += sizes.warmupEvents;
  } while (Date.now() < warmUntil);
  const measured = await fanoutRound(servers, clientProcesses, { base, count: sizes.events, ...common });
  return { metrics: measured.metrics, failures: [...failures, ...measured.failures] };
}

const sizes = (quick: boolean, pattern: Pattern, payload: Payload): FanoutSizes => ({
  clients: 200,
  clientProcesses: 2,
  ...(quick ? { warmupEvents: 20, warmupMs: 0, events: 200 } : { warmupEvents: 100, warmupMs: 2_000, events: 1_000 }),
  batch: pattern === 'paced' ? 1 : 10,
  payload,
});

/** C with one pattern and one payload; the target (≥ 1.0 of raw ws) goes on both Date lines. */
export function scenarioC(pattern: Pattern, payload: Payload): Scenario {
  const line = `${pattern}, ${PAYLOAD_LABELS[payload]}`;
  return {
    id: 'C',
    line,
    payload,
    pattern,
    title: `fan-out: one event stream to 200 clients (2 client processes), ${pattern === 'paced' ? 'one event per turn' : '10 events per turn'}; at: ${PAYLOAD_LABELS[payload]}`,
    peers: PEER_NAMES,
    metrics: [
      {
        key: 'eventsPerSec',
        label: `C delivered events/s, ${line}`,
        unit: 'events/s',
        better: 'higher',
        digits: 0,
        ratio: true,
        ...(payload === 'date' ? { target: { op: '>=', value: 1.0 } } : { chart: true }),
      },
      { key: 'durationMs', label: `C first emit to last delivery, ${line}`, unit: 'ms', better: 'lower', digits: 0 },
      {
        key: 'serverCpuUs',
        label: `C server CPU per delivery, ${line}`,
        unit: 'µs',
        better: 'lower',
        digits: 2,
        ratio: true,
      },
      {
        key: 'clientCpuUs',
        label: `C client CPU per delivery, ${line}`,
        unit: 'µs',
        better: 'lower',
        digits: 2,
        ratio: true,
      },
      {
        key: 'serverSystemUs',
        label: `C server system CPU per delivery, ${line}`,
        unit: 'µs',
        better: 'lower',
        digits: 2,
      },
      {
        key: 'clientSystemUs',
        label: `C client system CPU per delivery, ${line}`,
        unit: 'µs',
        better: 'lower',
        digits: 2,
      },
      {
        key: 'lost',
        label: `C lost deliveries, ${line}`,
        unit: 'deliveries',
        better: 'lower',
        digits: 0,
        aggregate: 'sum',
      },
      {
        key: 'duplicates',
        label: `C duplicates, ${line}`,
        unit: 'deliveries',
        better: 'lower',
        digits: 0,
        aggregate: 'sum',
      },
    ],
    sizes: (quick) => sizes(quick, pattern, payload),
    run: (peer, env) =>
      withChildren(env.harness, 'C', async (start) => {
        const size = sizes(env.quick, pattern, payload);
        const [server, ...clientProcesses] = await Promise.all([
          start({ role: 'server', peer }),
          ...Array.from({ length: size.clientProcesses }, () => start({ role: 'clients', peer })),
        ]);
        const { url } = await server.call<{ url: string }>('listen', { host: HOST, payload }, JOB_TIMEOUT_MS);
        await connectSubscribers(clientProcesses, [url], { clients: size.clients, payload });
        await awaitSubscribers([server], size.clients);
        return fanoutRounds([server], clientProcesses, size);
      }),
  };
}
