import type { JetStreamClient } from '@nats-io/jetstream';
import { Kvm, type KV, type KvOptions } from '@nats-io/kv';

/** What JetStream answers the loser of two nodes creating one bucket at the same moment. */
const CREATE_RACE = /subjects overlap|already in use/i;

/**
 * Creates a KV bucket, or binds to it when it exists with the same settings. Nodes start together
 * and create the same buckets; when two creates meet in JetStream, the loser is refused ("subjects
 * overlap with an existing stream") though the bucket it wanted now exists: it asks once more.
 */
export async function kvBucket(client: JetStreamClient, name: string, options: Partial<KvOptions>): Promise<KV> {
  const kvm = new Kvm(client);
  try {
    return await kvm.create(name, options);
  } catch (error) {
    if (!CREATE_RACE.test(error instanceof Error ? error.message : String(error))) throw error;
    return kvm.create(name, options);
  }
}
