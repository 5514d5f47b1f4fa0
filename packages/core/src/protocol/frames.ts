import type { RequestId, StreamKey, WireValue } from './envelopes.js';

/**
 * Hand-assembled frames for the three envelopes on the hot path (call, result, event). They are
 * byte-for-byte what `JSON.stringify` of the envelope would give, without building the envelope
 * object or spreading the value into it first.
 */
function valueFields(value: WireValue): string {
  let text = value.v === undefined ? '' : `,"v":${JSON.stringify(value.v)}`;
  if (value.m !== undefined) text += `,"m":${JSON.stringify(value.m)}`;
  return text;
}

function idText(id: RequestId): string {
  return typeof id === 'number' ? String(id) : JSON.stringify(id);
}

export interface CallFrameFields {
  id: RequestId;
  procedure: string;
  value: WireValue;
  /** The deadline budget; absent for a streaming call (its timeout is the client's, per item). */
  tm: number | undefined;
  ik: string | undefined;
  /** Initial credits of a streaming call. */
  cr?: number | undefined;
  /** A resumable stream reopened after a drop: the last item id the caller got. */
  after?: string | undefined;
}
export function callFrame({ id, procedure, value, tm, ik, cr, after }: CallFrameFields): string {
  const deadline = tm === undefined ? '' : `,"tm":${tm}`;
  const key = ik === undefined ? '' : `,"ik":${JSON.stringify(ik)}`;
  const credits = cr === undefined ? '' : `,"cr":${cr}`;
  const resume = after === undefined ? '' : `,"after":${JSON.stringify(after)}`;
  return `{"t":"call","id":${idText(id)},"p":${JSON.stringify(procedure)}${deadline}${key}${credits}${resume}${valueFields(value)}}`;
}
export function resultFrame(id: RequestId, value: WireValue): string {
  return `{"t":"result","id":${idText(id)}${valueFields(value)}}`;
}

export function itemFrame(id: RequestId, value: WireValue, itemId?: string): string {
  const iid = itemId === undefined ? '' : `,"iid":${JSON.stringify(itemId)}`;
  return `{"t":"item","id":${idText(id)}${iid}${valueFields(value)}}`;
}

/** An event frame; without an id for an event pushed to one connection (no history holds it). */
export function eventFrame(key: StreamKey, eventId: string | undefined, value: WireValue): string {
  const eid = eventId === undefined ? '' : `,"eid":${JSON.stringify(eventId)}`;
  return `{"t":"event","k":${JSON.stringify(key)}${eid}${valueFields(value)}}`;
}

/** An `error` frame around an error body that is already JSON text (`{"code":…,"message":…}`). */
export function errorFrame(id: RequestId, errorJson: string): string {
  return `{"t":"error","id":${idText(id)},"e":${errorJson}}`;
}
