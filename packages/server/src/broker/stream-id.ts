/** A Redis stream id, `<milliseconds>-<sequence>`, as two comparable numbers. */
export interface StreamId {
  ms: bigint;
  seq: bigint;
}

const STREAM_ID = /^(\d{1,20})-(\d{1,20})$/;

export function parseStreamId(id: string): StreamId | undefined {
  const match = STREAM_ID.exec(id);
  return match ? { ms: BigInt(match[1]!), seq: BigInt(match[2]!) } : undefined;
}

/** Negative, zero or positive, as `a` sorts before, with, or after `b`. */
export function compareStreamIds(a: StreamId, b: StreamId): number {
  if (a.ms !== b.ms) return a.ms < b.ms ? -1 : 1;
  if (a.seq !== b.seq) return a.seq < b.seq ? -1 : 1;
  return 0;
}
