import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Child-process fixtures import the built library from dist/; build it once per run so they
    // never test stale code.
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Crash and lock tests spawn processes and use real fsync; two cores are all we have.
    maxWorkers: 2,
    // Type tests of the public API (*.test-d.ts: expectTypeOf, @ts-expect-error) run with every
    // `vitest run`: vitest type-checks them with tsc and reports each failed assertion as a test.
    typecheck: {
      enabled: true,
      include: ['test/**/*.test-d.ts'],
      tsconfig: 'tsconfig.typetest.json', // the type tests and what they import, not the whole project
    },
  },
});
