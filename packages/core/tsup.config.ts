import { defineConfig } from 'tsup';

export default defineConfig({
  // `internal` is what the server and client share beyond the public API.
  entry: ['src/index.ts', 'src/internal.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  // One copy of each module for both entries (in CommonJS too): `WirecallError` from either entry
  // is the same class, so `instanceof` holds.
  splitting: true,
});
