import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The boot tier (test/boot) runs with WASMVISOR_TEST_BOOT=1 (npm run test:boot).
    exclude: process.env.WASMVISOR_TEST_BOOT === '1' ? ['**/node_modules/**'] : ['test/boot/**', '**/node_modules/**'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Boot tests each run a whole VM flat out: one at a time on a 2-core CI machine.
    fileParallelism: process.env.WASMVISOR_TEST_BOOT !== '1',
  },
});
