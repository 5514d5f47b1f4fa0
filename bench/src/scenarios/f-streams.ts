/**
 * F: one server streams N items to one client over one connection, for two kinds of item: small
 * JSON items `{ seq, text, at }` (~70 bytes; `at` a Date or a number: two lines) and 64 KiB binary
 * slices (a third line). Reports items/s and MB/s of slice payload, timed in the client process
 * from the request to the end of the stream, and the CPU time per item of the server process and
 * of the client process.
 *
 * The client checks every item against what the server was to send (stream-items.ts): the k-th
 * item must be item k, whole; a missing, extra, reordered or corrupted item fails the run.
 */
import { HOST, withChildren, type Child } from '../harness.js';
import { EPOCH_MS, isInstant, type ArrivesAs } from '../peers/payloads.js';
import { ITEM_TEXT, SLICE_BYTES, SLICE_TEMPLATE, sliceSeq } from '../peers/stream-items.js';
import {
  PAYLOAD_LABELS,
  type BenchClient,
  type Payload,
  type PeerName,
  type StreamItem,
  type StreamKind,
  type StreamRequest,
} from '../peers/types.js';
import { seconds } from '../stats.js';
import { cpuMicros, JOB_TIMEOUT_MS, profileWindow, type MetricSpec, type RunResult, type Scenario } from './types.js';

export interface StreamArgs extends StreamRequest {
  /** How an item's `at` arrives (the child fills it in from its peer and payload). */
  arrivesAs: ArrivesAs;
}

export interface StreamReport {
  kind: StreamKind;
  count: number;
  /** Items that arrived. */
  received: number;
  /** Items that were not the one expected at their place (malformed, reordered, corrupted). */
  wrong: number;
  seconds: number;
  /** CPU time of the client process during the stream, in microseconds. */
  cpuUs: number;
  startNs: bigint;
  endNs: bigint;
}

/** A stream with no item for this long has stalled: it fails instead of waiting for the job timeout. */
const STALL_MS = 10_000;

function isItem(item: unknown, seq: number, as: ArrivesAs): boolean {
  const candidate = item as StreamItem | null;
  return (
    typeof candidate === 'object' &&
    candidate?.seq === seq &&
    candidate.text === ITEM_TEXT &&
    isInstant(candidate.at, EPOCH_MS + seq, as)
  );
}

function isSlice(item: unknown, seq: number): boolean {
  return (
    item instanceof Uint8Array &&
    item.length === SLICE_BYTES &&
    sliceSeq(item) === seq &&
    // All the bytes after the sequence number (a memcmp: a few µs per slice, alike for every peer).
    Buffer.compare(item.subarray(4), SLICE_TEMPLATE.subarray(4)) === 0
  );
}

/** Client side: one stream of `count` items, each checked, timed as a whole. */
export async function runStream(client: BenchClient, request: StreamArgs): Promise<StreamReport> {
  if (client.stream === undefined) throw new Error('this peer has no streams');
  const { arrivesAs } = request;
  const check = request.kind === 'items' ? isItem : isSlice;
  let received = 0;
  let wrong = 0;
  let lastItemAt = Date.now();
  const onItem = (item: unknown): void => {
    if (!check(item, received, arrivesAs)) wrong++;
    received++;
    lastItemAt = Date.now();
  };
  let watchdog: ReturnType<typeof setInterval> | undefined;
  const stalled = new Promise<never>((_, reject) => {
    watchdog = setInterval(() => {
      if (Date.now() - lastItemAt > STALL_MS) {
        reject(new Error(`${request.kind}: no item for ${STALL_MS} ms after ${received} of ${request.count}`));
      }
    }, 500);
  });
  const cpuStart = cpuMicros();
  const start = process.hrtime.bigint();
  try {
    await Promise.race([
      client.stream({ kind: request.kind, count: request.count, window: request.window }, onItem),
      stalled,
    ]);
  } finally {
    clearInterval(watchdog);
  }
  const end = process.hrtime.bigint();
  return {
    kind: request.kind,
    count: request.count,
    received,
    wrong,
    seconds: seconds(start, end),
    cpuUs: cpuMicros() - cpuStart,
    startNs: start,
    endNs: end,
  };
}

interface StreamSizes {
  count: number;
  warmup: number;
  /** wirecall's window: items in flight before the client grants more. */
  window: number;
}

const sizes = (quick: boolean): Record<StreamKind, StreamSizes> =>
  quick
    ? { items: { warmup: 5_000, count: 50_000, window: 64 }, slices: { warmup: 30, count: 300, window: 16 } }
    : { items: { warmup: 20_000, count: 200_000, window: 64 }, slices: { warmup: 100, count: 1_000, window: 16 } };

/**
 * The peers of each kind. Socket.IO has no flow-controlled stream (an emit per item is
 * fire-and-forget: no window, no backpressure), so it is not run. tRPC runs the small items only
 * (see peers/trpc.ts).
 */
const PEERS: Record<StreamKind, readonly PeerName[]> = {
  items: ['raw', 'trpc', 'wirecall'],
  slices: ['raw', 'wirecall'],
};

/** The problems a report shows, empty when every item arrived once, in order, intact. */
function problems(report: StreamReport, phase: string): string[] {
  const found: string[] = [];
  if (report.received !== report.count)
    found.push(`${phase} ${report.kind}: ${report.received} of ${report.count} items arrived`);
  if (report.wrong > 0)
    found.push(`${phase} ${report.kind}: ${report.wrong} items were not the one expected at their place`);
  return found;
}

/** Orchestrator: an untimed stream, then the measured one with the server's CPU time around it. */
async function measure(server: Child, clients: Child, kind: StreamKind, { warmup, count, window }: StreamSizes) {
  const warm = await clients.call<StreamReport>('stream', { kind, count: warmup, window }, JOB_TIMEOUT_MS);
  const serverCpuStart = await server.call<number>('cpu', {}, JOB_TIMEOUT_MS);
  const report = await clients.call<StreamReport>('stream', { kind, count, window }, JOB_TIMEOUT_MS);
  const serverCpuUs = (await server.call<number>('cpu', {}, JOB_TIMEOUT_MS)) - serverCpuStart;
  const failures = [...problems(warm, 'warm-up'), ...problems(report, 'measured')];
  const bad = [warm, report].reduce(
    (total, { count, received, wrong }) => total + wrong + Math.abs(count - received),
    0,
  );
  return { report, serverCpuUs, failures, bad };
}

function metricsOf(kind: StreamKind, line: string, payload: Payload | undefined): MetricSpec[] {
  const bad: MetricSpec = {
    key: 'bad',
    label: `F missing or wrong items, ${line}`,
    unit: 'items',
    better: 'lower',
    digits: 0,
    aggregate: 'sum',
  };
  if (kind === 'items') {
    return [
      {
        key: 'itemsPerSec',
        label: `F small items/s, ${line}`,
        unit: 'items/s',
        better: 'higher',
        digits: 0,
        ratio: true,
        ...(payload === 'date' ? { target: { op: '>=', value: 0.9 } } : { chart: true }),
      },
      {
        key: 'itemServerCpuUs',
        label: `F server CPU per item, ${line}`,
        unit: 'µs',
        better: 'lower',
        digits: 2,
        ratio: true,
      },
      {
        key: 'itemClientCpuUs',
        label: `F client CPU per item, ${line}`,
        unit: 'µs',
        better: 'lower',
        digits: 2,
        ratio: true,
      },
      bad,
    ];
  }
  return [
    {
      key: 'sliceMBps',
      label: 'F 64 KiB slices',
      unit: 'MB/s',
      better: 'higher',
      digits: 0,
      ratio: true,
      target: { op: '>=', value: 0.9 },
    },
    { key: 'slicesPerSec', label: 'F 64 KiB slices/s', unit: 'slices/s', better: 'higher', digits: 0, ratio: true },
    { key: 'sliceServerCpuUs', label: 'F server CPU per slice', unit: 'µs', better: 'lower', digits: 0, ratio: true },
    { key: 'sliceClientCpuUs', label: 'F client CPU per slice', unit: 'µs', better: 'lower', digits: 0, ratio: true },
    bad,
  ];
}

/**
 * F with one kind of item: small items with one payload (`items, Date`, `items, numbers`), or the
 * binary slices (`slices`, which carry no instant). Targets: small items/s with a Date and slices'
 * MB/s, ≥ 0.9 of raw ws (flow control on: wirecall's window, raw ws's wait for its socket).
 */
export function scenarioF(kind: StreamKind, payload?: Payload): Scenario {
  const line = kind === 'items' ? `items, ${PAYLOAD_LABELS[payload ?? 'numbers']}` : 'slices';
  return {
    id: 'F',
    line,
    ...(payload === undefined ? {} : { payload }),
    title:
      kind === 'items'
        ? `a stream of small items from the server, one connection; at: ${PAYLOAD_LABELS[payload ?? 'numbers']}`
        : 'a stream of 64 KiB binary slices from the server, one connection',
    peers: PEERS[kind],
    notes: [
      'Socket.IO is not run: it has no flow-controlled stream (an emit per item has no window and no backpressure)',
      ...(kind === 'items'
        ? ['tRPC streams small items only (an async-generator subscription, no flow control)']
        : ['tRPC is not run: it has no binary type for slices (and no flow control)']),
      'raw ws is flow-controlled by TCP only: it sends as fast as its socket drains',
    ],
    metrics: metricsOf(kind, line, payload),
    sizes: (quick) => sizes(quick)[kind],
    run: (peer, env) =>
      withChildren(env.harness, 'F', async (start): Promise<RunResult> => {
        const [server, clients] = await Promise.all([
          start({ role: 'server', peer }),
          start({ role: 'clients', peer }),
        ]);
        const { url } = await server.call<{ url: string }>('listen', { host: HOST, payload }, JOB_TIMEOUT_MS);
        await clients.call('connect', { urls: [url], count: 1, offset: 0, concurrency: 1, payload }, JOB_TIMEOUT_MS);
        const { report, serverCpuUs, failures, bad } = await measure(server, clients, kind, sizes(env.quick)[kind]);
        const metrics: Record<string, number> = { bad, ...profileWindow(report.startNs, report.endNs) };
        if (kind === 'items') {
          metrics.itemsPerSec = report.count / report.seconds;
          metrics.itemServerCpuUs = serverCpuUs / report.count;
          metrics.itemClientCpuUs = report.cpuUs / report.count;
        } else {
          metrics.slicesPerSec = report.count / report.seconds;
          metrics.sliceMBps = (report.count * SLICE_BYTES) / report.seconds / 1e6;
          metrics.sliceServerCpuUs = serverCpuUs / report.count;
          metrics.sliceClientCpuUs = report.cpuUs / report.count;
        }
        return { metrics, failures };
      }),
  };
}
