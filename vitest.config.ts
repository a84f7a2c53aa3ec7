import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{main,shared,server,renderer,bench,e2e/support}/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
