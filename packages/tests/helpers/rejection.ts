import { expect } from 'vitest';
import { WirecallError } from '@wirecall/core';

/** The WirecallError a promise rejects with; fails the test if it resolves or rejects with anything else. */
export async function rejectionOf(promise: Promise<unknown>): Promise<WirecallError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(WirecallError);
    return error as WirecallError;
  }
  throw new Error('expected the promise to reject, but it resolved');
}
