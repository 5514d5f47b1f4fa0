/**
 * The contract fingerprint, spelled out for `fingerprints.json`: core's canonical text of a contract
 * (every procedure, event and message with the JSON Schema of its schemas, as JSON with sorted keys)
 * and its hash. The texts and hashes are the language-neutral part: a client in another language can
 * check its FNV-1a against them (computing the canonical text itself needs zod's JSON Schema output).
 */
import { z } from 'zod';
import { defineContract } from '@wirecall/core';
import { fingerprintOf, fingerprintText, type AnyContract } from '@wirecall/core/internal';

export { fingerprintOf, fingerprintText };

/** Texts whose hash pins down the details (empty text, code units beyond ASCII, a surrogate pair). */
export const HASH_TEXTS: readonly string[] = ['', 'a', 'wirecall.v1', '{"procedures":{}}', 'é', '😀', 'Zürich → 東京'];

/** Small contracts, each with a fingerprint of its own. `build` is written as the contract would be. */
export const FINGERPRINT_CASES: readonly { name: string; build: () => AnyContract }[] = [
  { name: 'empty', build: () => defineContract({}) },
  {
    name: 'one-procedure',
    build: () =>
      defineContract({
        procedures: { add: { input: z.object({ a: z.number(), b: z.number() }), output: z.number() } },
      }),
  },
  {
    name: 'idempotent',
    build: () =>
      defineContract({
        procedures: {
          add: { input: z.object({ a: z.number(), b: z.number() }), output: z.number(), idempotent: true },
        },
      }),
  },
  {
    name: 'date-field',
    build: () => defineContract({ procedures: { at: { input: z.object({}), output: z.object({ at: z.date() }) } } }),
  },
  {
    name: 'string-field',
    build: () => defineContract({ procedures: { at: { input: z.object({}), output: z.object({ at: z.string() }) } } }),
  },
  {
    name: 'bigint-set-map-bytes',
    build: () =>
      defineContract({
        procedures: {
          all: {
            input: z.object({ n: z.bigint(), tags: z.set(z.string()), scores: z.map(z.string(), z.number()) }),
            output: z.instanceof(Uint8Array),
          },
        },
      }),
  },
  {
    name: 'declared-errors',
    build: () =>
      defineContract({
        procedures: {
          buy: {
            input: z.object({ sku: z.string() }),
            output: z.null(),
            errors: { OUT_OF_STOCK: z.object({ left: z.number() }) },
          },
        },
      }),
  },
  {
    name: 'event-with-params',
    build: () =>
      defineContract({
        events: { chat: { payload: z.object({ text: z.string() }), params: z.object({ room: z.string() }) } },
      }),
  },
  {
    name: 'conflated-event',
    build: () => defineContract({ events: { price: { payload: z.object({ value: z.number() }), conflate: true } } }),
  },
  {
    name: 'presence-and-personal',
    build: () =>
      defineContract({
        events: {
          room: { payload: z.object({ text: z.string() }), presence: z.object({ name: z.string() }) },
          notice: { payload: z.object({ text: z.string() }), to: 'user' },
        },
      }),
  },
  {
    name: 'message-and-params',
    build: () =>
      defineContract({
        messages: { typing: { payload: z.object({ room: z.string() }), queue: true } },
        connectionParams: z.object({ token: z.string() }),
      }),
  },
  {
    name: 'streams',
    build: () =>
      defineContract({
        procedures: {
          reply: { input: z.object({}), stream: z.object({ token: z.string() }), resumable: true },
          upload: { input: z.object({}), inputStream: z.instanceof(Uint8Array), output: z.number() },
        },
      }),
  },
  {
    name: 'group',
    build: () =>
      defineContract({
        groups: {
          users: defineContract({ procedures: { get: { input: z.object({ id: z.string() }), output: z.string() } } }),
        },
      }),
  },
];
