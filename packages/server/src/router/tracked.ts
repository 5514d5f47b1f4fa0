const TRACKED = Symbol('wirecall.tracked');

/** An item of a resumable stream with its id (see {@link tracked}). */
export interface Tracked<TItem> {
  readonly [TRACKED]: true;
  readonly id: string;
  readonly item: TItem;
}

/**
 * Gives an item of a resumable stream its id: after a dropped connection the client calls again
 * with the last id it got, and the handler, reading `lastEventId`, goes on after it (tRPC's
 * `tracked`). Ids are opaque strings of 1 to 256 characters, in the handler's own order.
 *
 * @example
 * feed: async function* ({ lastEventId }) {
 *   for await (const post of posts.after(lastEventId)) yield tracked(post.id, post);
 * }
 */
export function tracked<TItem>(id: string, item: TItem): Tracked<TItem> {
  return { [TRACKED]: true, id, item };
}

/** Whether a yielded value was made by {@link tracked}. */
export function isTracked(value: unknown): value is Tracked<unknown> {
  return typeof value === 'object' && value !== null && (value as { [TRACKED]?: unknown })[TRACKED] === true;
}
