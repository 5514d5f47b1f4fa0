import { createHash } from 'node:crypto';
import type { StreamKey } from '@wirecall/core/internal';
import type { Cluster, Redis } from 'ioredis';
import type {
  PresenceEntry,
  PresenceListener,
  PresenceNotice,
  PresencePage,
  PresenceStore,
  SignalBus,
} from './presence-store.js';

/**
 * Presence and signals on Redis, shared by every node of one prefix. The Redis broker owns the
 * connections: it hands its command connection to these stores and routes the messages its
 * subscription receives on their channels to {@link RedisPresence.receive} and
 * {@link RedisSignals.receive}.
 *
 * Per stream key K (tag = a hash of K, since K itself may hold `{` and `}`), four keys that share
 * the hash tag `{tag}`, so a stream's presence lives in one Redis Cluster slot and one script can
 * touch them all:
 *
 * - `<prefix>:presence:{tag}:entries`  HASH  conn -> member
 * - `<prefix>:presence:{tag}:leases`   ZSET  conn -> lease end (ms, Redis clock)
 * - `<prefix>:presence:{tag}:members`  HASH  member -> connections
 * - `<prefix>:presence:{tag}:data`     HASH  member -> data (JSON text of its wire value)
 *
 * Every change is one Lua script (set, refresh, remove, sweep): it changes the four keys and
 * publishes the resulting notices on `<prefix>:presence` in one atomic step, so a join, update or
 * leave is announced exactly once, by whichever node's script made it, however many nodes race.
 *
 * Notices and signals are Pub/Sub messages, not history: while a node's subscription is down it
 * misses them, and nothing replays them. The server's presence is a view that the next list or
 * notice corrects; signals are at most once by contract.
 */

/**
 * Expired entries one sweep script removes: a script blocks Redis while it runs, so a room whose
 * node died with many connections is emptied in batches.
 */
const SWEEP_BATCH = 1_000;
/** Batches one `sweep()` call runs at most; whatever is left goes to the next sweep. */
const SWEEP_ROUNDS = 10;
/** Connections one refresh script takes (the arguments of one script call stay bounded). */
const REFRESH_BATCH = 1_000;
/** Members one page holds at most, whatever `limit` asks for. */
const MAX_PAGE = 10_000;
/** How long a room's keys outlive its longest lease at least, before an abandoned room vanishes. */
const KEEP_MS = 60_000;

/**
 * Shared by the scripts. KEYS: entries, leases, members, data; ARGV[1] the notice channel, ARGV[2]
 * the stream key (carried by notices as is).
 *
 * The clock is the Redis server's (`TIME`), not the calling node's: every lease is set and compared
 * on one clock, so a node whose clock runs ahead cannot sweep the live entries of another. (Redis 5+
 * replicates scripts by their effects, so writes after TIME are allowed; Redis 7 only does that.)
 */
const PRELUDE = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function ms(value)
  return string.format('%.0f', value)
end
local function announce(op, member, data)
  local notice = { k = ARGV[2], op = op, member = member, count = redis.call('HLEN', KEYS[3]) }
  if data then notice.data = data end
  redis.call('PUBLISH', ARGV[1], cjson.encode(notice))
end
local function drop(conn)
  local member = redis.call('HGET', KEYS[1], conn)
  redis.call('ZREM', KEYS[2], conn)
  if not member then return end
  redis.call('HDEL', KEYS[1], conn)
  local connections = redis.call('HGET', KEYS[3], member)
  if not connections then return end
  if tonumber(connections) <= 1 then
    redis.call('HDEL', KEYS[3], member)
    redis.call('HDEL', KEYS[4], member)
    announce('leave', member)
  else
    redis.call('HINCRBY', KEYS[3], member, -1)
  end
end
local function tidy()
  if redis.call('HLEN', KEYS[1]) == 0 then redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4]) end
end
local function keep(now, keep_ms)
  local latest = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')[2]
  if not latest then return end
  local ttl = ms(math.max(tonumber(latest) - now, 0) + keep_ms)
  for i = 1, 4 do redis.call('PEXPIRE', KEYS[i], ttl) end
end
`;

/**
 * Adds or updates a connection's entry. ARGV[3..7]: conn, member, data, lease ms, keep ms.
 * `join` for the member's first connection, `update` when its data differs from the stored data.
 * A connection's member never changes; should it, the connection leaves its old member first
 * (instead of counting for two members and never leaving the first).
 */
const SET_SCRIPT = `${PRELUDE}
local conn, member, data = ARGV[3], ARGV[4], ARGV[5]
local now = now_ms()
local previous = redis.call('HGET', KEYS[1], conn)
if previous and previous ~= member then
  drop(conn)
  previous = false
end
redis.call('HSET', KEYS[1], conn, member)
redis.call('ZADD', KEYS[2], ms(now + tonumber(ARGV[6])), conn)
if redis.call('HEXISTS', KEYS[3], member) == 0 then
  redis.call('HSET', KEYS[3], member, 1)
  redis.call('HSET', KEYS[4], member, data)
  announce('join', member, data)
else
  if not previous then redis.call('HINCRBY', KEYS[3], member, 1) end
  if redis.call('HGET', KEYS[4], member) ~= data then
    redis.call('HSET', KEYS[4], member, data)
    announce('update', member, data)
  end
end
keep(now, tonumber(ARGV[7]))
`;

/** Sets the leases of existing entries (ZADD XX: never creates one). ARGV[3..]: lease ms, keep ms, conns. */
const REFRESH_SCRIPT = `${PRELUDE}
local now = now_ms()
local lease_end = ms(now + tonumber(ARGV[3]))
for i = 5, #ARGV do redis.call('ZADD', KEYS[2], 'XX', lease_end, ARGV[i]) end
keep(now, tonumber(ARGV[4]))
`;

/** Removes a connection's entry; `leave` when it was its member's last. ARGV[3]: conn. */
const REMOVE_SCRIPT = `${PRELUDE}
drop(ARGV[3])
tidy()
`;

/** Removes up to ARGV[3] entries whose lease ended (at or before now). Returns how many. */
const SWEEP_SCRIPT = `${PRELUDE}
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ms(now_ms()), 'LIMIT', 0, tonumber(ARGV[3]))
for _, conn in ipairs(expired) do drop(conn) end
tidy()
return #expired
`;

/**
 * One page of members. KEYS: members, data; ARGV: HSCAN cursor, skip, limit, COUNT. Returns
 * { member count, next position or '', { member, connections, data, … } }.
 *
 * A position is an HSCAN cursor and how many members to skip of what HSCAN returns from it: HSCAN
 * may return more than COUNT (a small hash comes back whole, cursor 0), so a page can end inside a
 * batch, and the next page scans from the same cursor again and skips what was already listed.
 * From a given cursor, an unchanged hash yields the same members in the same order whatever the
 * COUNT, so pages cover every member exactly once while nothing changes; when members come and
 * go meanwhile, one may be missed or seen twice (as the contract allows). The page is read in one
 * script, so its counts and data are of one moment. It ends on the first member it has no room
 * for, so a last page never comes with a cursor to an empty one.
 */
const LIST_SCRIPT = `
local cursor, skip, limit, count = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local page = {}
local listed = 0
while true do
  local reply = redis.call('HSCAN', KEYS[1], cursor, 'COUNT', count)
  local flat = reply[2]
  local size = #flat / 2
  if skip >= size then
    skip = skip - size
  else
    for i = skip, size - 1 do
      if listed >= limit then return { redis.call('HLEN', KEYS[1]), cursor .. ':' .. i, page } end
      local member = flat[2 * i + 1]
      page[#page + 1] = member
      page[#page + 1] = flat[2 * i + 2]
      page[#page + 1] = redis.call('HGET', KEYS[2], member) or ''
      listed = listed + 1
    end
    skip = 0
  end
  if reply[1] == '0' then return { redis.call('HLEN', KEYS[1]), '', page } end
  cursor = reply[1]
end
`;

const SCRIPTS = {
  wirecallPresenceSet: { numberOfKeys: 4, lua: SET_SCRIPT },
  wirecallPresenceRefresh: { numberOfKeys: 4, lua: REFRESH_SCRIPT },
  wirecallPresenceRemove: { numberOfKeys: 4, lua: REMOVE_SCRIPT },
  wirecallPresenceSweep: { numberOfKeys: 4, lua: SWEEP_SCRIPT },
  wirecallPresenceList: { numberOfKeys: 2, lua: LIST_SCRIPT },
} as const;

type ScriptName = keyof typeof SCRIPTS;

const POSITION = /^(\d{1,20}):(\d{1,9})$/;
const OPS = new Set<unknown>(['join', 'update', 'leave']);

/** Presence of every node on one Redis (see the top of this file for the keys and scripts). */
export class RedisPresence implements PresenceStore {
  readonly #redis: Redis | Cluster;
  readonly #prefix: string;
  readonly #channel: string;
  readonly #listeners = new Set<PresenceListener>();

  /** `redis`: a command connection (the broker's); `prefix`: of every key and channel. */
  constructor(redis: Redis | Cluster, prefix: string) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#channel = `${prefix}:presence`;
    for (const [name, definition] of Object.entries(SCRIPTS)) redis.defineCommand(name, definition);
  }

  /** The Pub/Sub channel of the notices, which the broker's subscription listens to. */
  get channel(): string {
    return this.#channel;
  }

  async set(key: StreamKey, { conn, member, data }: PresenceEntry, leaseMs: number): Promise<void> {
    await this.#run('wirecallPresenceSet', this.#keys(key), [
      this.#channel,
      key,
      conn,
      member,
      data,
      leaseMs,
      keepMs(leaseMs),
    ]);
  }

  async refresh(key: StreamKey, conns: readonly string[], leaseMs: number): Promise<void> {
    const keys = this.#keys(key);
    for (let start = 0; start < conns.length; start += REFRESH_BATCH) {
      const batch = conns.slice(start, start + REFRESH_BATCH);
      await this.#run('wirecallPresenceRefresh', keys, [this.#channel, key, leaseMs, keepMs(leaseMs), ...batch]);
    }
  }

  async remove(key: StreamKey, conn: string): Promise<void> {
    await this.#run('wirecallPresenceRemove', this.#keys(key), [this.#channel, key, conn]);
  }

  async sweep(key: StreamKey): Promise<void> {
    const keys = this.#keys(key);
    for (let round = 0; round < SWEEP_ROUNDS; round++) {
      const swept = Number(await this.#run('wirecallPresenceSweep', keys, [this.#channel, key, SWEEP_BATCH]));
      if (!(swept >= SWEEP_BATCH)) break;
    }
  }

  async list(key: StreamKey, { limit, cursor }: { limit: number; cursor?: string | undefined }): Promise<PresencePage> {
    await this.sweep(key);
    const size = Number.isFinite(limit) ? Math.min(Math.max(Math.floor(limit), 0), MAX_PAGE) : MAX_PAGE;
    // An unknown cursor starts over, as the memory store does.
    const [, scanCursor = '0', skip = '0'] = POSITION.exec(cursor ?? '') ?? [];
    const [, , members, data] = this.#keys(key);
    const [count, next, flat] = (await this.#run(
      'wirecallPresenceList',
      [members, data],
      [scanCursor, skip, size, Math.max(size, 10)],
    )) as [number, string, string[]];
    const page: PresencePage = { count: Number(count), members: [] };
    for (let i = 0; i + 2 < flat.length; i += 3) {
      page.members.push({ key: flat[i]!, connections: Number(flat[i + 1]), data: flat[i + 2]! });
    }
    if (next !== '') page.cursor = next;
    return page;
  }

  listen(listener: PresenceListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Hands a message of the notice channel to this node's listeners; ignores what is not a notice. */
  receive(message: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(message);
    } catch {
      return; // not ours: someone else published on the channel
    }
    if (typeof parsed !== 'object' || parsed === null) return;
    const { k, op, member, count, data } = parsed as Record<string, unknown>;
    if (typeof k !== 'string' || !OPS.has(op) || typeof member !== 'string' || typeof count !== 'number') return;
    const notice: PresenceNotice = { op: op as PresenceNotice['op'], member, count };
    if (op !== 'leave') {
      if (typeof data !== 'string') return;
      notice.data = data;
    }
    for (const listener of this.#listeners) {
      try {
        listener(k, notice);
      } catch {
        // one failing listener must not keep the notice from the others (the server's guards itself)
      }
    }
  }

  /** Removes every listener (the broker closes). */
  clear(): void {
    this.#listeners.clear();
  }

  /** The four keys of a stream's presence, hash-tagged by a hash of its key (which may hold braces). */
  #keys(key: StreamKey): [entries: string, leases: string, members: string, data: string] {
    const tag = createHash('sha256').update(key).digest('base64url').slice(0, 22);
    const base = `${this.#prefix}:presence:{${tag}}`;
    return [`${base}:entries`, `${base}:leases`, `${base}:members`, `${base}:data`];
  }

  #run(name: ScriptName, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    const command = (this.#redis as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)[name]!;
    return command.call(this.#redis, ...keys, ...args);
  }
}

/** Keys outlive their longest lease by this much: beyond any grace, so an abandoned room vanishes. */
function keepMs(leaseMs: number): number {
  return Math.max(leaseMs, KEEP_MS);
}

/** Signals of every node on one Redis: one Pub/Sub channel, nothing stored. */
export class RedisSignals implements SignalBus {
  readonly #redis: Redis | Cluster;
  readonly #channel: string;
  readonly #listeners = new Set<(message: string) => void>();

  constructor(redis: Redis | Cluster, prefix: string) {
    this.#redis = redis;
    this.#channel = `${prefix}:signals`;
  }

  /** The Pub/Sub channel of the signals, which the broker's subscription listens to. */
  get channel(): string {
    return this.#channel;
  }

  async send(message: string): Promise<void> {
    await this.#redis.publish(this.#channel, message);
  }

  listen(listener: (message: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Hands a message of the signal channel to this node's listeners (every node's, this one's too). */
  receive(message: string): void {
    for (const listener of this.#listeners) {
      try {
        listener(message);
      } catch {
        // as above: the server's listener guards itself
      }
    }
  }

  /** Removes every listener (the broker closes). */
  clear(): void {
    this.#listeners.clear();
  }
}
