import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    alias: [
      {
        find: /^@custos\/verify$/,
        replacement: fileURLToPath(new URL('./packages/verify/src/index.ts', import.meta.url)),
      },
      {
        find: /^@custos\/verify\/node$/,
        replacement: fileURLToPath(new URL('./packages/verify/src/node.ts', import.meta.url)),
      },
    ],
  },
  test: {
    include: ['packages/*/test/**/*.test.ts'],
    reporters: ['default', './test-support/count-reporter.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
