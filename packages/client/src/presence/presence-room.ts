import {
  checkSchema,
  encodeFrame,
  fromErrorShape,
  stableStringify,
  toWire,
  WirecallError,
  type ErrorShape,
  type EventDef,
  type PresenceEnvelope,
  type PresenceMemberWire,
  type RequestId,
  type StreamKey,
  type WireValue,
  decodeValue,
  encodeValue,
} from '@wirecall/core/internal';
import type { PresenceContext, PresenceOptions, PresenceRouter } from '../presence-hooks.js';

/** One member of a stream's presence. */
export interface PresenceMember<TData> {
  /** The member's key: its user id (the server's `identify`), or an anonymous client's key. */
  key: string;
  /**
   * What it shows, parsed by the schema. (How many connections a member has is not here: a second
   * tab of a present member announces nothing to the others. `server.presenceOf` counts them.)
   */
  data: TData;
}

/** What changed; `sync` means the whole list was (re)loaded, after every (re)connect. */
export type PresenceChange<TData> =
  | { type: 'sync' }
  | { type: 'join' | 'update'; member: PresenceMember<TData> }
  | { type: 'leave'; key: string; member: PresenceMember<TData> | undefined };

/**
 * The presence of one event stream, as this client sees it. Observing starts at once; `join`
 * enters with this client's data. It survives reconnects: observed and joined again on every new
 * connection, then `sync`ed.
 */
export interface Presence<TData, TJoin> {
  /** Members now, exact. */
  readonly count: number;
  /**
   * Members by key: the first ones the server listed (up to its `maxMembers`), then whoever joins.
   * In a room larger than that, `count` is exact and this map holds only part of it.
   */
  readonly members: ReadonlyMap<string, PresenceMember<TData>>;
  /** This client's own member key, once the first sync arrived. */
  readonly me: string | undefined;
  /** Whether this client has joined (and not left). */
  readonly joined: boolean;
  /** Joins with this client's data, or updates it when already joined. */
  join(data: TJoin): void;
  /** Leaves; observing goes on. */
  leave(): void;
  /** Calls `listener` on every change. Returns the function that stops it. */
  subscribe(listener: (change: PresenceChange<TData>) => void): () => void;
  /** Leaves and stops observing, for good. */
  close(): void;
}

interface Room extends Presence<unknown, unknown> {
  readonly localKey: string;
}

/** The client's presences, by stream; each observed once per connection whatever uses it. */
export class PresenceRooms implements PresenceRouter {
  readonly #context: PresenceContext;
  readonly #rooms = new Map<string, PresenceRoom>();
  readonly #byId = new Map<RequestId, PresenceRoom>();

  constructor(context: PresenceContext) {
    this.#context = context;
  }

  open({
    event,
    def,
    params,
    options,
  }: {
    event: string;
    def: EventDef;
    params: unknown;
    options: PresenceOptions;
  }): Room {
    let wireParams: WireValue = {};
    let localKey = event;
    if (def.params !== undefined) {
      const checked = toWire(def.params, params);
      if (!checked.ok) {
        throw new WirecallError('BAD_REQUEST', `Invalid params for ${event}`, { data: { issues: checked.issues } });
      }
      wireParams = encodeValue(checked.value);
      localKey = `${event} ${stableStringify(encodeValue(checked.parsed))}`;
    }
    const existing = this.#rooms.get(localKey);
    if (existing !== undefined) return existing;
    const room = new PresenceRoom(
      { event, def, localKey, params: wireParams, options },
      {
        context: this.#context,
        observed: (id) => this.#byId.set(id, room),
        closed: () => {
          this.#rooms.delete(localKey);
          if (room.id !== undefined) this.#byId.delete(room.id);
        },
      },
    );
    this.#rooms.set(localKey, room);
    room.observe();
    return room;
  }

  opened(): void {
    for (const room of this.#rooms.values()) room.observe();
  }

  lost(): void {
    this.#byId.clear();
    for (const room of this.#rooms.values()) room.lost();
  }

  received(envelope: PresenceEnvelope): void {
    const room = envelope.op === 'sync' ? this.#byId.get(envelope.id ?? '') : this.#byKey(envelope.k);
    room?.received(envelope);
  }

  refused(id: RequestId, shape: ErrorShape, op: 'pset' | undefined): boolean {
    const room = this.#byId.get(id);
    if (room === undefined) return false;
    if (op === undefined) this.#byId.delete(id);
    room.refused(shape, op);
    return true;
  }

  close(): void {
    for (const room of [...this.#rooms.values()]) room.lost();
  }

  #byKey(key: StreamKey): PresenceRoom | undefined {
    for (const room of this.#byId.values()) if (room.key === key) return room;
    return undefined;
  }
}

interface RoomSpec {
  event: string;
  def: EventDef;
  localKey: string;
  params: WireValue;
  options: PresenceOptions;
}

interface RoomLinks {
  context: PresenceContext;
  observed: (id: RequestId) => void;
  closed: () => void;
}

class PresenceRoom implements Room {
  readonly localKey: string;
  readonly #spec: RoomSpec;
  readonly #links: RoomLinks;
  readonly #members = new Map<string, PresenceMember<unknown>>();
  readonly #listeners = new Set<(change: PresenceChange<unknown>) => void>();
  #count = 0;
  #me: string | undefined;
  /** Wire form of this client's data while joined: sent again on every new connection. */
  #joined: WireValue | undefined;
  #closed = false;
  /** Id of the `psub` on the current connection. */
  id: RequestId | undefined;
  /** The server's key for this stream, from the sync. */
  key: StreamKey | undefined;

  constructor(spec: RoomSpec, links: RoomLinks) {
    this.#spec = spec;
    this.#links = links;
    this.localKey = spec.localKey;
  }

  get count(): number {
    return this.#count;
  }

  get members(): ReadonlyMap<string, PresenceMember<unknown>> {
    return this.#members;
  }

  get me(): string | undefined {
    return this.#me;
  }

  get joined(): boolean {
    return this.#joined !== undefined;
  }

  observe(): void {
    if (this.#closed || this.id !== undefined) return;
    const id = this.#links.context.nextId();
    if (!this.#links.context.send(encodeFrame({ t: 'psub', id, e: this.#spec.event, ...this.#spec.params }))) return;
    this.id = id;
    this.#links.observed(id);
    if (this.#joined !== undefined) this.#links.context.send(encodeFrame({ t: 'pset', id, ...this.#joined }));
  }

  lost(): void {
    this.id = undefined;
    this.key = undefined;
  }

  join(data: unknown): void {
    if (this.#closed) throw new WirecallError('CLOSED', 'This presence was closed');
    const { presence } = this.#spec.def;
    const checked = toWire(presence!, data);
    if (!checked.ok) {
      throw new WirecallError('BAD_REQUEST', `Invalid presence data for ${this.#spec.event}`, {
        data: { issues: checked.issues },
      });
    }
    this.#joined = encodeValue(checked.value);
    if (this.id !== undefined) this.#links.context.send(encodeFrame({ t: 'pset', id: this.id, ...this.#joined }));
  }

  leave(): void {
    if (this.#joined === undefined) return;
    this.#joined = undefined;
    if (this.id !== undefined) this.#links.context.send(encodeFrame({ t: 'pdel', id: this.id }));
  }

  subscribe(listener: (change: PresenceChange<unknown>) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#joined = undefined;
    if (this.id !== undefined) this.#links.context.send(encodeFrame({ t: 'unsub', id: this.id }));
    this.#links.closed();
    this.lost();
    this.#listeners.clear();
  }

  received(envelope: PresenceEnvelope): void {
    this.#count = envelope.c;
    switch (envelope.op) {
      case 'sync': {
        this.key = envelope.k;
        this.#me = envelope.me;
        this.#members.clear();
        for (const wire of envelope.ms ?? []) {
          const member = this.#member(wire);
          if (member !== undefined) this.#members.set(member.key, member);
        }
        this.#emit({ type: 'sync' });
        return;
      }
      case 'join':
      case 'update': {
        const key = envelope.key ?? '';
        const member = this.#member({ key, d: envelope.d ?? {} });
        if (member === undefined) return;
        this.#members.set(key, member);
        this.#emit({ type: envelope.op, member });
        return;
      }
      case 'leave': {
        const key = envelope.key ?? '';
        const member = this.#members.get(key);
        this.#members.delete(key);
        this.#emit({ type: 'leave', key, member });
        return;
      }
    }
  }

  refused(shape: ErrorShape, op: 'pset' | undefined): void {
    const error = fromErrorShape(shape, undefined, decodeValue);
    if (op === 'pset') {
      this.#joined = undefined;
    } else {
      // Observing was refused: this presence is over.
      this.#closed = true;
      this.#joined = undefined;
      this.#links.closed();
      this.lost();
    }
    this.#fail(error);
  }

  /** A member from the wire, its data parsed (transforms and codecs run here, once). */
  #member(wire: Omit<PresenceMemberWire, 'n'>): PresenceMember<unknown> | undefined {
    if (typeof wire !== 'object' || wire === null || typeof wire.key !== 'string') return undefined;
    const checked = checkSchema(this.#spec.def.presence!, decodeValue(wire.d ?? {}));
    if (!checked.ok) {
      this.#fail(
        new WirecallError('INTERNAL', `Presence data of ${this.#spec.event} does not match the contract`, {
          data: { issues: checked.issues },
        }),
      );
      return undefined;
    }
    return { key: wire.key, data: checked.value };
  }

  #emit(change: PresenceChange<unknown>): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(change);
      } catch (error) {
        this.#links.context.reportError(error, `presence listener of ${this.#spec.event}`);
      }
    }
  }

  #fail(error: WirecallError): void {
    const { onError } = this.#spec.options;
    if (onError === undefined) {
      this.#links.context.reportError(error, `presence of ${this.#spec.event}`);
      return;
    }
    try {
      onError(error);
    } catch (thrown) {
      this.#links.context.reportError(thrown, 'presence onError');
    }
  }
}
