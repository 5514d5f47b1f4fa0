import { fileURLToPath } from 'node:url';
import { defaultClientConditions, defineConfig } from 'vite';

/**
 * The chat's front-end: index.html and src/client, bundled into dist/ (served by src/server/main.ts).
 * Nothing wirecall-specific is needed: @wirecall/client's WebSocket comes from isomorphic-ws, whose
 * `browser` entry Vite picks, so the page uses the browser's own WebSocket.
 *
 * The one monorepo-only line: the `@wirecall/source` condition makes Vite bundle the workspace
 * packages from their TypeScript sources, so the example runs without `npm run build` of the
 * packages first (an application using the published packages leaves `resolve` out).
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  resolve: { conditions: ['@wirecall/source', ...defaultClientConditions] },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
});
