import {
  isErrorCode,
  isWirecallError,
  type AnyContract,
  type inferCallError,
  type ProcedureDef,
  type ProcedureName,
} from '@wirecall/core/internal';

/**
 * Narrows what a call of `procedure` rejected with to the errors it can have: its declared codes
 * with their `data` typed, and the built-in ones.
 *
 * @example
 * try {
 *   await client.call.buy({ sku });
 * } catch (error) {
 *   if (isCallError(api, 'buy', error) && error.code === 'OUT_OF_STOCK') showLeft(error.data.left);
 * }
 */
export function isCallError<TContract extends AnyContract, TName extends ProcedureName<TContract>>(
  contract: TContract,
  procedure: TName,
  error: unknown,
): error is inferCallError<TContract, TName> {
  if (!isWirecallError(error)) return false;
  if (isErrorCode(error.code)) return true;
  const declared = (contract.procedures as Record<string, ProcedureDef | undefined>)[procedure]?.errors;
  return declared !== undefined && Object.hasOwn(declared, error.code);
}
