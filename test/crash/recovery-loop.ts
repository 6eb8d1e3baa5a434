/**
 * recovery-loop.ts: crash recovery itself at every point, then recover again (invariant 5).
 *
 * A crash state is made once: a child commits a workload and is SIGKILLed at a chosen point
 * (optionally after an injected errno, to be killed in the middle of its own rollback). Then, for
 * every j up to one past the end of a clean recovery, a copy of that state (clone.ts) is
 * recovered by a child that is stopped before its j-th mutating operation (frozen in a batch
 * child, or SIGKILLed literally for a sample; see kill-loop.ts), and this process recovers the
 * copy again. Each must end exactly like one clean recovery of the state: the same
 * all-old or all-new outcome, nothing left behind. Last, the original state is recovered once,
 * cleanly, and must give that outcome too (which also proves the copies faithful).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Mutation } from '../helpers/mutations.mjs';
import { inspectRoot, sandbox, type Sandbox } from './check.js';
import { runChild, writeOpsFile, type KillPoint } from './child.js';
import { cloneSandbox } from './clone.js';
import { crashRoots, describePoint, pool, recoverAndJudge, type RootRun } from './kill-loop.js';
import type { Workload } from './workloads.js';

export interface CrashState {
  /** Where the committing child dies. */
  readonly kill: KillPoint;
  /** An errno injected first, so that the child dies in its rollback. */
  readonly fail?: { readonly op: number; readonly code: string };
}

export interface RecoveryLoopOptions {
  readonly workload: Workload;
  readonly state: CrashState;
  readonly scratch: string;
  readonly mutations?: readonly Mutation[];
  /** Recovery ops at which to kill single children literally (default: none; batch covers all). */
  readonly single?: (total: number) => readonly number[];
}

export interface RecoveryLoopResult {
  readonly points: number;
  readonly deferred: number;
  /** What one clean recovery of the state gives. */
  readonly expected: 'old' | 'new' | 'mixed';
  readonly violations: string[];
}

export async function recoveryLoop(o: RecoveryLoopOptions): Promise<RecoveryLoopResult> {
  const w = o.workload;
  const label = `${w.name} / crashed at ${describePoint(o.state.kill)}${o.state.fail === undefined ? '' : ` after ${o.state.fail.code} at op ${o.state.fail.op}`}`;
  const violations: string[] = [];
  const opsFile = path.join(o.scratch, `ops-r-${w.name.replace(/\W+/g, '-')}.json`);
  writeOpsFile(opsFile, w.ops);
  const base = fs.mkdtempSync(path.join(o.scratch, 'state-'));
  fs.mkdirSync(path.join(base, 'original'));
  const original = sandbox(path.join(base, 'original'), w);
  let copies = 0;
  const copy = (): Sandbox => cloneSandbox(original, path.join(base, `copy-${++copies}`));
  const drop = (sb: Sandbox): void => fs.rmSync(sb.parent, { recursive: true, force: true });
  const mutations = o.mutations === undefined ? {} : { mutations: o.mutations };
  try {
    const warmup = fs.mkdtempSync(path.join(o.scratch, 'warm-'));
    const made = await runChild(
      // One entry at a time, so a kill at 'applied:<i>' leaves exactly i+1 entries applied: the
      // crash state is the partial apply it is named after (the kill loop covers concurrent ones).
      { mode: 'commit', root: original.root, opsFile, kill: o.state.kill, warmup, begin: { concurrency: 1 }, ...(o.state.fail === undefined ? {} : { fail: o.state.fail }) },
      { dir: o.scratch, mutations: o.mutations ?? [] },
    );
    if (!made.killed) throw new Error(`${label}: the child was not killed there (${made.acks.length > 0 ? 'it committed' : made.errors.join('; ')})`);

    // What one clean recovery gives, and how many operations it takes (traced, in a child).
    const ref = copy();
    const traced = await runChild({ mode: 'recover', root: ref.root, trace: true, warmup }, { dir: o.scratch, mutations: o.mutations ?? [] });
    fs.rmSync(warmup, { recursive: true, force: true });
    if (traced.done === undefined || !traced.lines.some((l) => l.startsWith('RECOVERED '))) violations.push(`${label}: a recovery nobody killed did not complete: ${traced.errors.join('; ')}`);
    const refVerdict = inspectRoot(w, ref);
    const expected = refVerdict.outcome;
    for (const p of refVerdict.problems) violations.push(`${label} / clean recovery: ${p}`);
    drop(ref);

    let points = 0;
    let deferred = 0;
    const total = traced.done ?? 0;
    const all: KillPoint[] = Array.from({ length: total + 1 }, (_, i) => ({ op: i + 1 }));
    for (const [mode, list] of [['batch', all], ['single', (o.single?.(total) ?? []).map((op) => ({ op }))]] as const) {
      if (list.length === 0) continue;
      const roots = list.map(() => copy());
      try {
        const runs = await crashRoots({ mode: 'recover', ...mutations }, list, roots, { scratch: o.scratch, batch: mode === 'batch' });
        await pool(runs.map((_, i) => i), 4, async (i) => {
          const r = runs[i] as RootRun;
          const sb = roots[i] as Sandbox;
          const at = `${label} / ${mode} kill of recovery at ${describePoint(r.point)} (${r.where})`;
          if (r.problem !== undefined) violations.push(`${at}: ${r.problem}`);
          for (const e of r.escapes) violations.push(`${at}: touched a path outside its root: ${e}`);
          if (r.stopped) points++;
          else if (!r.acked) violations.push(`${at}: neither stopped there nor finished: ${r.errors.join('; ')}`);
          const v = await recoverAndJudge(w, sb);
          if (v.deferred) deferred++;
          for (const p of v.problems) violations.push(`${at}: ${p}`);
          if (v.outcome !== expected) violations.push(`${at}: ended ${v.outcome}, one clean recovery gives ${expected}`);
        });
      } finally {
        roots.forEach(drop);
      }
    }

    const final = await recoverAndJudge(w, original);
    for (const p of final.problems) violations.push(`${label} / the original state, recovered here: ${p}`);
    if (final.outcome !== expected) violations.push(`${label}: the original state recovers to ${final.outcome}, its copies to ${expected} (the copy is not faithful)`);
    if (expected === 'mixed') violations.push(`${label}: one clean recovery gives a mix`);
    return { points, deferred, expected, violations };
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
}
