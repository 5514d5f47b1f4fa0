import { decodeValue, encodeValue, type WireValue } from '@wirecall/core/internal';

/**
 * TanStack Query's `serializeData` for `dehydrate` on the server: each query's data in wirecall's
 * value form (`{ v, m }`, see docs/protocol.md), so the Dates, Maps, Sets, bigints and bytes a
 * procedure returned reach the browser as JSON and come back as themselves, with no superjson.
 *
 * @example
 * const state = dehydrate(queryClient, { serializeData });
 */
export function serializeData(data: unknown): unknown {
  return encodeValue(data);
}

/**
 * TanStack Query's `deserializeData` for `hydrate` / `<HydrationBoundary>` in the browser: the
 * inverse of {@link serializeData}. The value form is checked as a frame's is (a malformed one
 * throws `BAD_REQUEST`), and the state it reads is left unchanged.
 *
 * @example
 * <HydrationBoundary state={state} options={{ defaultOptions: { deserializeData } }}>
 */
export function deserializeData(data: unknown): unknown {
  const wire = data as WireValue;
  // The decoder rebuilds in place; the dehydrated state may be hydrated again.
  return decodeValue({ v: structuredClone(wire.v), m: wire.m });
}
