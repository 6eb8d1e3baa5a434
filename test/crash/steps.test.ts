/**
 * The first crash test: a child process SIGKILLs itself at each named step of the commit, then a
 * recovery in this (different) process must leave every target all-old or all-new, keep any
 * acknowledged commit, and leave nothing behind. The exhaustive loops (every operation, I/O errors,
 * power loss) live in the crash harness; this one proves the commit point.
 */
import { describe, expect, it } from 'vitest';
import { recover } from '../../src/index.js';
import { crashAt, makeRoot, type SimpleOp } from '../helpers/crash.js';
import { leftovers, tmpdir } from '../helpers/tmp.js';
import { judge, read, seed, workloads, type Workload } from './workloads.js';

// The standard workloads write and remove only (copy and rename are in treeWorkloads()).
const runChild = (dir: string, w: Workload, step: string, env: Record<string, string> = {}) => crashAt(dir, w.ops as readonly SimpleOp[], step, env);

/** Steps every non-empty commit passes, in order ('applied:<i>' for each entry). */
function stepsOf(w: Workload): string[] {
  return ['staged', 'locked', 'committed', ...w.ops.map((_, i) => `applied:${i}`), 'cleanup', 'journal-removed', 'done', 'never'];
}

const small = workloads().filter((w) => w.ops.length <= 4);

describe('a SIGKILL at each named step of the commit', () => {
  for (const w of small) {
    it(`${w.name}: all-old before the commit point, all-new after, nothing left`, async () => {
      const outcomes: string[] = [];
      for (const step of stepsOf(w)) {
        const dir = makeRoot(tmpdir());
        seed(dir, w);
        const { acked, killed } = runChild(dir, w, step);
        expect(killed).toBe(step !== 'never' && step !== 'done' ? true : step === 'done');
        const report = await recover(dir);
        const verdict = judge(w, read(dir));
        outcomes.push(`${step}=${verdict}`);
        // Before the journal is durable the transaction never happened; from then on it will.
        const expected = ['staged', 'locked'].includes(step) ? 'old' : 'new';
        expect(verdict, `killed at ${step}`).toBe(expected);
        if (acked) expect(verdict).toBe('new');
        expect(leftovers(dir), `killed at ${step}`).toEqual([]);
        expect(report.corrupt).toEqual([]);
        expect(report.failed).toEqual([]);
        // Recovery is idempotent: a second one finds nothing to do.
        const again = await recover(dir);
        expect([...again.rolledForward, ...again.rolledBack, ...again.discarded]).toEqual([]);
      }
      expect(outcomes.length).toBe(stepsOf(w).length);
    });
  }

  it('recovery rolls forward what the killed commit had journaled (it reports it)', async () => {
    const w = small.find((x) => x.name === 'overwrite only') as Workload;
    const dir = makeRoot(tmpdir());
    seed(dir, w);
    // One entry at a time, so the kill at 'applied:0' leaves exactly one of three applied.
    runChild(dir, w, 'applied:0', { TXNFS_CONCURRENCY: '1' });
    expect(judge(w, read(dir))).toMatch(/^mixed/); // the crash really left a mix behind
    const report = await recover(dir);
    expect(report.rolledForward).toHaveLength(1);
    expect(report.rolledForward[0]).toMatchObject({ entries: 3, changed: 2 });
    expect(judge(w, read(dir))).toBe('new');
  });

  it('catches a real bug: with the journal removed before the renames, a kill mid-apply leaves a mix', async () => {
    const w = small.find((x) => x.name === 'overwrite only') as Workload;
    const dir = makeRoot(tmpdir());
    seed(dir, w);
    runChild(dir, w, 'applied:0', { TXNFS_MUTATIONS: 'cleanup-before-apply', TXNFS_CONCURRENCY: '1' });
    await recover(dir);
    expect(judge(w, read(dir))).toMatch(/^mixed/);
  });
});
