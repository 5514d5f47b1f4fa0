import type { PresenceEntry, PresenceNotice, PresencePage } from './presence-store.js';

/**
 * One stream's presence as plain data, and the rules that change it: entries by connection (with
 * their lease end), members by key in the order they joined (with their connection count and the
 * data of their latest join or update). The memory store keeps rooms in a Map; the NATS store keeps
 * each as one KV value. Each change answers the notice it makes, if any.
 */
export interface Room {
  entries: Map<string, { member: string; expiresAt: number }>;
  members: Map<string, { connections: number; data: string }>;
}

export function emptyRoom(): Room {
  return { entries: new Map(), members: new Map() };
}

/** Adds a connection's entry, or extends it and updates its member's data. */
export function setEntry(
  room: Room,
  { conn, member, data }: PresenceEntry,
  expiresAt: number,
): PresenceNotice | undefined {
  // A connection's member never changes (its identity is fixed when it connects).
  const entry = room.entries.get(conn);
  if (entry !== undefined) entry.expiresAt = expiresAt;
  else room.entries.set(conn, { member, expiresAt });
  const known = room.members.get(member);
  if (known === undefined) {
    room.members.set(member, { connections: 1, data });
    return { op: 'join', member, count: room.members.size, data };
  }
  if (entry === undefined) known.connections++;
  if (known.data === data) return undefined;
  known.data = data;
  return { op: 'update', member, count: room.members.size, data };
}

/** Moves the lease end of these connections' entries (those that exist). */
export function refreshEntries(room: Room, conns: readonly string[], expiresAt: number): void {
  for (const conn of conns) {
    const entry = room.entries.get(conn);
    if (entry !== undefined) entry.expiresAt = expiresAt;
  }
}

/** Removes a connection's entry; its member leaves with its last connection. */
export function dropEntry(room: Room, conn: string): PresenceNotice | undefined {
  const entry = room.entries.get(conn);
  if (entry === undefined) return undefined;
  room.entries.delete(conn);
  const member = room.members.get(entry.member);
  if (member === undefined || --member.connections > 0) return undefined;
  room.members.delete(entry.member);
  return { op: 'leave', member: entry.member, count: room.members.size };
}

/** Removes the entries whose lease ended by `now`, with the leaves they make. */
export function sweepRoom(room: Room, now: number): PresenceNotice[] {
  const notices: PresenceNotice[] = [];
  for (const [conn, entry] of [...room.entries]) {
    if (entry.expiresAt > now) continue;
    const notice = dropEntry(room, conn);
    if (notice !== undefined) notices.push(notice);
  }
  return notices;
}

/**
 * A page of members. The cursor is the position in join order; members that leave meanwhile shift
 * it (documented). A cursor that is not one of ours starts over.
 */
export function pageOf(room: Room, limit: number, cursor: string | undefined): PresencePage {
  const parsed = cursor === undefined ? 0 : Number(cursor);
  const start = Number.isSafeInteger(parsed) && parsed > 0 ? parsed : 0;
  const members: PresencePage['members'] = [];
  let index = 0;
  for (const [member, { connections, data }] of room.members) {
    if (index++ < start) continue;
    if (members.length === limit) break;
    members.push({ key: member, connections, data });
  }
  const next = start + members.length;
  return next < room.members.size
    ? { count: room.members.size, members, cursor: String(next) }
    : { count: room.members.size, members };
}

/** A room as JSON text (Maps as entry lists, which keep the members' join order). */
export function roomToJson(room: Room): string {
  return JSON.stringify({ e: [...room.entries], m: [...room.members] });
}

export function roomFromJson(text: string): Room {
  const { e, m } = JSON.parse(text) as {
    e: [string, { member: string; expiresAt: number }][];
    m: [string, { connections: number; data: string }][];
  };
  return { entries: new Map(e), members: new Map(m) };
}
