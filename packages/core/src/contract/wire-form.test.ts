import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { changesValues, toWire } from './wire-form.js';

const isoDate = z.codec(z.iso.datetime(), z.date(), {
  decode: (text) => new Date(text),
  encode: (date) => date.toISOString(),
});

describe('changesValues', () => {
  it.each([
    ['a plain object', z.object({ a: z.number(), b: z.string().optional() }), false],
    ['a default', z.object({ b: z.string().default('x') }), true],
    ['a coercion', z.coerce.number(), true],
    ['a trim', z.string().trim(), true],
    ['a transform', z.string().transform((s) => s.length), true],
    ['a pipe', z.string().pipe(z.coerce.number()), true],
    ['a codec deep inside', z.object({ list: z.array(z.object({ at: isoDate.optional() })) }), true],
    ['a union with a transform', z.union([z.number(), z.string().transform(Number)]), true],
    [
      'an intersection with a transform',
      z.object({ a: z.number() }).and(z.object({ b: z.string().transform(Number) })),
      true,
    ],
  ])('%s', (_label, schema, expected) => {
    expect(changesValues(schema)).toBe(expected);
  });

  it('terminates on a recursive schema', () => {
    interface Tree {
      name: string;
      children: Tree[];
    }
    const tree: z.ZodType<Tree> = z.lazy(() => z.object({ name: z.string(), children: z.array(tree) }));
    expect(changesValues(tree)).toBe(false);
  });

  it('does not cache a wrong "no" for a schema first met inside a recursion', () => {
    const node: z.ZodType = z.object({ kind: z.literal('node'), next: z.lazy(() => tree) });
    const leaf = z.object({ kind: z.literal('leaf'), text: z.string().transform((t) => t.length) });
    const tree: z.ZodType = z.lazy(() => z.union([node, leaf]));
    expect(changesValues(tree)).toBe(true);
    expect(changesValues(node)).toBe(true);
  });
});

describe('toWire', () => {
  it('sends a schema that changes nothing its parsed value: unknown keys stripped', () => {
    const schema = z.object({ a: z.number(), b: z.string().optional() });
    expect(toWire(schema, { a: 1, secret: 'x' })).toEqual({ ok: true, value: { a: 1 }, parsed: { a: 1 } });
  });

  it('leaves defaults to the receiver', () => {
    const schema = z.object({ a: z.number(), lang: z.string().default('en') });
    expect(toWire(schema, { a: 1, secret: 'x' })).toEqual({ ok: true, value: { a: 1 }, parsed: { a: 1, lang: 'en' } });
  });

  it('sends a transformed position its input side and says what the receiver will get', () => {
    const schema = z.object({ name: z.string().transform((s) => s.toUpperCase()) });
    expect(toWire(schema, { name: 'ada', extra: 1 })).toEqual({
      ok: true,
      value: { name: 'ada' },
      parsed: { name: 'ADA' },
    });
  });

  it('encodes a codec from its decoded side and keeps a value already on the wire side', () => {
    const schema = z.object({ at: isoDate, n: z.number().transform((n) => n + 1) });
    expect(toWire(schema, { at: new Date(0), n: 1 })).toMatchObject({
      ok: true,
      value: { at: '1970-01-01T00:00:00.000Z', n: 1 },
    });
    expect(toWire(schema, { at: '1970-01-01T00:00:00.000Z', n: 1 })).toMatchObject({
      ok: true,
      value: { at: '1970-01-01T00:00:00.000Z', n: 1 },
    });
  });

  it('takes a value as the decoded side when the codec can encode it (a JSON codec)', () => {
    const json = z.codec(z.string(), z.json(), {
      decode: (text) => JSON.parse(text) as z.core.util.JSONType,
      encode: (value) => JSON.stringify(value),
    });
    expect(toWire(json, '42')).toMatchObject({ ok: true, value: '"42"', parsed: '42' });
    expect(toWire(json, 'hello')).toMatchObject({ ok: true, value: '"hello"', parsed: 'hello' });
  });

  it('walks arrays, records, optional and nullable places, and the union option that fits', () => {
    const schema = z.object({
      list: z.array(isoDate),
      byName: z.record(z.string(), isoDate.nullable()),
      maybe: isoDate.optional(),
      either: z.union([z.object({ kind: z.literal('a'), at: isoDate }), z.object({ kind: z.literal('b') })]),
    });
    const result = toWire(schema, {
      list: [new Date(0)],
      byName: { x: new Date(0), y: null },
      either: { kind: 'a', at: new Date(0), extra: true },
    });
    expect(result).toMatchObject({
      ok: true,
      value: {
        list: ['1970-01-01T00:00:00.000Z'],
        byName: { x: '1970-01-01T00:00:00.000Z', y: null },
        either: { kind: 'a', at: '1970-01-01T00:00:00.000Z' },
      },
    });
    expect((result as { value: Record<string, unknown> }).value).not.toHaveProperty('maybe');
  });

  it('keeps the unknown keys a loose object lets through', () => {
    const schema = z.looseObject({ at: isoDate });
    expect(toWire(schema, { at: new Date(0), extra: 1 })).toMatchObject({
      ok: true,
      value: { at: '1970-01-01T00:00:00.000Z', extra: 1 },
    });
  });

  it.each([
    ['a preprocess', z.preprocess((value) => value, z.object({ name: z.string() }))],
    ['a custom first stage', z.custom<object>().pipe(z.object({ name: z.string() }))],
    ['an intersection', z.object({ name: z.string() }).and(z.object({ n: z.number().transform(String) }))],
    [
      'a codec with an object wire side',
      z.codec(z.object({ name: z.string(), n: z.number() }), z.string(), {
        decode: (o) => o.name,
        encode: (name) => ({ name, n: 1 }),
      }),
    ],
  ])('never sends keys the schema does not know, through %s', (_label, schema) => {
    const result = toWire(schema, { name: 'ada', n: 1, passwordHash: 'secret' });
    expect(result.ok).toBe(true);
    expect(JSON.stringify(result.ok ? result.value : null)).not.toContain('secret');
  });

  it('sends an intersection with a transform in its input side', () => {
    const schema = z.object({ id: z.string() }).and(z.object({ n: z.string().transform((s) => s.length) }));
    expect(toWire(schema, { id: 'a', n: 'bob' })).toEqual({
      ok: true,
      value: { id: 'a', n: 'bob' },
      parsed: { id: 'a', n: 3 },
    });
  });

  it('reports zod issues for a value neither side of the schema accepts', () => {
    const result = toWire(z.object({ at: isoDate }), { at: 5 });
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.issues.map((issue) => issue.path)).toEqual([['at']]);
  });
});
