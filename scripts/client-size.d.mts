/** Minified + gzipped bytes, per part of a browser bundle of `createClient`, and of the anchors. */
export interface ClientSize {
  /** `createClient`'s own code (calls and events), `@wirecall/core` left out. */
  client: number;
  /** `createClient` with the parts of `@wirecall/core` it uses: the budget. */
  clientWithCore: number;
  /** What `@wirecall/client/streams` adds to {@link ClientSize.clientWithCore} when used. */
  streams: number;
  /** What `@wirecall/client/binary` adds when used. */
  binary: number;
  /** What `@wirecall/client/presence` adds when used. */
  presence: number;
  /** What `@wirecall/client/messages` adds when used. */
  messages: number;
  /** What `@wirecall/client/shared-tabs` (`sharedTabs()`) adds when used; the worker not counted. */
  sharedTabs: number;
  /** What `@wirecall/react` adds when used; React and TanStack Query (its peers) not counted. */
  react: number;
  trpcClientWithSuperjson: number;
  zod: number;
  /** tRPC's `createTRPCClient` + `createWSClient` + `wsLink`, its dependencies included. */
  trpcClient: number;
  /** Phoenix's `Socket` + `Channel` + `Presence` (the `phoenix` npm package). */
  phoenixClient: number;
  /** socket.io-client's `io`, its dependencies included. */
  socketIoClient: number;
}

/** An optional feature of the client: its entry's import, its source folder, a text of its code. */
export interface Feature {
  entry: string;
  folder: string;
  /** Modules of `folder` that `createClient` imports itself (the option's shape and check). */
  hooks?: readonly string[];
  marker: string;
  /** Packages the feature's bundle leaves out besides the client's third parties (its peers). */
  external?: readonly string[];
}

/** A minified browser bundle: its min+gz bytes, its text, and its modules' repository-relative paths. */
export interface Bundle {
  bytes: number;
  text: string;
  modules: string[];
}

export const THIRD_PARTY: readonly string[];
export const CLIENT_ENTRY: string;
export const FEATURES: Readonly<
  Record<'streams' | 'binary' | 'presence' | 'messages' | 'sharedTabs' | 'react', Feature>
>;
export const ANCHORS: Readonly<Record<'trpcClient' | 'phoenixClient' | 'socketIoClient', string>>;
export function bundle(contents: string, external: readonly string[]): Promise<Bundle>;
export function measureClientSize(): Promise<ClientSize>;
