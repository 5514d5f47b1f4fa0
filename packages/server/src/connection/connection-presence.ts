import {
  toWire,
  toWirecallError,
  WirecallError,
  type EventDef,
  type PresenceLeaveEnvelope,
  type PresenceSetEnvelope,
  type PresenceSubscribeEnvelope,
  type RequestId,
  type StreamKey,
  decodeValue,
  encodeValue,
} from '@wirecall/core/internal';
import { encodeErrorBody } from './error-frame.js';
import type { PresenceObserver } from '../presence/presence-hub.js';
import type { SubscriptionOwner } from './subscriptions.js';
import { resolveStream } from './stream-access.js';

/** One stream whose presence this connection observes, and whether it is in it. */
interface Observed {
  event: string;
  def: EventDef & { presence: NonNullable<EventDef['presence']> };
  params: unknown;
  /** Undefined while the checks run. */
  key: StreamKey | undefined;
  joined: boolean;
  /** Notices that arrived before the sync was sent; they follow it. */
  held: string[] | undefined;
  /**
   * Joins, updates and leaves of this presence, one after another in the order they arrived,
   * after the observation's own checks (a `pset` may follow its `psub` before those are done).
   */
  chain: Promise<unknown>;
}

/** What presence needs from its connection, beyond what subscriptions do. */
export interface PresenceOwner extends SubscriptionOwner {
  /** The member this connection counts as (its user, or its anonymous client). */
  readonly member: string;
  /** Whether a call, a subscription or a presence already uses this id (ids are unique across them). */
  idInUse(id: RequestId): boolean;
  /** Refuses a frame naming `id`, without the id when something else holds it (see Connection). */
  refuseFrame(id: RequestId, error: WirecallError): void;
  /** Subscriptions plus observed presences, against `maxSubscriptions`. */
  readonly streamCount: number;
}

/**
 * The presences one connection observes and joins: `psub` (observe: a sync, then notices), `pset`
 * (join, or update its data), `pdel` (leave), `unsub` (stop observing). A dropped connection stays
 * present for the grace period; one that closes normally leaves at once.
 */
export class ConnectionPresence implements PresenceObserver {
  readonly #owner: PresenceOwner;
  readonly #byId = new Map<RequestId, Observed>();

  constructor(owner: PresenceOwner) {
    this.#owner = owner;
  }

  get size(): number {
    return this.#byId.size;
  }

  has(id: RequestId): boolean {
    return this.#byId.has(id);
  }

  async observe(envelope: PresenceSubscribeEnvelope): Promise<void> {
    const owner = this.#owner;
    const { host } = owner;
    const { id, e: event } = envelope;
    const hub = host.presence;
    if (this.#byId.has(id) || owner.idInUse(id)) {
      owner.refuseFrame(
        id,
        new WirecallError('BAD_REQUEST', 'This id is in use by a subscription or a call in flight'),
      );
      return;
    }
    const { maxSubscriptions } = host.limits;
    if (owner.streamCount >= maxSubscriptions) {
      owner.replyError(
        id,
        new WirecallError('RATE_LIMITED', `At most ${maxSubscriptions} subscriptions per connection`),
      );
      return;
    }
    const def = host.events.get(event);
    if (def === undefined) {
      owner.replyError(id, new WirecallError('NOT_FOUND', `Unknown event ${event}`));
      return;
    }
    if (def.presence === undefined || hub === undefined) {
      owner.replyError(id, new WirecallError('BAD_REQUEST', `Event ${event} declares no presence`));
      return;
    }
    let checked = (): void => {};
    const observed: Observed = {
      event,
      def: def as Observed['def'],
      params: undefined,
      key: undefined,
      joined: false,
      held: [],
      chain: new Promise<void>((resolve) => (checked = resolve)),
    };
    this.#byId.set(id, observed);
    try {
      await this.#sync(id, observed, envelope);
    } finally {
      checked();
    }
  }

  async #sync(id: RequestId, observed: Observed, envelope: PresenceSubscribeEnvelope): Promise<void> {
    const owner = this.#owner;
    const { host } = owner;
    const { event, def } = observed;
    const hub = host.presence!;
    try {
      const resolved = await resolveStream(owner, { event, def, value: envelope });
      if (this.#byId.get(id) !== observed || owner.closed) return; // stopped meanwhile
      // Notices carry the stream key, not an id: a second observation of one stream would get each twice.
      for (const [other, existing] of this.#byId) {
        if (other === id || existing.key !== resolved.key) continue;
        this.#byId.delete(id);
        owner.replyError(
          id,
          new WirecallError('BAD_REQUEST', `This connection already observes ${resolved.key} (id ${String(other)})`),
        );
        return;
      }
      observed.key = resolved.key;
      observed.params = resolved.params;
      hub.observe(resolved.key, this);
      const page = await hub.list(resolved.key, host.presenceOptions.maxMembers);
      if (this.#byId.get(id) !== observed || owner.closed) return;
      const members = page.members.map(
        (member) => `{"key":${JSON.stringify(member.key)},"n":${member.connections},"d":${member.data}}`,
      );
      owner.send(
        `{"t":"presence","id":${JSON.stringify(id)},"k":${JSON.stringify(resolved.key)},"op":"sync","c":${page.count},` +
          `"me":${JSON.stringify(owner.member)},"ms":[${members.join(',')}]${page.cursor === undefined ? '' : ',"more":true'}}`,
      );
    } catch (thrown) {
      if (this.#byId.get(id) !== observed) return;
      this.#forget(id, observed);
      const error = toWirecallError(thrown);
      if (error.code === 'INTERNAL')
        host.logger.error({ err: error.cause ?? error, event }, 'observing presence failed');
      owner.replyError(id, error);
      return;
    }
    const held = observed.held ?? [];
    observed.held = undefined;
    for (const frame of held) owner.send(frame);
  }

  /** Joins the observed presence `id`, or updates this member's data. */
  set(envelope: PresenceSetEnvelope): void {
    const observed = this.#byId.get(envelope.id);
    if (observed === undefined) {
      this.refuse(envelope.id, new WirecallError('NOT_FOUND', 'No presence is observed with this id'));
      return;
    }
    observed.chain = observed.chain.then(() => this.#set(envelope, observed));
  }

  async #set(envelope: PresenceSetEnvelope, observed: Observed): Promise<void> {
    const owner = this.#owner;
    const { host } = owner;
    try {
      // Refused, or stopped while its checks ran: the refusal (or the unsub) already said so.
      if (observed.key === undefined || this.#byId.get(envelope.id) !== observed) return;
      const key = observed.key;
      const checked = toWire(observed.def.presence, decodeValue(envelope));
      if (!checked.ok) {
        throw new WirecallError('BAD_REQUEST', `Invalid presence data for ${observed.event}`, {
          data: { issues: checked.issues },
        });
      }
      if (host.canJoin) {
        const allowed = await host.canJoin({
          event: observed.event,
          params: observed.params,
          data: checked.parsed,
          ctx: owner.ctx,
          connection: owner.info,
        });
        if (!allowed) throw new WirecallError('FORBIDDEN', `Not allowed to join the presence of ${observed.event}`);
      }
      if (this.#byId.get(envelope.id) !== observed || owner.closed) return;
      observed.joined = true;
      const data = JSON.stringify(encodeValue(checked.value));
      await host.presence!.join(key, { conn: owner.info.id, member: owner.member, data });
    } catch (thrown) {
      const error = toWirecallError(thrown);
      if (error.code === 'INTERNAL') {
        host.logger.error({ err: error.cause ?? error, event: observed.event }, 'joining presence failed');
      }
      this.refuse(envelope.id, error);
    }
  }

  /** Answers a `pset` with its refusal; observing goes on. */
  refuse(id: RequestId, error: WirecallError): void {
    const { host } = this.#owner;
    const encoded = encodeErrorBody(error, host.logger);
    host.counters.countError(encoded.code);
    this.#owner.send(`{"t":"error","id":${JSON.stringify(id)},"op":"pset","e":${encoded.json}}`);
  }

  leave(envelope: PresenceLeaveEnvelope): void {
    const observed = this.#byId.get(envelope.id);
    if (observed === undefined) return;
    observed.chain = observed.chain.then(() => {
      if (observed.joined) this.#leave(observed);
    });
  }

  /** `unsub` of an observed presence: leave it (if joined) and stop observing. */
  unobserve(id: RequestId): void {
    const observed = this.#byId.get(id);
    if (observed === undefined) return;
    if (observed.joined) this.#leave(observed);
    this.#forget(id, observed);
  }

  presenceNotice(_key: StreamKey, frame: string): void {
    // Several observations of one stream on a connection are one observer: the hub sends once each.
    for (const observed of this.#byId.values()) {
      if (observed.key !== _key) continue;
      if (observed.held) observed.held.push(frame);
      else this.#owner.send(frame);
    }
  }

  /**
   * The connection closed. `clean`: the client closed it on purpose, and its members leave now;
   * otherwise they stay for the grace period, in case it comes back.
   */
  release(clean: boolean): void {
    const hub = this.#owner.host.presence;
    for (const [id, observed] of this.#byId) {
      if (observed.joined && observed.key !== undefined && hub !== undefined) {
        if (clean) this.#leave(observed);
        else hub.dropped(observed.key, this.#owner.info.id);
      }
      this.#forget(id, observed);
    }
  }

  #leave(observed: Observed): void {
    observed.joined = false;
    const { host, info } = this.#owner;
    if (observed.key === undefined || host.presence === undefined) return;
    host.presence.leave(observed.key, info.id).catch((error: unknown) => {
      host.logger.warn({ err: error, stream: observed.key }, 'leaving presence failed; the lease will end it');
    });
  }

  #forget(id: RequestId, observed: Observed): void {
    this.#byId.delete(id);
    if (observed.key === undefined) return;
    for (const other of this.#byId.values()) if (other.key === observed.key) return;
    this.#owner.host.presence?.unobserve(observed.key, this);
  }
}
