import { afterEach, describe, expect, it } from 'vitest';
import { redisBroker, type RedisBroker } from '@wirecall/server/redis';
import { deleteKeys, REDIS_URL, redisSuite, requireRedis, uniquePrefix } from './helpers/redis.js';

const redis = await requireRedis();

/**
 * The Redis broker's history against a real Redis: what a resuming client is told when the stream
 * was trimmed (MAXLEN) past the id it resumes from. Redis 7's `max-deleted-entry-id` does not move
 * on trimming, so the oldest kept entry is what shows it.
 */
describe.skipIf(!redis.available)(redisSuite('Redis history and gaps', redis), () => {
  const brokers: RedisBroker[] = [];
  const prefixes: string[] = [];
  afterEach(async () => {
    for (const broker of brokers.splice(0)) await broker.close();
    for (const prefix of prefixes.splice(0)) await deleteKeys(REDIS_URL, prefix);
  });

  async function brokerWith(maxEvents: number): Promise<RedisBroker> {
    const prefix = uniquePrefix('history');
    prefixes.push(prefix);
    const broker = redisBroker({ url: REDIS_URL, prefix, history: { maxEvents } });
    brokers.push(broker);
    await broker.ready();
    return broker;
  }

  async function publish(broker: RedisBroker, key: string, count: number): Promise<string[]> {
    const ids: string[] = [];
    for (let seq = 1; seq <= count; seq++) ids.push(await broker.publish(key, { v: seq }));
    return ids;
  }

  it('replays without a gap while the history reaches back far enough', async () => {
    const broker = await brokerWith(1_000);
    const ids = await publish(broker, 'kept', 30);
    const all = await broker.replay('kept', '0-0');
    expect(all.gap).toBe(false);
    expect(all.events).toHaveLength(30);
    const { events, gap } = await broker.replay('kept', ids[19]!);
    expect(gap).toBe(false);
    expect(events.map((event) => event.value.v)).toEqual([21, 22, 23, 24, 25, 26, 27, 28, 29, 30]);
  });

  it('reports a gap when the stream was trimmed past the resume point, with where to resume', async () => {
    const broker = await brokerWith(50);
    const ids = await publish(broker, 'trimmed', 400);
    for (const after of [ids[0]!, '0-0']) {
      const { events, gap, resumeFrom } = await broker.replay('trimmed', after);
      expect(gap).toBe(true);
      // The tail that is left, in order, up to the newest; resuming from `resumeFrom` loses nothing more.
      const seqs = events.map((event) => event.value.v as number);
      expect(seqs.at(-1)).toBe(400);
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_unused, index) => 401 - seqs.length + index));
      expect(broker.compareIds(resumeFrom!, events[0]!.id)).toBeLessThan(0);
    }
    // A resume point inside the kept history: no gap.
    const recent = await broker.replay('trimmed', ids[389]!);
    expect(recent.gap).toBe(false);
    expect(recent.events.map((event) => event.value.v)).toEqual([391, 392, 393, 394, 395, 396, 397, 398, 399, 400]);
  });
});
