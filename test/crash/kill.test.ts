/**
 * The kill loop: a child process commits each workload and SIGKILLs itself before its k-th
 * mutating filesystem operation, for every k, and at every named protocol step; this process then
 * recovers and checks all-old-or-all-new, acknowledged-never-lost, clean, confined (kill-loop.ts).
 *
 * CI: every op and every step of the five small workloads, a deterministic sample of the 50-file
 * one, and a crash at every op of a commit's own rollback. TXNFS_CRASH_FULL=1 (npm run test:soak)
 * kills the 50-file workload at every op too.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import type { ChildResult, KillPoint } from './child.js';
import { allPoints, killLoop, type KillLoopOptions } from './kill-loop.js';
import { loopScratch } from './scratch.js';
import { Tally } from './summary.js';
import { workloads, type Workload } from './workloads.js';

const FULL = process.env.TXNFS_CRASH_FULL === '1';
const tally = new Tally(`kill loop${FULL ? ' (full)' : ''}`);
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const all = workloads();
const byName = (name: string): Workload => all.find((w) => w.name === name) as Workload;
const traces = new Map<string, ChildResult>();
const scratchOf = loopScratch('txnfs-kill-', tally);

async function run(o: Omit<KillLoopOptions, 'scratch'>) {
  const r = await killLoop({ ...o, scratch: scratchOf() });
  traces.set(o.workload.name, r.trace);
  tally.crashPoints += r.points;
  tally.deferred += r.deferred;
  tally.violations += r.violations.length;
  return r;
}

/** The op right after each phase-changing step (of the 'applied:<i>' steps, the first and last). */
function phaseOps(trace: ChildResult): number[] {
  const applied = trace.steps.filter((s) => s.name.startsWith('applied:'));
  const phase = [...trace.steps.filter((s) => !s.name.startsWith('applied:')), ...applied.slice(0, 1), ...applied.slice(-1)];
  return phase.map((s) => s.opsBefore + 1);
}

/** Every `stride`-th op, the phase ops, the last three and one past the end, and `steps`. */
function sampled(trace: ChildResult, stride: number, steps: 'all' | 'none'): KillPoint[] {
  const total = trace.done ?? 0;
  const ops = new Set<number>(phaseOps(trace));
  for (let k = 1; k <= total; k += stride) ops.add(k);
  for (let k = Math.max(1, total - 2); k <= total + 1; k++) ops.add(k);
  const names = steps === 'all' ? [...new Set(trace.steps.map((s) => s.name))] : [];
  return [...[...ops].sort((a, b) => a - b).map((op) => ({ op })), ...names.map((step) => ({ step }))];
}

describe('kill loop: stopped at every mutating operation and every named step, then recovered', () => {
  for (const w of all) {
    const large = w.ops.length > 20;
    it(
      `${w.name}${large && !FULL ? ' (sampled)' : ''}`,
      async () => {
        const r = await run({
          workload: w,
          // batch children: every op and step (a sample of the 50-file workload in CI)
          ...(large && !FULL ? { points: (t: ChildResult) => sampled(t, 4, 'all') } : {}),
          // and the literal SIGKILL in the hook, one child per point: a sample in CI, all in full
          singlePoints: (t: ChildResult) => (FULL ? allPoints(t) : sampled(t, large ? 60 : 20, 'none')),
        });
        expect(r.violations).toEqual([]);
        // Every mutating operation and named step: 29 for the smallest, a one-file commit staged
        // as a lone file (src/transaction/lone.ts), more for every other workload.
        expect(r.points).toBeGreaterThan(25);
        // A crash before the commit point must leave all-old, after it all-new: both must occur.
        expect(r.outcomes.old ?? 0).toBeGreaterThan(0);
        expect(r.outcomes.new ?? 0).toBeGreaterThan(0);
      },
      FULL ? 1_800_000 : 120_000,
    );
  }

  it('crashing a commit in its own rollback: EIO at an apply op, then SIGKILL at every later op', async () => {
    const w = byName('mixed with new nested dirs');
    const trace = traces.get(w.name) ?? (await killLoop({ workload: w, scratch: scratchOf(), points: () => [] })).trace;
    const committed = trace.steps.find((s) => s.name === 'committed')?.opsBefore as number;
    // The third op of the apply: replace.txt was renamed and new/ was created, so the rollback has
    // a file to restore and a directory to remove.
    const failAt = committed + 3;
    const after = (t: ChildResult): KillPoint[] => Array.from({ length: (t.done ?? 0) - failAt + 1 }, (_, i) => ({ op: failAt + 1 + i }));
    // every op of the rollback and cleanup, and one past the end (the commit must reject EAPPLY)
    const r = await run({ workload: w, fail: { op: failAt, code: 'EIO' }, points: after, singlePoints: (t) => after(t).filter((_, i) => i % 4 === 0) });
    expect(r.violations).toEqual([]);
    expect(r.points).toBeGreaterThan(8);
    expect(r.outcomes.old ?? 0).toBeGreaterThan(r.outcomes.new ?? 0); // all-new only before the marker exists
  }, 120_000);

  it('hard links refused (EPERM at every link, as protected_hardlinks or FAT do): backups are copies, every op and step still recovers all-old or all-new', async () => {
    const w = byName('mixed with new nested dirs');
    const r = await run({ workload: { ...w, name: `${w.name}, no hard links` }, noLinks: true, singlePoints: (t) => sampled(t, 20, 'none') });
    expect(r.violations).toEqual([]);
    expect(r.points).toBeGreaterThan(30);
    expect(r.outcomes.old ?? 0).toBeGreaterThan(0);
    expect(r.outcomes.new ?? 0).toBeGreaterThan(0);
  }, 120_000);

  it('through an openRoot() handle (its home kept across the commit, removed by close()): every op and step recovers all-old or all-new', async () => {
    for (const w of [byName('single file'), byName('mixed with new nested dirs')]) {
      const r = await run({ workload: { ...w, name: `${w.name}, through openRoot()` }, viaRoot: true, singlePoints: (t) => sampled(t, 20, 'none') });
      expect(r.violations).toEqual([]);
      // The commit's ops and close()'s rmdir of the home: the handle adds its own ops to the trace.
      expect(r.trace.ops.some((o) => o.op === 'rmdir' && o.path.endsWith('/.txnfs'))).toBe(true);
      expect(r.points).toBeGreaterThan(20);
      expect(r.outcomes.old ?? 0).toBeGreaterThan(0);
      expect(r.outcomes.new ?? 0).toBeGreaterThan(0);
    }
  }, 240_000);

  it('hard links refused, and EIO in the apply: the rollback restores the copies, at every later op', async () => {
    const w = byName('mixed with new nested dirs');
    const trace = (await killLoop({ workload: w, scratch: scratchOf(), points: () => [], noLinks: true })).trace;
    const committed = trace.steps.find((s) => s.name === 'committed')?.opsBefore as number;
    const failAt = committed + 3;
    const after = (t: ChildResult): KillPoint[] => Array.from({ length: (t.done ?? 0) - failAt + 1 }, (_, i) => ({ op: failAt + 1 + i }));
    const r = await run({ workload: { ...w, name: `${w.name}, no hard links, EIO` }, noLinks: true, fail: { op: failAt, code: 'EIO' }, points: after });
    expect(r.violations).toEqual([]);
    expect(r.points).toBeGreaterThan(8);
  }, 120_000);

  it('the named steps killed above are every step() the commit path of the source reports', () => {
    const names = [...traces.values()].flatMap((t) => t.steps.map((s) => s.name));
    const inSource = stepNames(['src/transaction/committer.ts', 'src/protocol/apply.ts']);
    expect(inSource.length).toBeGreaterThan(4);
    for (const s of inSource) {
      const covered = s.endsWith('*') ? names.some((n) => n.startsWith(s.slice(0, -1))) : names.includes(s);
      expect({ step: s, covered }).toEqual({ step: s, covered: true });
    }
  });
});

describe('the kill loop catches a real bug', () => {
  // 'copy-backup-as-link': with hard links refused, the journal calls each copy a hard link, so the
  // roll-forward (which then wants the backup to be the original's inode) never applies them.
  it("reports a mix when a copy backup is journalled as a hard link ('copy-backup-as-link')", async () => {
    const w = byName('mixed with new nested dirs');
    const r = await killLoop({ workload: w, scratch: scratchOf(), noLinks: true, mutations: ['copy-backup-as-link'], points: (t) => sampled(t, 8, 'none') });
    expect(r.violations.length).toBeGreaterThan(0);
  }, 120_000);

  // 'cleanup-before-apply' removes the journal before the renames (src/protocol/finish.ts): a crash
  // between the two leaves some targets new and no journal to finish them. The loop above, over
  // the same workload and the same points without the bug, is clean.
  it("reports a mix when the journal is removed before the renames ('cleanup-before-apply')", async () => {
    const r = await killLoop({ workload: byName('overwrite only'), scratch: scratchOf(), mutations: ['cleanup-before-apply'] });
    expect(r.violations.length).toBeGreaterThan(0);
    expect(r.violations.some((v) => v.includes('mixed:'))).toBe(true);
  }, 120_000);
});

it('allPoints covers every op, one past the end, and each step once', () => {
  const t = { done: 3, steps: [{ name: 'a', opsBefore: 0 }, { name: 'b', opsBefore: 2 }, { name: 'a', opsBefore: 3 }] } as unknown as ChildResult;
  expect(allPoints(t)).toEqual([{ op: 1 }, { op: 2 }, { op: 3 }, { op: 4 }, { step: 'a' }, { step: 'b' }]);
});

/** step('name') and step(`prefix:${…}`) calls in the given source files ('prefix:*' for the latter). */
function stepNames(files: string[]): string[] {
  const out = new Set<string>();
  for (const f of files) {
    const sf = ts.createSourceFile(f, fs.readFileSync(path.join(repo, f), 'utf8'), ts.ScriptTarget.ES2022, true);
    const visit = (n: ts.Node): void => {
      if (ts.isCallExpression(n) && ts.isIdentifier(n.expression) && n.expression.text === 'step') {
        const a = n.arguments[0];
        if (a !== undefined && (ts.isStringLiteral(a) || ts.isNoSubstitutionTemplateLiteral(a))) out.add(a.text);
        else if (a !== undefined && ts.isTemplateExpression(a)) out.add(`${a.head.text}*`);
        else out.add('<non-literal>');
      }
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }
  return [...out];
}
