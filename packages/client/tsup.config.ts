import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'es2022',
    // One file per format.
    splitting: false,
  },
  {
    // `@wirecall/client/streams`: its own file, so apps without streaming procedures never load it.
    // It imports only types from the main entry, and the small value codec (bundled in).
    entry: { streams: 'src/streams/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    target: 'es2022',
  },
  {
    // `@wirecall/client/binary`: binary frames, for apps whose values carry bytes.
    entry: { binary: 'src/binary/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    target: 'es2022',
  },
  {
    // `@wirecall/client/presence`: its own file too, for contracts that declare presence.
    entry: { presence: 'src/presence/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    target: 'es2022',
  },
  {
    // `@wirecall/client/shared-tabs`: `sharedTabs()` for `shareAcrossTabs`. Its own file, next to
    // the worker it names (`new URL('./shared-worker.js', import.meta.url)`), so only apps that
    // import it make their bundler build the worker, and only they ship the tab's side.
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
