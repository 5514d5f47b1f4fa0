import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  // React, TanStack Query and the wirecall client are peers: the app's own copies, never bundled.
  splitting: false,
});
