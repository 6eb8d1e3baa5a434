/**
 * The I/O-error loop (SQLite's "I/O error" tests): an errno injected at every mutating operation
 * of a commit, once or from there on, and what commit() and recover() must do about it. The rules
 * per phase are in error-loop.ts.
 *
 * CI runs every fault point of the small workloads with EIO (once and persistent), every other
 * errno at every point of the mixed workload (once) and of the single-file one (persistent), and
 * a deterministic sample of the 50-file workload. The library has no errno-specific branch for
 * these five, so the other errnos mostly prove that; `TXNFS_CRASH_FULL=1` (npm run test:soak) runs
 * every workload x errno x mode x point.
 */
import { describe, expect, it } from 'vitest';
import { errorLoop, type ErrorLoopOptions } from './error-loop.js';
import { ERRNOS, samplePoints, type Errno } from './inject.js';
import { loopScratch } from './scratch.js';
import { Tally } from './summary.js';
import { workloads, type Workload } from './workloads.js';

const FULL = process.env.TXNFS_CRASH_FULL === '1';
const tally = new Tally(`I/O-error loop${FULL ? ' (full)' : ''}`);
const scratchOf = loopScratch('txnfs-errors-', tally);

async function run(o: Omit<ErrorLoopOptions, 'scratch'>): Promise<void> {
  const r = await errorLoop({ ...o, scratch: scratchOf() });
  tally.errorPoints += r.points;
  tally.deferred += r.deferred;
  tally.violations += r.violations.length;
  expect(r.points).toBeGreaterThan(0);
  // The first three in full (a longer list is printed truncated).
  expect(r.violations.slice(0, 3)).toEqual([]);
}

const all = workloads();
const small = all.filter((w) => w.before.size + w.ops.length < 20);
const large = all.filter((w) => !small.includes(w));
const byName = (name: string): Workload => all.find((w) => w.name === name) as Workload;

const cases: { w: Workload; code: Errno; persistent: boolean; sampled: boolean }[] = [];
for (const w of all) {
  for (const code of ERRNOS) {
    for (const persistent of [false, true]) {
      const sampled = large.includes(w);
      const inCi = code === 'EIO' || (w.name === 'mixed with new nested dirs' && !persistent) || (w.name === 'single file' && persistent);
      if (FULL || inCi) cases.push({ w, code, persistent, sampled: sampled && !FULL });
    }
  }
}

describe('I/O-error loop: every fault point, every rule', () => {
  it.each(cases.map((c) => [`${c.w.name} / ${c.code} ${c.persistent ? 'persistent' : 'once'}${c.sampled ? ' (sampled)' : ''}`, c] as const))(
    '%s',
    async (_name, c) => {
      await run({
        workload: c.w,
        code: c.code,
        persistent: c.persistent,
        ...(c.sampled ? { points: (clean) => samplePoints(clean, c.persistent ? 10 : 5) } : {}),
      });
    },
    FULL ? 600_000 : 60_000,
  );
});

describe('the I/O-error loop catches a real bug', () => {
  it("reports violations when the rollback after a failed apply is skipped ('skip-rollback')", async () => {
    const r = await errorLoop({ workload: byName('overwrite only'), code: 'EIO', persistent: false, scratch: scratchOf(), mutations: ['skip-rollback'] });
    // A fault at the second or third rename of the apply leaves a mix that commit() reports as
    // rolled back (EAPPLY), and recovery has no journal left to repair it.
    expect(r.violations.length).toBeGreaterThan(0);
    expect(r.violations.some((v) => v.includes('right after commit() the root is mixed'))).toBe(true);
    expect(r.violations.some((v) => v.includes('after recover() the root is mixed'))).toBe(true);
  });

  it('and the same loop without the mutation is clean (the violations above come from the bug)', async () => {
    const r = await errorLoop({ workload: byName('overwrite only'), code: 'EIO', persistent: false, scratch: scratchOf() });
    // The first three in full (a longer list is printed truncated).
  expect(r.violations.slice(0, 3)).toEqual([]);
  });
});

// Keep the small/large split honest: the sampled workload must really be the big one.
it('samples only the 50-file workload in CI', () => {
  expect(large.map((w) => w.name)).toEqual(['50 files, 0 B to 1 MiB']);
  expect(small).toHaveLength(5);
});
