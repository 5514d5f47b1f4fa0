import type { RequestId, StreamKey, WireValue } from './envelopes.js';

/**
 * Hand-assembled frames for the envelopes on the server's hot path (result, event, item). They are
 * byte-for-byte what `JSON.stringify` of the envelope would give, without building the envelope
 * object or spreading the value into it first. A client builds its `call` frames with
 * `encodeFrame`: one per call, next to the schema check that prepares it, and the browser bundle
 * carries no second writer.
 */
function valueFields(value: WireValue): string {
  let text = value.v === undefined ? '' : `,"v":${JSON.stringify(value.v)}`;
  if (value.m !== undefined) text += `,"m":${JSON.stringify(value.m)}`;
  return text;
}

function idText(id: RequestId): string {
  return typeof id === 'number' ? String(id) : JSON.stringify(id);
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
