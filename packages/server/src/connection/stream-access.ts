import {
  checkSchema,
  MAX_STREAM_KEY_LENGTH,
  streamKey,
  WirecallError,
  type EventDef,
  type StreamKey,
  type WireValue,
  decodeValue,
  encodeValue,
} from '@wirecall/core/internal';
import type { ConnectionHost } from './connection-host.js';
import type { ConnectionInfo } from './connection-info.js';

/** Who asks for a stream: what `canSubscribe` and a personal stream's key are decided from. */
export interface StreamAsker {
  readonly host: ConnectionHost;
  readonly info: ConnectionInfo;
  readonly ctx: unknown;
}

/** The stream of an event with these params, as the server names it (and a client learns it). */
export interface ResolvedStream {
  key: StreamKey;
  /** The params as the event's schema parsed them. */
  params: unknown;
  /**
   * The stream lives as long as the connection (a personal event without a user): a client that
   * reconnects starts it afresh, since its old position belongs to another stream.
   */
  perConnection: boolean;
}

/**
 * The stream key of a personal event (`to: 'user'`) for one connection: the user's own stream when
 * `identify` names one, else the connection's. `@` cannot begin canonical JSON, so no params collide.
 */
export function personalKey(base: StreamKey, target: { user: string } | { connection: string }): StreamKey {
  return 'user' in target ? `${base} @u:${target.user}` : `${base} @c:${target.connection}`;
}

/**
 * The key of event `event`'s stream for a connection: by its params, and by its user (or itself)
 * for a personal event. Without a connection, the shared stream's key.
 */
export function keyFor(
  { event, def, params }: { event: string; def: EventDef; params: unknown },
  info: ConnectionInfo | undefined,
): StreamKey {
  const base = streamKey(event, params);
  if (def.to !== 'user' || info === undefined) return base;
  return personalKey(base, info.user === undefined ? { connection: info.id } : { user: info.user });
}

/**
 * Checks a request for event `event`'s stream (a subscription, or observing its presence): params
 * against the contract, then `canSubscribe`. Throws the `WirecallError` to answer with. Without a
 * `canSubscribe` that answers later, it decides at once: a call right behind the `sub` frame must
 * find the subscription in place.
 */
export function resolveStream(
  asker: StreamAsker,
  { event, def, value }: { event: string; def: EventDef; value: WireValue },
): ResolvedStream | Promise<ResolvedStream> {
  const raw = decodeValue(value);
  let params: unknown;
  if (def.params === undefined) {
    if (raw !== undefined) throw new WirecallError('BAD_REQUEST', `Event ${event} takes no params`);
  } else {
    const checked = checkSchema(def.params, raw);
    if (!checked.ok) {
      throw new WirecallError('BAD_REQUEST', `Invalid params for ${event}`, { data: { issues: checked.issues } });
    }
    params = checked.value;
  }
  const finish = (allowed: boolean): ResolvedStream => {
    if (!allowed) throw new WirecallError('FORBIDDEN', `Not allowed to subscribe to ${event}`);
    const key = keyFor({ event, def, params: params === undefined ? undefined : encodeValue(params).v }, asker.info);
    // The key travels in every event frame; clients refuse longer ones (protocol bound).
    if (key.length > MAX_STREAM_KEY_LENGTH) {
      throw new WirecallError('BAD_REQUEST', `Params of ${event} are too large to name a stream`);
    }
    return { key, params, perConnection: def.to === 'user' && asker.info.user === undefined };
  };
  const { host } = asker;
  if (host.canSubscribe === undefined) return finish(true);
  return Promise.resolve(host.canSubscribe({ event, params, ctx: asker.ctx, connection: asker.info })).then(finish);
}
