/**
 * Many wirecall clients in one process, so a cluster test spreads the work of receiving events over
 * its own CPU (the test process only drives the emits). Started by clients-process.ts; configuration
 * comes as JSON in WIRECALL_CHILD_CONFIG ({@link ClientsConfig}).
 *
 * Each client connects with the list of all node URLs, rotated so that clients start on different
 * nodes, subscribes to `tick` for its rooms, and checks every event as it arrives: the payload's room
 * is the subscribed one, its seq is the previous one plus one (nothing lost, nothing repeated, in
 * order), and its id is greater than the previous one. After each (re)connect the client asks
 * `whoami`, so the report shows which node it is on and whether it moved.
 *
 * Commands (child-channel.ts): `report { expected }` answers a {@link ClientsReport}, where
 * `expected` maps each room to the number of events emitted to it; `close` closes every client.
 */
import { createClient, type WirecallClient } from '@wirecall/client';
import { mulberry32 } from '../../helpers/chaos-kit.js';
import { serveCommands } from './child-channel.js';
import { clusterApi, type ClusterApi } from './cluster-api.js';

export interface ClientPlan {
  /** Index in `urls` of the node this client tries first. */
  first: number;
  rooms: string[];
}

export interface ClientsConfig {
  /** Every node's URL. */
  urls: string[];
  clients: ClientPlan[];
  /** Seeds each client's backoff jitter, so a failing run can be replayed. */
  seed: number;
  /** Offset of this process's clients in the test's numbering, for messages. */
  firstIndex: number;
}

export interface ClientsReport {
  clients: number;
  /** Clients whose state is `open`. */
  open: number;
  /** (client, room) subscriptions. */
  pairs: number;
  /** Pairs that have seen every event `expected` lists for their room. */
  complete: number;
  /** Pairs that have seen at least one event. */
  started: number;
  /** A few pairs still waiting, as `client/room at seq of expected`. */
  behind: string[];
  /** Events received, all clients and rooms. */
  received: number;
  /** Events out of order, repeated, skipped or on the wrong stream: the sum of the four below. */
  violations: number;
  /** Events whose seq was not above the last one seen (a repeat, or one arriving after a later one). */
  repeated: number;
  /** Times the seq jumped ahead (events missing before it). */
  skipped: number;
  /** Events of another room. */
  wrongStream: number;
  /** Events whose id was not above the previous id of the stream. */
  idOrder: number;
  samples: string[];
  /** Gap notices received. */
  gaps: number;
  /** Subscription errors and client log lines (the client logger must stay silent). */
  errors: string[];
  /** Times any client reached `open` (the first connection included). */
  opens: number;
  /** Clients per node, by `whoami` after their latest connect. */
  byNode: Record<string, number>;
  /** Clients whose `whoami` changed at least once. */
  moved: number;
}

interface Pair {
  room: string;
  last: number;
  lastId: [number, number];
}

const config = JSON.parse(process.env.WIRECALL_CHILD_CONFIG ?? '{}') as ClientsConfig;
const SAMPLE_LIMIT = 10;
const counts = { repeated: 0, skipped: 0, wrongStream: 0, idOrder: 0 };
let violations = 0;
let received = 0;
let gaps = 0;
let opens = 0;
const samples: string[] = [];
const errors: string[] = [];

function violation(kind: keyof typeof counts, text: string): void {
  violations++;
  counts[kind]++;
  if (samples.length < SAMPLE_LIMIT) samples.push(text);
}

function parseId(id: string): [number, number] {
  const [ms, seq] = id.split('-');
  return [Number(ms), Number(seq)];
}

interface Tracked {
  client: WirecallClient<ClusterApi>;
  pairs: Pair[];
  node: string | undefined;
  moved: boolean;
}

const tracked: Tracked[] = config.clients.map((plan, offset) => {
  const index = config.firstIndex + offset;
  const urls = config.urls.map((_, i) => config.urls[(plan.first + i) % config.urls.length]!);
  const client = createClient(clusterApi, {
    url: urls,
    reconnect: { minDelayMs: 50, maxDelayMs: 500 },
    random: mulberry32(config.seed ^ index),
    logger: {
      warn: (_details, message) => errors.push(`client ${index} warn: ${message}`),
      error: (details, message) => errors.push(`client ${index} error: ${message} ${JSON.stringify(details)}`),
    },
  });
  const entry: Tracked = { client, pairs: [], node: undefined, moved: false };
  client.onStateChange(({ state }) => {
    if (state !== 'open') return;
    opens++;
    client.call.whoami(null).then(
      (node) => {
        if (entry.node !== undefined && entry.node !== node) entry.moved = true;
        entry.node = node;
      },
      () => {}, // the connection dropped again; the next `open` asks again
    );
  });
  for (const room of plan.rooms) {
    const pair: Pair = { room, last: 0, lastId: [0, 0] };
    entry.pairs.push(pair);
    client.on(
      'tick',
      { room },
      (tick, meta) => {
        received++;
        const id = parseId(meta.id ?? '');
        const what = `client ${index} ${room}: seq ${tick.seq} after ${pair.last}`;
        if (tick.room !== room) violation('wrongStream', `client ${index} ${room}: got an event of ${tick.room}`);
        else if (tick.seq <= pair.last) violation('repeated', what);
        else if (tick.seq !== pair.last + 1) violation('skipped', what);
        if (id[0] < pair.lastId[0] || (id[0] === pair.lastId[0] && id[1] <= pair.lastId[1])) {
          violation('idOrder', `client ${index} ${room}: id ${meta.id} after ${pair.lastId.join('-')}`);
        }
        pair.last = Math.max(pair.last, tick.seq);
        pair.lastId = id;
      },
      {
        onGap: () => {
          gaps++;
          if (samples.length < SAMPLE_LIMIT) samples.push(`client ${index} ${room}: gap after seq ${pair.last}`);
        },
        onError: (error) => errors.push(`client ${index} ${room}: ${error.code} ${error.message}`),
      },
    );
  }
  return entry;
});

function report(expected: Record<string, number> = {}): ClientsReport {
  const byNode: Record<string, number> = {};
  const behind: string[] = [];
  let pairs = 0;
  let complete = 0;
  let started = 0;
  let open = 0;
  let moved = 0;
  tracked.forEach((entry, offset) => {
    if (entry.client.state === 'open') open++;
    if (entry.moved) moved++;
    const node = entry.node ?? 'unknown';
    byNode[node] = (byNode[node] ?? 0) + 1;
    for (const pair of entry.pairs) {
      pairs++;
      if (pair.last > 0) started++;
      const want = expected[pair.room] ?? 0;
      if (pair.last === want) complete++;
      else if (behind.length < 5)
        behind.push(`client ${config.firstIndex + offset}/${pair.room} at ${pair.last} of ${want}`);
    }
  });
  return {
    clients: tracked.length,
    open,
    pairs,
    complete,
    started,
    behind,
    received,
    violations,
    ...counts,
    samples,
    gaps,
    errors: errors.slice(0, SAMPLE_LIMIT),
    opens,
    byNode,
    moved,
  };
}

serveCommands(
  {
    report: ({ expected }: { expected?: Record<string, number> }) => report(expected),
    close: async () => {
      await Promise.all(tracked.map((entry) => entry.client.close()));
    },
  },
  { pid: process.pid },
);
