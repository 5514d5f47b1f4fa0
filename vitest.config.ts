import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Tests run against workspace sources, not dist (see the "@wirecall/source" export condition).
    conditions: ['@wirecall/source'],
  },
  ssr: {
    resolve: { conditions: ['@wirecall/source'] },
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/tests/**/*.test.ts', 'examples/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    setupFiles: ['packages/tests/setup/fail-on-console.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    typecheck: {
      enabled: true,
      include: ['packages/**/*.test-d.ts'],
      tsconfig: './tsconfig.json',
    },
  },
});
