import type { SuperJsonMeta } from '../codec/meta-guard.js';
import type { CallEnvelope, ClientEnvelope, RequestId, ServerEnvelope, WireValue } from './envelopes.js';
import { isOptionalToken, isRecord, isRequestId, isToken, MAX_STREAM_KEY_LENGTH } from './field-checks.js';

/**
 * The result of checking an untrusted frame. When the frame is bad but names a usable correlation
 * id, `id` is set so the receiver can answer that request with an error and keep the connection;
 * without one the frame is a protocol violation.
 */
export type ParseResult<T> = { ok: true; envelope: T } | { ok: false; id?: RequestId; reason: string };

/** Longest timeout a call may carry (the largest delay a JS timer can hold, ~24.8 days). */
const MAX_TIMEOUT_MS = 2_147_483_647;

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
      if (!hasValidMeta(frame)) return fail('m must be an object', id);
      const envelope: CallEnvelope = withValue({ t, id, p: frame.p }, frame);
      if (tm !== undefined) envelope.tm = tm;
      if (ik !== undefined) envelope.ik = ik;
      return { ok: true, envelope };
    }
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
    case 'hello':
      if (!isToken(frame.fp)) return fail('hello needs a contract fingerprint');
      if (!hasValidMeta(frame)) return fail('m must be an object');
      return { ok: true, envelope: withValue({ t, fp: frame.fp }, frame) };
    case 'ping':
      return { ok: true, envelope: { t } };
    default:
      return fail('unknown message type', id);
  }
}

/** Checks a frame the server sent. The client trusts its server no more than the server trusts it. */
export function parseServerEnvelope(frame: unknown): ParseResult<ServerEnvelope> {
  if (!isRecord(frame)) return fail('frame is not an object');
  const { t, id } = frame;
  switch (t) {
    case 'result':
      if (!isRequestId(id)) return fail('result needs an id');
      if (!hasValidMeta(frame)) return fail('m must be an object', id);
      return { ok: true, envelope: withValue({ t, id }, frame) };
    case 'error':
      if (id !== undefined && !isRequestId(id)) return fail('error id is malformed');
      if (!isRecord(frame.e)) return fail('error needs a body', id);
      // The body is rebuilt by fromErrorShape(), which checks every field.
      return { ok: true, envelope: { t, ...(id === undefined ? {} : { id }), e: frame.e as never } };
    case 'event':
      if (!isToken(frame.k, MAX_STREAM_KEY_LENGTH) || !isToken(frame.eid))
        return fail('event needs a stream key and an id');
      if (!hasValidMeta(frame)) return fail('m must be an object');
      return { ok: true, envelope: withValue({ t, k: frame.k, eid: frame.eid }, frame) };
    case 'subscribed': {
      if (!isRequestId(id) || !isToken(frame.k, MAX_STREAM_KEY_LENGTH)) {
        return fail('subscribed needs an id and a stream key');
      }
      const { last } = frame;
      if (!isOptionalToken(last)) return fail('last must be an event id', id);
      return { ok: true, envelope: { t, id, k: frame.k, ...(last === undefined ? {} : { last }) } };
    }
    case 'gap': {
      const { last } = frame;
      if (!isToken(frame.k, MAX_STREAM_KEY_LENGTH) || !isOptionalToken(last)) return fail('gap is malformed');
      return { ok: true, envelope: { t, k: frame.k, ...(last === undefined ? {} : { last }) } };
    }
    case 'welcome': {
      const { hb, mi, mp } = frame;
      if (!isToken(frame.fp) || typeof hb !== 'number' || !(hb > 0)) return fail('welcome is malformed');
      if (!isOptionalCount(mi) || !isOptionalCount(mp)) return fail('welcome is malformed');
      return {
        ok: true,
        envelope: { t, fp: frame.fp, hb, ...(mi === undefined ? {} : { mi }), ...(mp === undefined ? {} : { mp }) },
      };
    }
    case 'pong':
      return { ok: true, envelope: { t } };
    default:
      return fail('unknown message type', id);
  }
}
