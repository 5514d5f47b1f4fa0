/**
 * The conformance contract: the one API every vector in `conformance/vectors/` talks to. The
 * reference server (`server.ts`) serves it; a client in another language needs only its
 * fingerprint (`fingerprints.json`, `conformance.fingerprint`) and the list below, which
 * README.md repeats in prose.
 */
import { z } from 'zod';
import { defineContract } from '@wirecall/core';

/**
 * The test-control procedures, under the group `control` (on the wire `control.emit`, ...): how a
 * runner in any language makes the server publish an event, without a hook into the process.
 */
export const controlApi = defineContract({
  procedures: {
    /**
     * Publishes `payload` to event `event` (with `params` for events that take them), exactly as
     * `server.emit(event, payload, { params })` would, and answers the event's id (`eid`).
     */
    emit: {
      input: z.object({ event: z.string(), params: z.unknown().optional(), payload: z.unknown() }),
      output: z.string(),
    },
  },
});

export const conformanceApi = defineContract({
  procedures: {
    /** `a + b`. */
    add: { input: z.object({ a: z.number(), b: z.number() }), output: z.number() },
    /** Answers its input: decoded, then encoded again. */
    echo: { input: z.unknown(), output: z.unknown() },
    /** Describes the value the server decoded from the input (see `describeValue` in values.ts). */
    inspect: { input: z.unknown(), output: z.string() },
    /** Answers the value named `name` in values.json (see value-cases.ts). */
    sample: { input: z.object({ name: z.string() }), output: z.unknown() },
    /** Waits `ms` (aborted by cancel, deadline or disconnect), then answers `tag` (or "slept"). */
    sleep: {
      input: z.object({ ms: z.number().int().min(0).max(60_000), tag: z.string().optional() }),
      output: z.string(),
    },
    /** Never answers on its own: runs until its signal aborts, and records the abort reason under `key`. */
    hold: { input: z.object({ key: z.string() }), output: z.string() },
    /** The code of the abort reason `hold` recorded under `key` (`CANCELLED`, `TIMEOUT`, ...), or null. */
    abortReason: { input: z.object({ key: z.string() }), output: z.string().nullable() },
    /**
     * Fails as asked: `forbidden` throws FORBIDDEN "not for you"; `notFound` NOT_FOUND "no such thing"
     * with data `{ at: Date(0), n: 5n }`; `declared` the declared OUT_OF_STOCK with data
     * `{ left: 0, until: Date(0) }`; `undeclared` a code the procedure does not declare; `badData`
     * OUT_OF_STOCK with data off its schema; `plain` a plain Error; `badOutput` returns a string.
     */
    fail: {
      input: z.object({
        kind: z.enum(['forbidden', 'notFound', 'declared', 'undeclared', 'badData', 'plain', 'badOutput']),
      }),
      output: z.number(),
      errors: { OUT_OF_STOCK: z.object({ left: z.number(), until: z.date() }) },
    },
    /**
     * A streaming procedure: yields `{ i }` for i = 1..n, then answers `{ total: n }`; with
     * `failAt`, throws FORBIDDEN "stopped at <failAt>" instead of yielding that item.
     */
    count: {
      input: z.object({ n: z.number().int().min(0).max(1_000), failAt: z.number().int().optional() }),
      stream: z.object({ i: z.number() }),
      output: z.object({ total: z.number() }),
    },
    /** An upload: reads numbers from the caller's input stream and answers their sum. */
    sum: { input: z.object({}), inputStream: z.number(), output: z.number() },
    /** Idempotent: counts its runs per `key` and answers the count (a retry with the same `ik` is not a run). */
    once: { input: z.object({ key: z.string() }), output: z.number(), idempotent: true },
    /** The connection's user (connection params `user`), or null. */
    whoami: { input: z.object({}), output: z.string().nullable() },
  },
  events: {
    /** No params: one stream, key `tick`. */
    tick: { payload: z.object({ seq: z.number(), at: z.date() }) },
    /** One stream per room, key `chat {"room":"<room>"}`. Rooms starting with `secret` are refused (FORBIDDEN). */
    chat: { payload: z.object({ text: z.string() }), params: z.object({ room: z.string().min(1) }) },
    /** A latest-value stream: a resume replays only the newest kept event. */
    price: { payload: z.object({ value: z.number() }), params: z.object({ symbol: z.string() }), conflate: true },
    /** A stream with presence: members show `{ name }`. */
    room: {
      payload: z.object({ text: z.string() }),
      params: z.object({ room: z.string() }),
      presence: z.object({ name: z.string() }),
    },
  },
  messages: {
    /** The handler publishes `chat` `{ text: "typing" }` to `room`; `room` must be non-empty. */
    typing: { payload: z.object({ room: z.string().min(1) }) },
  },
  /**
   * Optional. `user` names the connection's user (presence member key, `whoami`). `token`:
   * `deny` closes the handshake with 4401, `forbid` with 4403, `crash` with 1011.
   */
  connectionParams: z.object({ user: z.string().optional(), token: z.string().optional() }).optional(),
  groups: { control: controlApi },
});

export type ConformanceApi = typeof conformanceApi;
