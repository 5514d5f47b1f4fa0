import { vi } from 'vitest';
import { dice, type Dice } from '../../helpers/chaos-kit.js';
import { mergeReports, startClients, type ClientsProcess } from './clients-process.js';
import type { ClientPlan, ClientsReport } from './clients-main.js';
import { roomNames } from './cluster-api.js';
import { startNode, type NodeProcess } from './node-process.js';

export interface ClusterOptions {
  nodes: number;
  clients: number;
  rooms: number;
  /** Each client subscribes to between `min` and `max` distinct rooms, drawn from the seed. */
  roomsPerClient: { min: number; max: number };
  /** Processes the clients are spread over (the test process only drives emits). */
  clientProcesses: number;
  seed: number;
  redisUrl: string;
  prefix: string;
}

/** Server nodes and client processes, all subscribed and ready for the first emit. */
export interface Cluster extends AsyncDisposable {
  readonly nodes: readonly NodeProcess[];
  readonly rooms: readonly string[];
  readonly plans: readonly ClientPlan[];
  /** (client, room) subscriptions in total. */
  readonly pairs: number;
  /** The merged report of every client process. */
  report(expected?: Record<string, number>): Promise<ClientsReport>;
  /**
   * Waits until every subscriber has every event `expected` lists for its room (or, once a violation
   * showed up, until deliveries stop); resolves with the merged report.
   */
  settled(expected: Record<string, number>, timeoutMs: number, why: (what: string) => string): Promise<ClientsReport>;
  /** Closes the clients, then kills every process. */
  stop(): Promise<void>;
}

function pickRooms(rng: Dice, rooms: readonly string[], { min, max }: { min: number; max: number }): string[] {
  const pool = [...rooms];
  const picked: string[] = [];
  const count = rng.int(min, max);
  for (let i = 0; i < count; i++) picked.push(pool.splice(rng.int(0, pool.length - 1), 1)[0]!);
  return picked;
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const rng = dice(options.seed);
  const rooms = roomNames(options.rooms);
  const nodes = await Promise.all(
    Array.from({ length: options.nodes }, (_, index) =>
      startNode({ name: `node-${index}`, redisUrl: options.redisUrl, prefix: options.prefix }),
    ),
  );
  const urls = nodes.map((node) => node.url);
  const plans: ClientPlan[] = Array.from({ length: options.clients }, (_, index) => ({
    first: index % options.nodes,
    rooms: pickRooms(rng, rooms, options.roomsPerClient),
  }));
  const perProcess = Math.ceil(options.clients / options.clientProcesses);
  const processes: ClientsProcess[] = await Promise.all(
    Array.from({ length: options.clientProcesses }, (_, index) =>
      startClients({
        urls,
        clients: plans.slice(index * perProcess, (index + 1) * perProcess),
        seed: options.seed,
        firstIndex: index * perProcess,
      }),
    ),
  );
  const pairs = plans.reduce((sum, plan) => sum + plan.rooms.length, 0);
  const stop = async (): Promise<void> => {
    await Promise.all(processes.map((child) => child.close().catch(() => undefined)));
    await Promise.all([...processes, ...nodes].map((child) => child.kill('SIGKILL')));
  };
  const report = async (expected?: Record<string, number>): Promise<ClientsReport> =>
    mergeReports(await Promise.all(processes.map((child) => child.report(expected))));

  // Every subscription is registered on its node before the first emit, so every client is owed
  // every event of its rooms from seq 1 on.
  await vi.waitFor(
    async () => {
      const stats = await Promise.all(nodes.map((node) => node.stats()));
      const connections = stats.reduce((sum, s) => sum + s.connections, 0);
      const subscriptions = stats.reduce((sum, s) => sum + s.subscriptions, 0);
      if (connections !== options.clients || subscriptions !== pairs) {
        throw new Error(`${connections}/${options.clients} connections, ${subscriptions}/${pairs} subscriptions`);
      }
    },
    { timeout: 30_000, interval: 100 },
  );

  return {
    nodes,
    rooms,
    plans,
    pairs,
    report,
    async settled(expected, timeoutMs, why) {
      let latest: ClientsReport | undefined;
      let previous: ClientsReport | undefined;
      try {
        return await vi.waitFor(
          async () => {
            [previous, latest] = [latest, await report(expected)];
            if (latest.complete === latest.pairs) return latest;
            // Something already went wrong: once deliveries stop, the report is final (missing
            // events will not come); waiting longer would only delay the failure.
            if (latest.violations > 0 && latest.received === previous?.received) return latest;
            throw new Error('not yet');
          },
          { timeout: timeoutMs, interval: 250 },
        );
      } catch {
        throw new Error(
          why(
            `subscribers still missing events after ${timeoutMs} ms: ${latest?.complete}/${latest?.pairs} complete, ` +
              `behind: ${latest?.behind.join('; ')}; gaps ${latest?.gaps}; errors: ${latest?.errors.join('; ')}`,
          ),
        );
      }
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** One planned burst: `count` consecutive events of `room`, emitted by node `node`. */
interface PlannedBurst {
  room: string;
  node: number;
  count: number;
}

export interface EmitPlan {
  /** Events in total. */
  events: number;
  /** A burst is between 1 and this many consecutive events of one room from one node. */
  maxBurst: number;
}

/**
 * Emits events to random rooms from random nodes, drawn from a seeded PRNG, in bursts: a random
 * room, a random node, a random number of consecutive events of that room, which the node emits at
 * once (in order: its Redis connection keeps the order of its commands). A room's next burst, from
 * whichever node, only starts once its previous one was accepted, so the per-room seq is the order
 * of the stream; the bursts of different rooms run concurrently, interleaving the nodes.
 *
 * A node can be retired: its planned bursts go to the next live node from then on, and `retire`
 * resolves once none of its emits is in flight, so killing it afterwards loses no accepted emit and
 * leaves no emit whose fate is unknown.
 */
export class Emitter {
  /** Events accepted so far, per room: the highest seq of each room. */
  readonly perRoom: Record<string, number> = {};
  /** Events accepted so far, per node. */
  readonly perNode: number[];
  /** Bursts that went to a node other than the one before them in the same room. */
  crossNode = 0;
  #accepted = 0;
  readonly #nodes: readonly NodeProcess[];
  readonly #rooms: readonly string[];
  readonly #rng: Dice;
  readonly #retired = new Set<number>();
  readonly #inFlight: number[];
  readonly #idle = new Map<number, () => void>();
  readonly #milestones: { count: number; resolve: () => void }[] = [];

  constructor(nodes: readonly NodeProcess[], rooms: readonly string[], rng: Dice) {
    this.#nodes = nodes;
    this.#rooms = rooms;
    this.#rng = rng;
    this.perNode = nodes.map(() => 0);
    this.#inFlight = nodes.map(() => 0);
    for (const room of rooms) this.perRoom[room] = 0;
  }

  get accepted(): number {
    return this.#accepted;
  }

  /** Emits `plan.events` events; resolves with the number of events per room. Any refused emit rejects. */
  async run({ events, maxBurst }: EmitPlan): Promise<Record<string, number>> {
    const byRoom = new Map<string, PlannedBurst[]>(this.#rooms.map((room) => [room, []]));
    for (let planned = 0; planned < events;) {
      const count = Math.min(this.#rng.int(1, maxBurst), events - planned);
      const burst: PlannedBurst = {
        room: this.#rooms[this.#rng.int(0, this.#rooms.length - 1)]!,
        node: this.#rng.int(0, this.#nodes.length - 1),
        count,
      };
      byRoom.get(burst.room)!.push(burst);
      planned += count;
    }
    await Promise.all([...byRoom.values()].map((chain) => this.#runChain(chain)));
    return { ...this.perRoom };
  }

  /** Resolves once `count` events have been accepted. */
  reached(count: number): Promise<void> {
    if (this.#accepted >= count) return Promise.resolve();
    return new Promise((resolve) => this.#milestones.push({ count, resolve }));
  }

  /** Sends no more emits to node `index`; resolves once its emits in flight have settled. */
  retire(index: number): Promise<void> {
    this.#retired.add(index);
    if (this.#inFlight[index] === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.set(index, resolve));
  }

  async #runChain(chain: readonly PlannedBurst[]): Promise<void> {
    let previous: number | undefined;
    for (const burst of chain) {
      const index = this.#route(burst.node);
      if (previous !== undefined && previous !== index) this.crossNode++;
      previous = index;
      const first = this.perRoom[burst.room]! + 1;
      const seqs = Array.from({ length: burst.count }, (_, offset) => first + offset);
      this.#inFlight[index]!++;
      try {
        await this.#nodes[index]!.emit(burst.room, seqs);
      } finally {
        if (--this.#inFlight[index]! === 0) this.#idle.get(index)?.();
      }
      this.perRoom[burst.room] = seqs.at(-1)!;
      this.perNode[index]! += burst.count;
      this.#accepted += burst.count;
      for (const milestone of this.#milestones) if (this.#accepted >= milestone.count) milestone.resolve();
    }
  }

  #route(planned: number): number {
    for (let step = 0; step < this.#nodes.length; step++) {
      const index = (planned + step) % this.#nodes.length;
      if (!this.#retired.has(index)) return index;
    }
    throw new Error('every node is retired');
  }
}

/** Events owed to the clients of `plans`: for each client, the events of each of its rooms. */
export function eventsOwed(plans: readonly ClientPlan[], expected: Record<string, number>): number {
  return plans.reduce((sum, plan) => sum + plan.rooms.reduce((n, room) => n + (expected[room] ?? 0), 0), 0);
}

/** What a delivery report says, in one object, so a failure shows every number at once. */
export function deliveryVerdict(report: ClientsReport, owed: number) {
  return {
    complete: `${report.complete}/${report.pairs} subscriptions`,
    received: `${report.received}/${owed} events`,
    violations: report.violations,
    repeated: report.repeated,
    skipped: report.skipped,
    wrongStream: report.wrongStream,
    idOrder: report.idOrder,
    gaps: report.gaps,
    samples: report.samples,
    errors: report.errors,
  };
}

/** The verdict of a perfect delivery: every event of every subscription, once, in order, no gap. */
export function perfectDelivery(pairs: number, owed: number): ReturnType<typeof deliveryVerdict> {
  return {
    complete: `${pairs}/${pairs} subscriptions`,
    received: `${owed}/${owed} events`,
    violations: 0,
    repeated: 0,
    skipped: 0,
    wrongStream: 0,
    idOrder: 0,
    gaps: 0,
    samples: [],
    errors: [],
  };
}
