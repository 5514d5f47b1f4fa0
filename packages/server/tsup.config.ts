import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/redis.ts', 'src/nats.ts', 'src/node-cluster.ts'],
  format: ['esm', 'cjs'],
  // `@internal` members (the connection host's fields of WirecallServer) stay out of the published types.
  dts: { compilerOptions: { stripInternal: true } },
  sourcemap: true,
  clean: true,
  target: 'es2022',
});
