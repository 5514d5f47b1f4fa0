import { fileURLToPath } from 'node:url';
import { defaultClientConditions, defineConfig, type Plugin } from 'vite';

/**
 * TanStack Query's React modules start with a "use client" directive (for React Server
 * Components), which Rollup reports as ignored in every module of a client bundle: noise about a
 * dependency. The directive means nothing in a client-only app, so it is dropped before Rollup.
 */
const dropUseClient: Plugin = {
  name: 'drop-use-client',
  transform(code, id) {
    if (!id.includes('/node_modules/@tanstack/') || !code.startsWith('"use client";')) return undefined;
    return { code: code.slice('"use client";'.length), map: null };
  },
};

/**
 * The React chat's front-end: index.html and src/client, bundled into dist/ (served by
 * src/server/main.ts). JSX goes through esbuild's automatic runtime; no React plugin is needed for
 * a build (one would add Fast Refresh to `vite dev`).
 *
 * The one monorepo-only line: the `@wirecall/source` condition makes Vite bundle the workspace
 * packages from their TypeScript sources (an application using the published packages leaves
 * `resolve` out).
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  resolve: { conditions: ['@wirecall/source', ...defaultClientConditions] },
  esbuild: { jsx: 'automatic' },
  plugins: [dropUseClient],
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
});
