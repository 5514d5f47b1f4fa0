/**
 * C: fan-out of one event stream to 200 clients in 2 client processes. The server emits N events
 * in batches, yielding to the event loop (setImmediate) after each batch so the sockets drain;
 * each client counts every event by its sequence number. Reports delivered events/s: deliveries /
 * (last delivery - first emit), checks that every client got every event exactly once, and the
 * CPU time per delivery of the server process(es) and of the client processes.
 *
 * The first emit and the last delivery happen in different processes; both read
 * `process.hrtime.bigint()`, the system-wide monotonic clock (CLOCK_MONOTONIC on Linux).
 */
import { HOST, waitUntil, withChildren, type Child } from '../harness.js';
import { PEER_NAMES, type BenchClient, type BenchServer, type BrokerReceived, type Tick } from '../peers/types.js';
import { seconds } from '../stats.js';
import { cpuMicros, JOB_TIMEOUT_MS, type RunResult, type Scenario } from './types.js';

export interface EmitArgs {
  base: number;
  count: number;
  batch: number;
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

/** Server side: emits ticks `base .. base + count - 1`, `batch` at a time, yielding between batches. */
export async function emitTicks(server: BenchServer, { base, count, batch, rooms }: EmitArgs): Promise<EmitReport> {
  const roomNames = rooms === undefined ? [] : Array.from({ length: rooms }, (_, room) => roomName(room));
  const emitRoomTick = server.emitRoomTick?.bind(server);
  if (rooms !== undefined && emitRoomTick === undefined) throw new Error('this peer has no rooms');
  const firstEmitNs = process.hrtime.bigint();
  for (let i = 0; i < count;) {
    const accepted: Promise<unknown>[] = [];
    for (const end = Math.min(count, i + batch); i < end; i++) {
      if (rooms === undefined) {
        const result = server.emitTick({ seq: base + i, at: Date.now() });
        if (result !== undefined) accepted.push(result);
        continue;
      }
      for (const room of roomNames) {
        const result = emitRoomTick!(room, { seq: base + i, at: Date.now() });
        if (result !== undefined) accepted.push(result);
      }
    }
    await Promise.all(accepted);
    await new Promise((resolve) => setImmediate(resolve));
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
  /** Events outside the expected range, or whose payload was not `{ seq: number, at: number }`. */
  unexpected: number;
  /** Events that arrived after one with a higher sequence number. */
  outOfOrder: number;
  /** When the last counted event arrived (0n if none did). */
  lastDeliveryNs: bigint;
  /** CPU time of this client process from `expect` until the round ended, in microseconds. */
  cpuUs: number;
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
  readonly #onComplete: () => void;

  constructor(onComplete: () => void) {
    this.#onComplete = onComplete;
  }

  reset(base: number, count: number): void {
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
    const index = typeof tick?.seq === 'number' && typeof tick.at === 'number' ? tick.seq - this.base : -1;
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
  #cpuStart = 0;

  /**
   * Subscribes every client, to `tick`, or (scenario E) to the room `roomOf(index)` of its global
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

  /** Starts a round: every client expects ticks `base .. base + count - 1`. */
  expect({ base, count }: { base: number; count: number }): void {
    for (const counter of this.#counters) counter.reset(base, count);
    this.#incomplete = count === 0 ? 0 : this.#counters.length;
    this.#cpuStart = cpuMicros();
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
    const cpuUs = cpuMicros() - this.#cpuStart;
    const report: TickReport = {
      clients: this.#counters.length,
      expectedPerClient: this.#counters[0]?.seen.length ?? 0,
      delivered: 0,
      duplicates: 0,
      unexpected: 0,
      outOfOrder: 0,
      lastDeliveryNs: 0n,
      cpuUs,
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
  batch: number;
}

/** A process the orchestrator sends requests to: a harness `Child`, or a node:cluster worker (bench:cores). */
export type Endpoint = Pick<Child, 'call'>;

/** How long a client process waits without any event before it reports the round as lossy. */
const QUIET_MS = 3_000;

/** Orchestrator: connects `sizes.clients` clients spread over the processes (round-robin over `urls`) and subscribes them. */
export async function connectSubscribers(
  clientProcesses: readonly Endpoint[],
  urls: readonly string[],
  clients: number,
  plan?: RoomPlan,
): Promise<void> {
  const perProcess = Math.ceil(clients / clientProcesses.length);
  await Promise.all(
    clientProcesses.map(async (child, index) => {
      const count = Math.min(perProcess, clients - index * perProcess);
      await child.call('connect', { urls, count, offset: index * perProcess, concurrency: 20 }, JOB_TIMEOUT_MS);
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

/** The CPU time the server processes have used so far, summed. */
async function serversCpu(servers: readonly Endpoint[]): Promise<number> {
  const readings = await Promise.all(servers.map((server) => server.call<number>('cpu', {}, JOB_TIMEOUT_MS)));
  return readings.reduce((sum, reading) => sum + reading, 0);
}

/**
 * Orchestrator: one round (emit on the first server, count on every client process) and its
 * figures; the CPU time per delivery sums every server process, and every client process.
 */
export async function fanoutRound(
  servers: readonly Endpoint[],
  clientProcesses: readonly Endpoint[],
  { base, count, batch, rooms }: EmitArgs,
): Promise<RunResult> {
  await Promise.all(clientProcesses.map((child) => child.call('expect', { base, count }, JOB_TIMEOUT_MS)));
  const receivedBefore = rooms === undefined ? [] : await brokerReceived(servers);
  const serverCpuStart = await serversCpu(servers);
  const [emitted, ...reports] = await Promise.all([
    servers[0]!.call<EmitReport>(
      'emit',
      { base, count, batch, ...(rooms === undefined ? {} : { rooms }) },
      JOB_TIMEOUT_MS,
    ),
    ...clientProcesses.map((child) =>
      child.call<TickReport>('awaitTicks', { quietMs: QUIET_MS, timeoutMs: JOB_TIMEOUT_MS - 5_000 }, JOB_TIMEOUT_MS),
    ),
  ]);
  const serverCpuUs = (await serversCpu(servers)) - serverCpuStart;
  let clientCpuUs = 0;
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
      deliveries: delivered,
      lost,
      duplicates,
      outOfOrder,
      ...traffic,
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
  const perRooms = rooms === undefined ? {} : { rooms };
  const warmup = await fanoutRound(servers, clientProcesses, {
    base: 0,
    count: sizes.warmupEvents,
    batch: sizes.batch,
    ...perRooms,
  });
  const measured = await fanoutRound(servers, clientProcesses, {
    base: sizes.warmupEvents,
    count: sizes.events,
    batch: sizes.batch,
    ...perRooms,
  });
  return {
    metrics: measured.metrics,
    failures: [...warmup.failures.map((failure) => `warm-up: ${failure}`), ...measured.failures],
  };
}

const sizes = (quick: boolean): FanoutSizes =>
  quick
    ? { clients: 200, clientProcesses: 2, warmupEvents: 20, events: 200, batch: 10 }
    : { clients: 200, clientProcesses: 2, warmupEvents: 100, events: 1_000, batch: 10 };

export const scenarioC: Scenario = {
  id: 'C',
  title: 'fan-out: one event stream to 200 clients (2 client processes)',
  peers: PEER_NAMES,
  metrics: [
    {
      key: 'eventsPerSec',
      label: 'C delivered events/s',
      unit: 'events/s',
      better: 'higher',
      digits: 0,
      ratio: true,
      target: { op: '>=', value: 0.9 },
    },
    { key: 'durationMs', label: 'C first emit to last delivery', unit: 'ms', better: 'lower', digits: 0 },
    {
      key: 'serverCpuUs',
      label: 'C server CPU per delivery',
      unit: 'µs',
      better: 'lower',
      digits: 2,
      ratio: true,
    },
    {
      key: 'clientCpuUs',
      label: 'C client CPU per delivery',
      unit: 'µs',
      better: 'lower',
      digits: 2,
      ratio: true,
    },
    { key: 'lost', label: 'C lost deliveries', unit: 'deliveries', better: 'lower', digits: 0, aggregate: 'sum' },
    { key: 'duplicates', label: 'C duplicates', unit: 'deliveries', better: 'lower', digits: 0, aggregate: 'sum' },
  ],
  sizes,
  run: (peer, env) =>
    withChildren(env.harness, 'C', async (start) => {
      const size = sizes(env.quick);
      const [server, ...clientProcesses] = await Promise.all([
        start({ role: 'server', peer }),
        ...Array.from({ length: size.clientProcesses }, () => start({ role: 'clients', peer })),
      ]);
      const { url } = await server.call<{ url: string }>('listen', { host: HOST }, JOB_TIMEOUT_MS);
      await connectSubscribers(clientProcesses, [url], size.clients);
      await awaitSubscribers([server], size.clients);
      return fanoutRounds([server], clientProcesses, size);
    }),
};
