/** Minified + gzipped bytes, per part of a browser bundle of `createClient`. */
export interface ClientSize {
  client: number;
  clientWithCore: number;
  superjson: number;
  zod: number;
}
export const THIRD_PARTY: readonly string[];
export function measureClientSize(): Promise<ClientSize>;
