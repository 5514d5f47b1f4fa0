import type { SuperJsonMeta } from '../codec/meta-guard.js';
import type { CallEnvelope, ClientEnvelope, HelloEnvelope, RequestId, ServerEnvelope, WireValue } from './envelopes.js';
import { isOptionalToken, isRecord, isRequestId, isToken, MAX_STREAM_KEY_LENGTH } from './field-checks.js';

/**
 * The result of checking an untrusted frame. When the frame is bad but names a usable correlation
 * id, `id` is set so the receiver can answer that request with an error and keep the connection;
 * without one the frame is a protocol violation.
 */
export type ParseResult<T> = { ok: true; envelope: T } | { ok: false; id?: RequestId; reason: string };

/** Longest timeout a call may carry (the largest delay a JS timer can hold, ~24.8 days). */
const MAX_TIMEOUT_MS = 2_147_483_647;

/** The largest window a streaming call may ask for (a client checks its own before sending). */
export const MAX_CREDITS = 1_000_000;

/** A positive safe integer, or absent. */
function isOptionalCount(value: unknown): value is number | undefined {
  return value === undefined || (typeof value === 'number' && Number.isSafeInteger(value) && value > 0);
}

function fail(reason: string, id?: unknown): { ok: false; id?: RequestId; reason: string } {
  return isRequestId(id) ? { ok: false, id, reason } : { ok: false, reason };
}

function hasValidMeta(frame: Record<string, unknown>): boolean {
  return frame.m === undefined || isRecord(frame.m);
}

/**
 * Copies the value fields onto a fresh envelope, never trusting the frame object itself (no
 * prototype, no extra keys). Writes in place: one object per message on the hot path, not three.
 */
function withValue<T extends object>(envelope: T, frame: Record<string, unknown>): T & WireValue {
  const out = envelope as T & WireValue;
  if (frame.v !== undefined) out.v = frame.v;
  if (frame.m !== undefined) out.m = frame.m as SuperJsonMeta;
  return out;
}

/** Checks a frame a client sent. Nothing acts on a frame before it passes here. */
export function parseClientEnvelope(frame: unknown): ParseResult<ClientEnvelope> {
  if (!isRecord(frame)) return fail('frame is not an object');
  const { t, id } = frame;
  switch (t) {
    case 'call': {
      if (!isRequestId(id)) return fail('call needs an id');
      if (!isToken(frame.p)) return fail('call needs a procedure name', id);
      const { tm, ik } = frame;
      if (tm !== undefined && !(typeof tm === 'number' && tm > 0 && tm <= MAX_TIMEOUT_MS)) {
        return fail('tm must be a positive number of milliseconds', id);
      }
      if (!isOptionalToken(ik)) return fail('ik must be a short string', id);
      if (!isOptionalCount(frame.cr) || (frame.cr ?? 0) > MAX_CREDITS) {
        return fail(`cr must be a positive integer of at most ${MAX_CREDITS}`, id);
      }
      if (!hasValidMeta(frame)) return fail('m must be an object', id);
      const envelope: CallEnvelope = withValue({ t, id, p: frame.p }, frame);
      if (tm !== undefined) envelope.tm = tm;
      if (ik !== undefined) envelope.ik = ik;
      if (frame.cr !== undefined) envelope.cr = frame.cr;
      if (!isOptionalToken(frame.after)) return fail('after must be an item id', id);
      if (frame.after !== undefined) envelope.after = frame.after;
      return { ok: true, envelope };
    }
    case 'credit':
      if (!isRequestId(id)) return fail('credit needs an id');
      if (frame.n === undefined || !isOptionalCount(frame.n)) return fail('credit needs a positive integer n', id);
      return { ok: true, envelope: { t, id, n: frame.n } };
    case 'item':
      if (!isRequestId(id)) return fail('item needs an id');
      if (!hasValidMeta(frame)) return fail('m must be an object', id);
      return { ok: true, envelope: withValue({ t, id }, frame) };
    case 'end':
    case 'cancel':
    case 'unsub':
      if (!isRequestId(id)) return fail(`${t} needs an id`);
      return { ok: true, envelope: { t, id } };
    case 'sub': {
      if (!isRequestId(id)) return fail('sub needs an id');
      if (!isToken(frame.e)) return fail('sub needs an event name', id);
      if (!isOptionalToken(frame.after)) return fail('after must be an event id', id);
      if (!hasValidMeta(frame)) return fail('m must be an object', id);
      const after = frame.after;
      return {
        ok: true,
        envelope: withValue({ t, id, e: frame.e, ...(after === undefined ? {} : { after }) }, frame),
      };
    }
    case 'hello': {
      if (!isToken(frame.fp)) return fail('hello needs a contract fingerprint');
      if (!hasValidMeta(frame)) return fail('m must be an object');
      if (frame.bin !== undefined && frame.bin !== true) return fail('bin must be true');
      if (!isOptionalToken(frame.cid)) return fail('cid must be a short string');
      const envelope: HelloEnvelope = withValue({ t, fp: frame.fp }, frame);
      if (frame.bin === true) envelope.bin = true;
      if (frame.cid !== undefined) envelope.cid = frame.cid;
      return { ok: true, envelope };
    }
    case 'psub':
      if (!isRequestId(id)) return fail('psub needs an id');
      if (!isToken(frame.e)) return fail('psub needs an event name', id);
      if (!hasValidMeta(frame)) return fail('m must be an object', id);
      return { ok: true, envelope: withValue({ t, id, e: frame.e }, frame) };
    case 'pset':
      if (!isRequestId(id)) return fail('pset needs an id');
      if (!hasValidMeta(frame)) return fail('m must be an object', id);
      return { ok: true, envelope: withValue({ t, id }, frame) };
    case 'pdel':
      if (!isRequestId(id)) return fail('pdel needs an id');
      return { ok: true, envelope: { t, id } };
    case 'ping':
      return { ok: true, envelope: { t } };
    case 'msg':
      if (!isToken(frame.n)) return fail('msg needs a message name');
      if (!hasValidMeta(frame)) return fail('m must be an object');
      return { ok: true, envelope: withValue({ t, n: frame.n }, frame) };
    default:
      return fail('unknown message type', id);
  }
}

type FieldCheck = (value: unknown) => boolean;

const optional =
  (check: FieldCheck): FieldCheck =>
  (value) =>
    value === undefined || check(value);
const anything: FieldCheck = () => true;
const isStreamKey: FieldCheck = (value) => isToken(value, MAX_STREAM_KEY_LENGTH);
const isOptionalRecord = optional(isRecord);

/**
 * The fields of each envelope a server sends, and how each is checked. A table rather than code
 * per type: the client's copy of this parser ships to browsers, where every byte counts.
 */
const SERVER_FIELDS: Record<ServerEnvelope['t'], Record<string, FieldCheck>> = {
  welcome: {
    fp: isToken,
    hb: (value) => typeof value === 'number' && value >= 0,
    mi: isOptionalCount,
    mp: isOptionalCount,
    ms: isOptionalCount,
    bin: optional((value) => value === true),
  },
  result: { id: isRequestId, v: anything, m: isOptionalRecord },
  // The body is rebuilt by fromErrorShape(), which checks every field.
  error: { id: optional(isRequestId), e: isRecord, n: isOptionalToken, op: optional((value) => value === 'pset') },
  event: { k: isStreamKey, eid: isOptionalToken, v: anything, m: isOptionalRecord },
  subscribed: { id: isRequestId, k: isStreamKey, last: isOptionalToken },
  item: { id: isRequestId, iid: isOptionalToken, v: anything, m: isOptionalRecord },
  credit: { id: isRequestId, n: (value) => typeof value === 'number' && Number.isSafeInteger(value) && value > 0 },
  gap: { k: isStreamKey, last: isOptionalToken },
  pong: {},
  // Members and their data are checked where they are read (the presence module).
  presence: {
    k: isStreamKey,
    op: (value) => value === 'sync' || value === 'join' || value === 'update' || value === 'leave',
    c: (value) => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0,
    id: optional(isRequestId),
    me: isOptionalToken,
    ms: optional(Array.isArray),
    more: optional((value) => value === true),
    key: isOptionalToken,
    d: isOptionalRecord,
  },
};

/** Checks a frame the server sent. The client acts on nothing that has not passed here. */
export function parseServerEnvelope(frame: unknown): ParseResult<ServerEnvelope> {
  if (!isRecord(frame)) return fail('frame is not an object');
  const { t } = frame;
  if (typeof t !== 'string' || !Object.hasOwn(SERVER_FIELDS, t)) return fail('unknown message type', frame.id);
  const envelope: Record<string, unknown> = { t };
  const fields = SERVER_FIELDS[t as ServerEnvelope['t']];
  for (const name in fields) {
    const value = frame[name];
    if (!fields[name]!(value)) return fail(`${t}.${name} is malformed`, frame.id);
    if (value !== undefined) envelope[name] = value;
  }
  return { ok: true, envelope: envelope as unknown as ServerEnvelope };
}
