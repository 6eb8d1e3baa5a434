import { defineConfig } from 'vitest/config';

/**
 * `npm run test:soak`: the long crash runs. Every workload x errno x mode x fault point of the
 * I/O-error loop, every op of every workload in the kill loops (batch and literal SIGKILL), more
 * recovery-crash states, and the random soak for TXNFS_SOAK_SECONDS (default 300).
 *
 *   TXNFS_SOAK_SECONDS=3600 TXNFS_SOAK_WRITERS=4 npm run test:soak
 *   TXNFS_CRASH_TMP=/var/tmp npm run test:soak     # on a real disk instead of tmpfs
 */
export default defineConfig({
  test: {
    include: ['test/crash/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    env: {
      TXNFS_CRASH_FULL: '1',
      TXNFS_SOAK_SECONDS: process.env.TXNFS_SOAK_SECONDS ?? '300',
    },
    testTimeout: 3_600_000,
    hookTimeout: 60_000,
    maxWorkers: 2,
  },
});
