import type { z } from 'zod';
import type { SchemaLike } from './types.js';

export type SchemaCheck = { ok: true; value: unknown } | { ok: false; issues: z.core.$ZodIssue[] };

/**
 * Runs a schema without throwing. Async refinements are not supported on the hot path: a schema
 * that needs them fails loudly here rather than silently skipping its checks.
 */
export function checkSchema(schema: SchemaLike, value: unknown): SchemaCheck {
  const result = (schema as z.ZodType).safeParse(value);
  return result.success ? { ok: true, value: result.data } : { ok: false, issues: result.error.issues };
}
