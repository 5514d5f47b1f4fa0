import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'es2022',
    // One file per format, so `new URL('./shared-worker.js', import.meta.url)` sits next to its target.
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
    // `@wirecall/client/presence`: its own file too, for contracts that declare presence.
    entry: { presence: 'src/presence/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    target: 'es2022',
  },
  {
    // The shared worker of `shareAcrossTabs`: one self-contained module, loadable without a bundler.
    // (CommonJS too, for Node code that runs the hub itself.)
    entry: { 'shared-worker': 'src/shared-tabs/shared-worker.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    platform: 'browser',
    sourcemap: true,
    target: 'es2022',
    noExternal: [/.*/],
    // Core from its sources, module by module, so the worker takes only what it uses (not superjson).
    esbuildOptions(options) {
      options.conditions = ['@wirecall/source'];
    },
  },
]);
