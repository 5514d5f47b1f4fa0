import { defineConfig } from 'tsup';

// Node's socket tuning and its browser stand-in: package.json's `imports` picks one when the app
// loads (or bundles) the client, so every entry leaves `#socket-tuning` unresolved.
const external = ['#socket-tuning'];

export default defineConfig([
  {
    entry: ['src/index.ts'],
    external,
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'es2022',
    // One file per format.
    splitting: false,
  },
  {
    // The two sides of `#socket-tuning`: what the client does on Node's `ws`, and nothing.
    entry: { 'node-socket': 'src/connection/node-socket.ts', 'browser-socket': 'src/connection/browser-socket.ts' },
    format: ['esm', 'cjs'],
    sourcemap: true,
    target: 'es2022',
  },
  {
    // `@wirecall/client/streams`: its own file, so apps without streaming procedures never load it.
    // It imports only types from the main entry, and the small value codec (bundled in).
    entry: { streams: 'src/streams/index.ts' },
    external,
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    target: 'es2022',
  },
  {
    // `@wirecall/client/binary`: binary frames, for apps whose values carry bytes.
    external,
    entry: { binary: 'src/binary/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    target: 'es2022',
  },
  {
    // `@wirecall/client/presence`: its own file too, for contracts that declare presence.
    external,
    entry: { presence: 'src/presence/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    target: 'es2022',
  },
  {
    // `@wirecall/client/messages`: client messages, for contracts that declare them.
    external,
    entry: { messages: 'src/messages/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    target: 'es2022',
  },
  {
    // `@wirecall/client/http`: HTTP + Server-Sent Events, for apps whose users sit behind proxies
    // that block WebSockets; the others ship none of it.
    external,
    entry: { http: 'src/http/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    target: 'es2022',
  },
  {
    // `@wirecall/client/shared-tabs`: `sharedTabs()` for `shareAcrossTabs`. Its own file, next to
    // the worker it names (`new URL('./shared-worker.js', import.meta.url)`), so only apps that
    // import it make their bundler build the worker, and only they ship the tab's side.
    external,
    entry: { 'shared-tabs': 'src/shared-tabs/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    target: 'es2022',
  },
  {
    // The shared worker of `shareAcrossTabs`: one self-contained script, loadable without a bundler.
    // It exports nothing (CommonJS too, only so that the `require` condition resolves).
    entry: { 'shared-worker': 'src/shared-tabs/shared-worker.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    platform: 'browser',
    sourcemap: true,
    target: 'es2022',
    noExternal: [/.*/],
    // Core from its sources, module by module, so the worker takes only what it uses (not superjson);
    // the client's own modules it imports (`options.ts` for the heartbeat) hold constants only.
    esbuildOptions(options) {
      options.conditions = ['@wirecall/source'];
    },
  },
]);
