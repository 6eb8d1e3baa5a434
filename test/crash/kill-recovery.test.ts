/**
 * Crash recovery itself (invariant 5): for crash states that need recovery to roll forward, to
 * finish a rollback and to discard, recovery is stopped at every one of its mutating operations,
 * then run again in another process; each time the result must be exactly that of one clean
 * recovery, with nothing left behind (recovery-loop.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sandbox } from './check.js';
import { rollbackMarkerOp, runChild, writeOpsFile } from './child.js';
import { recoveryLoop, type CrashState } from './recovery-loop.js';
import { loopScratch } from './scratch.js';
import { Tally } from './summary.js';
import { workloads, type Workload } from './workloads.js';

const FULL = process.env.TXNFS_CRASH_FULL === '1';
const tally = new Tally(`recovery-crash loop${FULL ? ' (full)' : ''}`);
const all = workloads();
const byName = (name: string): Workload => all.find((w) => w.name === name) as Workload;
const scratchOf = loopScratch('txnfs-krec-', tally);

/**
 * A state in the middle of a commit's own rollback: EIO at the third op of the apply, then a kill
 * right after the first undo (the rollback marker is durable; recovery must finish going back).
 */
async function midRollback(w: Workload): Promise<CrashState> {
  const opsFile = path.join(scratchOf(), 'ops-mid-rollback.json');
  writeOpsFile(opsFile, w.ops);
  // Probe on roots seeded like the real one: the operations depend on what exists before.
  const probeRoot = (): string => sandbox(fs.mkdtempSync(path.join(scratchOf(), 'probe-')), w).root;
  const warmup = fs.mkdtempSync(path.join(scratchOf(), 'warm-'));
  const probe = await runChild({ mode: 'commit', root: probeRoot(), opsFile, trace: true, warmup }, { dir: scratchOf() });
  const committed = probe.steps.find((s) => s.name === 'committed')?.opsBefore as number;
  // Fail the operation right after the apply's first rename into the root: one change is then made
  // and must be undone (a fixed offset from the commit point broke when the calls before the
  // first rename changed).
  const firstRename = probe.ops.find((op) => op.index >= committed && op.op === 'rename' && op.dest !== undefined && !op.dest.includes(`${path.sep}.txnfs${path.sep}`))?.index as number;
  expect(firstRename).toBeGreaterThanOrEqual(committed);
  const failAt = firstRename + 1;
  const traced = await runChild({ mode: 'commit', root: probeRoot(), opsFile, trace: true, warmup, fail: { op: failAt, code: 'EIO' } }, { dir: scratchOf() });
  expect(traced.errors.some((e) => e.startsWith('EAPPLY ')), `the fault at op ${failAt} must hit the apply: ${traced.errors.join('; ')}`).toBe(true);
  const marker = rollbackMarkerOp(traced) as number;
  const firstUndo = traced.ops.find((op) => op.index > marker && op.op === 'rename')?.index as number;
  expect(marker).toBeGreaterThan(failAt);
  expect(firstUndo).toBeGreaterThan(marker);
  return { fail: { op: failAt, code: 'EIO' }, kill: { op: firstUndo + 1 } };
}

const states: { w: string; state: CrashState | 'mid-rollback'; expect: 'old' | 'new'; ci: boolean; minPoints?: number }[] = [
  // A one-file commit released the root lock before this step (its rename is made durable after
  // the release): what is left for recovery is the empty home, taken under a lock of its own.
  { w: 'single file', state: { kill: { step: 'committed' } }, expect: 'new', ci: true, minPoints: 3 },
  { w: 'overwrite only', state: { kill: { step: 'applied:0' } }, expect: 'new', ci: true },
  { w: 'delete only', state: { kill: { step: 'applied:1' } }, expect: 'new', ci: true },
  { w: 'mixed with new nested dirs', state: { kill: { step: 'applied:1' } }, expect: 'new', ci: true },
  { w: 'mixed with new nested dirs', state: 'mid-rollback', expect: 'old', ci: true },
  { w: 'mixed with new nested dirs', state: { kill: { step: 'locked' } }, expect: 'old', ci: true },
  { w: 'create only', state: { kill: { step: 'cleanup' } }, expect: 'new', ci: false },
  { w: '50 files, 0 B to 1 MiB', state: { kill: { step: 'applied:20' } }, expect: 'new', ci: false },
  { w: '50 files, 0 B to 1 MiB', state: { kill: { step: 'staged' } }, expect: 'old', ci: false },
];

describe('crash recovery at every one of its operations, then recover again: same as one clean recovery', () => {
  for (const s of states.filter((x) => FULL || x.ci)) {
    const name = `${s.w}, crashed ${s.state === 'mid-rollback' ? 'in the middle of its rollback' : `at step ${'step' in s.state.kill ? s.state.kill.step : s.state.kill.op}`} (recovers to all-${s.expect})`;
    it(name, async () => {
      const w = byName(s.w);
      const state = s.state === 'mid-rollback' ? await midRollback(w) : s.state;
      const r = await recoveryLoop({
        workload: w,
        state,
        scratch: scratchOf(),
        // a few literal SIGKILLs besides the batch: first, middle, last op of the recovery
        single: (total) => (FULL ? Array.from({ length: total }, (_, i) => i + 1) : [1, Math.ceil(total / 2), total]),
      });
      tally.crashPoints += r.points;
      tally.deferred += r.deferred;
      tally.violations += r.violations.length;
      expect(r.violations).toEqual([]);
      expect(r.expected).toBe(s.expect);
      expect(r.points).toBeGreaterThan(s.minPoints ?? 8);
    }, FULL ? 600_000 : 120_000);
  }
});

describe('the recovery-crash loop catches a real bug', () => {
  it("reports a mix when recovery removes the journal before rolling forward ('recover-journal-first')", async () => {
    // A clean recovery with this bug still ends all-new (the journal is in memory by then), so
    // only crashing recovery in the middle shows it. Without the bug the same state is clean above.
    const r = await recoveryLoop({ workload: byName('overwrite only'), state: { kill: { step: 'applied:0' } }, scratch: scratchOf(), mutations: ['recover-journal-first'] });
    expect(r.expected).toBe('new');
    expect(r.violations.length).toBeGreaterThan(0);
    expect(r.violations.some((v) => v.includes('mixed:'))).toBe(true);
  }, 120_000);
});
