import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { inCi } from '../cluster/helpers/redis.js';

/** The NATS server (with JetStream) the broker tests use. */
export const NATS_URL = process.env.NATS_URL ?? '127.0.0.1:4222';

export interface NatsCheck {
  available: boolean;
  url: string;
  /** Why the suite cannot run, and how to fix it; empty when NATS answered. */
  reason: string;
}

/**
 * The guard of every suite that needs NATS with JetStream, like `requireRedis`: missing in CI
 * throws (a skipped suite would look green while proving nothing); missing locally answers a reason
 * that {@link natsSuite} puts in the suite's name and on stderr.
 */
export async function requireNats(url: string = NATS_URL): Promise<NatsCheck> {
  let problem: string | undefined;
  try {
    const nc = await connect({ servers: url, timeout: 2_000, reconnect: false });
    try {
      await (await jetstreamManager(nc)).getAccountInfo();
    } finally {
      await nc.close();
    }
  } catch (error) {
    problem = error instanceof Error ? error.message : String(error);
  }
  if (problem === undefined) return { available: true, url, reason: '' };
  const reason = `NATS with JetStream is not reachable at ${url} (${problem}). Start one with \`nats-server -js\``;
  if (inCi()) throw new Error(`${reason}. CI is set, so a missing NATS fails the run instead of skipping it.`);
  return { available: false, url, reason };
}

/** The suite's title; when skipped, it says why, also on stderr. */
export function natsSuite(title: string, check: NatsCheck): string {
  if (check.available) return title;
  process.stderr.write(`[wirecall broker tests] skipping "${title}": ${check.reason}.\n`);
  return `${title} [skipped: ${check.reason}]`;
}

/** Deletes the JetStream streams of a broker prefix: its history, its idempotency and presence buckets. */
export async function deleteStream(url: string, prefix: string): Promise<void> {
  const nc = await connect({ servers: url, reconnect: false });
  const name = `WIRECALL_${prefix.toUpperCase().replace(/-/g, '_')}`;
  try {
    const jsm = await jetstreamManager(nc);
    for (const stream of [name, `KV_${name}_IDEM`, `KV_${name}_PRESENCE`]) {
      await jsm.streams.delete(stream).catch(() => {}); // already gone, or never made
    }
  } finally {
    await nc.close();
  }
}
