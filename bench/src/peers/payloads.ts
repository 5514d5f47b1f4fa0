/**
 * The values every peer sends, for both payloads (see `Payload` in types.ts): the instant `at` as
 * a `Date` or as epoch milliseconds, and how a receiver checks what arrived. The checks are the
 * benchmark's, alike for every peer (under a microsecond each), not something the peers do.
 */
import type { Instant, Payload, PeerName } from './types.js';

/** The instant of call (or stream item) `i` is EPOCH_MS + i: the receiver knows what to expect. */
export const EPOCH_MS = Date.UTC(2026, 0, 1);

/** What `at` of call or item `i` is, as the app hands it over. */
export function instantOf(payload: Payload, i: number): Date | number {
  return payload === 'date' ? new Date(EPOCH_MS + i) : EPOCH_MS + i;
}

/** The emitter's now, as an event's `at`. */
export function now(payload: Payload): Date | number {
  return payload === 'date' ? new Date() : Date.now();
}

/**
 * How an instant reaches the app. tRPC (with its superjson transformer, as its docs configure it for
 * Dates) and wirecall revive a `Date`; raw ws and Socket.IO deliver the ISO string JSON made of it,
 * and their apps do nothing more than `JSON.parse` (an app that needs the Date would pay `new Date(s)`
 * on top, and so would its peers here: they do not).
 */
export type ArrivesAs = 'Date' | 'string' | 'number';

const DATES_ARRIVE_AS: Record<PeerName, ArrivesAs> = {
  raw: 'string',
  socketio: 'string',
  trpc: 'Date',
  wirecall: 'Date',
  wirecallHttp: 'Date',
};

export function arrivesAs(peer: PeerName, payload: Payload): ArrivesAs {
  return payload === 'numbers' ? 'number' : DATES_ARRIVE_AS[peer];
}

/** True when `value` is the instant `ms` as this peer delivers it. */
export function isInstant(value: Instant, ms: number, as: ArrivesAs): boolean {
  switch (as) {
    case 'number':
      return value === ms;
    case 'Date':
      return value instanceof Date && value.getTime() === ms;
    case 'string':
      return typeof value === 'string' && Date.parse(value) === ms;
  }
}

/** True when `value` has the type an instant arrives as (an event's `at`, whose value is the emitter's now). */
export function isInstantType(value: unknown, as: ArrivesAs): boolean {
  return as === 'Date' ? value instanceof Date : typeof value === as;
}

const texts = new Map<number, string>();

/** `size` bytes of ASCII text (the payload-size curve's results): made once per size, alike for every peer. */
export function textOfSize(size: number): string {
  let text = texts.get(size);
  if (text === undefined) {
    const pattern = 'wirecall-payload-0123456789-abcdefghijklmnopqrstuvwxyz-';
    text = pattern.repeat(Math.ceil(size / pattern.length)).slice(0, size);
    texts.set(size, text);
  }
  return text;
}
