/** Minified + gzipped bytes, per part of a browser bundle of `createClient`. */
export interface ClientSize {
  client: number;
  clientWithCore: number;
  superjson: number;
  zod: number;
  /** tRPC's `createTRPCClient` + `createWSClient` + `wsLink`, its dependencies included. */
  trpcClient: number;
  /** socket.io-client's `io`, its dependencies included. */
  socketIoClient: number;
}
export const THIRD_PARTY: readonly string[];
export function measureClientSize(): Promise<ClientSize>;
