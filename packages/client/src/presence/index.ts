/**
 * @module @wirecall/client/presence: who is in an event stream (members, joins, leaves) for
 * `createClient`. A separate entry point, so apps whose contract declares no presence do not ship it.
 */
import type { PresenceSupport } from '../presence-hooks.js';
import { PresenceRooms } from './presence-room.js';

/** Pass it to `createClient` as `presence` when the contract has events that declare `presence`. */
export const presence: PresenceSupport = { create: (context) => new PresenceRooms(context) };

export type { Presence, PresenceChange, PresenceMember } from './presence-room.js';
