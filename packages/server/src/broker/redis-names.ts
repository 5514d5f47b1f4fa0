import type { StreamKey } from '@wirecall/core/internal';

/**
 * The Redis names of one prefix. A stream's history and its live channel carry the stream key as
 * one hash tag, `{<key>}`, so on a Redis Cluster both live in one slot: the publish script appends
 * to the history and announces on the channel (`SPUBLISH`) in one atomic step on one shard, and the
 * nodes that follow the stream subscribe on that shard alone (`SSUBSCRIBE`).
 *
 * Redis takes the tag from the first `{` to the next `}`; a prefix without braces makes that the
 * key's own `{`, so a key holding braces (its params as JSON) still gives both names the same tag.
 */
export class RedisNames {
  readonly prefix: string;
  readonly #livePrefix: string;

  constructor(prefix: string) {
    if (/[{}]/.test(prefix)) throw new TypeError('wirecall: a Redis prefix must not contain { or }');
    this.prefix = prefix;
    this.#livePrefix = `${prefix}:live:{`;
  }

  /** The Redis Stream holding the stream's recent events. */
  history(key: StreamKey): string {
    return `${this.prefix}:stream:{${key}}`;
  }

  /** The sharded Pub/Sub channel announcing the stream's events to the nodes that follow it. */
  live(key: StreamKey): string {
    return `${this.#livePrefix}${key}}`;
  }

  /** The stream key of a live channel, or undefined for any other channel. */
  keyOfLive(channel: string): StreamKey | undefined {
    return channel.startsWith(this.#livePrefix) && channel.endsWith('}')
      ? channel.slice(this.#livePrefix.length, -1)
      : undefined;
  }
}
