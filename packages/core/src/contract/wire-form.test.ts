import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { hasTransform, toWire } from './wire-form.js';

const isoDate = z.codec(z.iso.datetime(), z.date(), {
  decode: (text) => new Date(text),
  encode: (date) => date.toISOString(),
});

describe('hasTransform', () => {
  it.each([
    ['a plain object', z.object({ a: z.number(), b: z.string().default('x') }), false],
    ['a transform', z.string().transform((s) => s.length), true],
    ['a pipe', z.string().pipe(z.coerce.number()), true],
    ['a codec deep inside', z.object({ list: z.array(z.object({ at: isoDate.optional() })) }), true],
    ['a union with a transform', z.union([z.number(), z.string().transform(Number)]), true],
  ])('%s: %s', (_label, schema, expected) => {
    expect(hasTransform(schema)).toBe(expected);
  });

  it('terminates on a recursive schema', () => {
    interface Tree {
      name: string;
      children: Tree[];
    }
    const tree: z.ZodType<Tree> = z.lazy(() => z.object({ name: z.string(), children: z.array(tree) }));
    expect(hasTransform(tree)).toBe(false);
  });
});

describe('toWire', () => {
  it('sends a plain schema its parsed value: unknown keys stripped, defaults filled', () => {
    const schema = z.object({ a: z.number(), lang: z.string().default('en') });
    expect(toWire(schema, { a: 1, secret: 'x' })).toEqual({
      ok: true,
      value: { a: 1, lang: 'en' },
      parsed: { a: 1, lang: 'en' },
    });
  });

  it('sends a transformed position its input side and says what the receiver will get', () => {
    const schema = z.object({ name: z.string().transform((s) => s.toUpperCase()), secret: z.never().optional() });
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

  it('reports zod issues for a value neither side of the schema accepts', () => {
    const result = toWire(z.object({ at: isoDate }), { at: 5 });
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.issues.map((issue) => issue.path)).toEqual([['at']]);
  });
});
