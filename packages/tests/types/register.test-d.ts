/**
 * Type-level test of a registered contract: `new WirecallError(code, message, { data })` is checked
 * against the errors its procedures declare. Registering is global to a program, so this file is
 * the only one that does it (and only declared codes are added: built-in ones work as before).
 */
import { WirecallError } from '@wirecall/server';
import { defineContract } from '@wirecall/core';
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';

const _registeredApi = defineContract({
  procedures: {
    buy: {
      input: z.object({ sku: z.string() }),
      output: z.null(),
      errors: { OUT_OF_STOCK: z.object({ sku: z.string(), left: z.number() }) },
    },
  },
});

declare module '@wirecall/core' {
  interface Register {
    contract: typeof _registeredApi;
  }
}

describe('a registered contract', () => {
  it('checks a declared code and its data where the error is constructed', () => {
    const error = new WirecallError('OUT_OF_STOCK', 'sold out', { data: { sku: 'a', left: 0 } });
    expectTypeOf(error.code).toEqualTypeOf<'OUT_OF_STOCK'>();
    // @ts-expect-error `left` must be a number
    void new WirecallError('OUT_OF_STOCK', 'sold out', { data: { sku: 'a', left: 'none' } });
    // @ts-expect-error a code nobody declared (a typo)
    void new WirecallError('OUT_OF_STOKC', 'sold out');
    // Built-in codes are unaffected.
    void new WirecallError('NOT_FOUND', 'gone', { data: { id: 1 } });
  });
});
