import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineContract } from './define-contract.js';

/** A fresh copy of the same contract: new schema objects every call. */
function buildApi() {
  return defineContract({
    procedures: {
      add: { input: z.object({ a: z.number(), b: z.number() }), output: z.number() },
      getUser: { input: z.object({ id: z.string() }), output: z.object({ name: z.string() }), idempotent: true },
    },
    events: {
      tick: { payload: z.object({ seq: z.number() }) },
      chat: { payload: z.object({ text: z.string() }), params: z.object({ room: z.string() }) },
    },
  });
}

/** A one-procedure contract whose input is `input`. */
const withInput = (input: z.ZodType): string =>
  defineContract({ procedures: { p: { input, output: z.number() } } }).fingerprint;

/** A one-event contract whose payload is `payload`. */
const withPayload = (payload: z.ZodType): string => defineContract({ events: { e: { payload } } }).fingerprint;

describe('defineContract', () => {
  it('keeps the definition', () => {
    const api = buildApi();
    expect(Object.keys(api.procedures)).toEqual(['add', 'getUser']);
    expect(Object.keys(api.events)).toEqual(['tick', 'chat']);
    expect(api.connectionParams).toBeUndefined();
    expect(api.procedures.getUser.idempotent).toBe(true);
  });

  it('defaults to no procedures and no events', () => {
    const api = defineContract({});
    expect(api.procedures).toEqual({});
    expect(api.events).toEqual({});
  });

  it('returns a frozen contract', () => {
    const api = buildApi();
    expect(Object.isFrozen(api)).toBe(true);
  });

  it('refuses a schema position that holds no zod schema, naming it', () => {
    // Shaped like a schema for the types (they read only `_zod`), but nothing the runtime can parse with.
    const fake = { _zod: { input: 0, output: 0 } } as unknown as z.ZodNumber;
    expect(() => defineContract({ procedures: { p: { input: fake, output: z.number() } } })).toThrow(
      'wirecall: procedure p: input is not a zod schema',
    );
    expect(() => defineContract({ procedures: { p: { input: z.null(), stream: fake } } })).toThrow(
      'wirecall: procedure p: stream is not a zod schema',
    );
    expect(() =>
      defineContract({ procedures: { p: { input: z.null(), output: z.null(), errors: { GONE: fake } } } }),
    ).toThrow('wirecall: procedure p: the data of error GONE is not a zod schema');
    expect(() => defineContract({ events: { e: { payload: z.null(), params: fake } } })).toThrow(
      'wirecall: event e: params is not a zod schema',
    );
    expect(() => defineContract({ messages: { m: { payload: fake } } })).toThrow(
      'wirecall: message m: payload is not a zod schema',
    );
    expect(() => defineContract({ connectionParams: fake })).toThrow('wirecall: connectionParams is not a zod schema');
    expect(() => defineContract({ procedures: { p: { input: z.null(), output: z.null() } } })).not.toThrow();
  });
});

describe('contract names', () => {
  it.each(['add', 'get_user', '$special', '_private', 'users.get', 'chat-message', 'v2', 'a'.repeat(128)])(
    'accepts %s',
    (name) => {
      expect(() => defineContract({ procedures: { [name]: { input: z.null(), output: z.null() } } })).not.toThrow();
      expect(() => defineContract({ events: { [name]: { payload: z.null() } } })).not.toThrow();
    },
  );

  it.each([
    ['with a space', 'get user'],
    ['starting with a digit', '1add'],
    ['empty', ''],
    ['with a newline', 'add\n'],
    ['with a slash', 'a/b'],
    ['longer than 128', 'a'.repeat(129)],
    ['starting with a dot', '.add'],
  ])('refuses a procedure name %s', (_label, name) => {
    expect(() => defineContract({ procedures: { [name]: { input: z.null(), output: z.null() } } })).toThrow(TypeError);
  });

  it.each([
    ['with a space', 'chat message'],
    ['starting with a digit', '9lives'],
  ])('refuses an event name %s', (_label, name) => {
    expect(() => defineContract({ events: { [name]: { payload: z.null() } } })).toThrow(TypeError);
  });

  it('names the offending name and the rule in the error', () => {
    // @ts-expect-error the name is refused at compile time too
    expect(() => defineContract({ procedures: { 'get user': { input: z.null(), output: z.null() } } })).toThrow(
      /procedure name "get user" is not allowed: start with a letter, _ or \$, then only letters, digits/,
    );
  });

  it.each(['room:message', 'chat.message', 'user-joined', '$system', '_private'])('accepts the name %s', (name) => {
    const api = defineContract({ events: { [name]: { payload: z.null() } } });
    expect(Object.keys(api.events)).toEqual([name]);
  });

  it.each([
    ['lower case', 'out_of_stock'],
    ['a built-in code', 'NOT_FOUND'],
    ['starting with a digit', '9_LEFT'],
    ['with a dash', 'OUT-OF-STOCK'],
  ])('refuses a declared error code in %s', (_label, code) => {
    expect(() =>
      defineContract({ procedures: { buy: { input: z.null(), output: z.null(), errors: { [code]: z.null() } } } }),
    ).toThrow(/declared codes are SCREAMING_SNAKE/);
  });
});

describe('fingerprint', () => {
  it('is a 16-character hex string', () => {
    expect(buildApi().fingerprint).toMatch(/^[0-9a-f]{16}$/);
  });

  it('is stable for equal contracts built twice', () => {
    const first = buildApi();
    const second = buildApi();
    expect(first.fingerprint).toBe(second.fingerprint);
    expect(first.fingerprint).toBe(first.fingerprint);
  });

  it('does not depend on the order procedures and events are declared in', () => {
    const x = { input: z.object({ a: z.number() }), output: z.null() };
    const y = { input: z.null(), output: z.string() };
    const e = { payload: z.number() };
    const f = { payload: z.string() };
    expect(defineContract({ procedures: { x, y }, events: { e, f } }).fingerprint).toBe(
      defineContract({ procedures: { y, x }, events: { f, e } }).fingerprint,
    );
  });

  it('changes when one input changes type', () => {
    const changed = defineContract({
      procedures: {
        add: { input: z.object({ a: z.number(), b: z.string() }), output: z.number() },
        getUser: { input: z.object({ id: z.string() }), output: z.object({ name: z.string() }), idempotent: true },
      },
      events: {
        tick: { payload: z.object({ seq: z.number() }) },
        chat: { payload: z.object({ text: z.string() }), params: z.object({ room: z.string() }) },
      },
    });
    expect(changed.fingerprint).not.toBe(buildApi().fingerprint);
  });

  it('changes when a procedure is added', () => {
    const base = buildApi();
    const extended = defineContract({
      procedures: { ...base.procedures, sub: { input: z.object({ a: z.number() }), output: z.number() } },
      events: base.events,
    });
    expect(extended.fingerprint).not.toBe(base.fingerprint);
  });

  it('changes when an event is added or its params change', () => {
    const base = buildApi();
    expect(
      defineContract({ procedures: base.procedures, events: { ...base.events, other: { payload: z.null() } } })
        .fingerprint,
    ).not.toBe(base.fingerprint);
    expect(
      defineContract({
        procedures: base.procedures,
        events: {
          ...base.events,
          chat: { payload: z.object({ text: z.string() }), params: z.object({ id: z.number() }) },
        },
      }).fingerprint,
    ).not.toBe(base.fingerprint);
  });

  it('changes with the idempotent and conflate flags', () => {
    const p = { input: z.null(), output: z.null() };
    expect(defineContract({ procedures: { p } }).fingerprint).not.toBe(
      defineContract({ procedures: { p: { ...p, idempotent: true } } }).fingerprint,
    );
    expect(withPayload(z.null())).not.toBe(
      defineContract({ events: { e: { payload: z.null(), conflate: true } } }).fingerprint,
    );
  });

  it('changes with a procedure’s streams and resumability', () => {
    const p = { input: z.null(), output: z.null() };
    const fingerprints = [
      { p },
      { p: { ...p, stream: z.number() } },
      { p: { ...p, stream: z.string() } },
      { p: { ...p, inputStream: z.number() } },
      { p: { ...p, stream: z.number(), resumable: true } },
    ].map((procedures) => defineContract({ procedures }).fingerprint);
    expect(new Set(fingerprints).size).toBe(fingerprints.length);
  });

  it('changes with the connection params', () => {
    expect(defineContract({}).fingerprint).not.toBe(
      defineContract({ connectionParams: z.object({ token: z.string() }) }).fingerprint,
    );
  });

  it('tells a renamed procedure apart', () => {
    const p = { input: z.null(), output: z.null() };
    expect(defineContract({ procedures: { a: p } }).fingerprint).not.toBe(
      defineContract({ procedures: { b: p } }).fingerprint,
    );
  });

  it('tells non-JSON types apart (the types superjson carries)', () => {
    const fingerprints = new Map<string, string>([
      ['date', withInput(z.date())],
      ['bigint', withInput(z.bigint())],
      ['bytes', withInput(z.instanceof(Uint8Array))],
      ['set of strings', withInput(z.set(z.string()))],
      ['set of numbers', withInput(z.set(z.number()))],
      ['map', withInput(z.map(z.string(), z.number()))],
      ['unknown', withInput(z.unknown())],
    ]);
    const seen = new Map<string, string>();
    const collisions: string[] = [];
    for (const [name, fingerprint] of fingerprints) {
      const earlier = seen.get(fingerprint);
      if (earlier === undefined) seen.set(fingerprint, name);
      else collisions.push(`${name} = ${earlier}`);
    }
    expect(collisions).toEqual([]);
  });

  it('tells an event payload field of Date apart from one of BigInt', () => {
    expect(withPayload(z.object({ at: z.date() }))).not.toBe(withPayload(z.object({ at: z.bigint() })));
  });
});
