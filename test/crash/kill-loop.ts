/**
 * kill-loop.ts: crash a commit at every point, recover in another process, check.
 *
 * For a workload, a child process (test/fixtures/crash-child.mjs, the built library) commits the
 * transaction and is stopped right before its k-th mutating filesystem operation, for every k up
 * to one past the end (where the commit must complete), and at every named protocol step. Then
 * this process, which shares nothing with the dead one, runs recover() and checks (check.ts):
 * all-old or all-new, files and directories; all-new whenever the child had printed ACK
 * (commit() resolved); nothing left in `.txnfs/`; nothing touched outside the root.
 *
 * Two ways to stop the child, both ending in SIGKILL:
 *  - single: one root per child, which SIGKILLs itself in the fault hook, right before op k. Any
 *    operation still in flight on a libuv thread may or may not complete: the literal crash.
 *  - batch: many roots per child, each frozen at its own k (its op k and every later mutating op
 *    are never issued), then one SIGKILL when all are frozen. Each root holds what a SIGKILL right
 *    before op k leaves when the operations in flight completed. One spawn (~130 ms of CPU) covers
 *    a whole workload, which is what makes every k of every workload affordable in CI.
 *
 * A SIGKILL stops a process between two system calls: every call that returned is in the page
 * cache and survives. It simulates a process crash (OOM kill, kill -9, a deploy), not a power loss.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaults, recover } from '../../src/index.js';
import type { Mutation } from '../helpers/mutations.mjs';
import { age, inspectRoot, ownerlessLocks, sandbox, type RootVerdict, type Sandbox } from './check.js';
import { rollbackMarkerOp, runChild, writeOpsFile, type ChildResult, type KillPoint } from './child.js';
import type { Workload } from './workloads.js';

export interface Recovered extends RootVerdict {
  /** Recovery had to wait out an ownerless lock (aged by lockStale instead). */
  readonly deferred: boolean;
}

/**
 * recover() in this process until the root is recovered. An ownerless lock directory (a kill
 * between its mkdir and its owner file) cannot be told from one being taken this instant, so the
 * library waits lockStale before taking it over; it is aged by lockStale here instead of slept on,
 * and recovery runs again. Everything else must be gone after the first recovery.
 */
export async function recoverFully(sb: Sandbox): Promise<{ problems: string[]; deferred: boolean }> {
  const once = async (): Promise<{ error?: unknown; stuck: unknown[] }> => {
    try {
      const report = await recover(sb.root, { lockTimeout: 100 });
      return { stuck: [...report.failed, ...report.corrupt, ...report.skipped] };
    } catch (error) {
      return { error, stuck: [] };
    }
  };
  let r = await once();
  let deferred = false;
  const ownerless = ownerlessLocks(sb.root);
  if (ownerless.length > 0) {
    // The first recovery rightly skipped these (or timed out on an ownerless root lock).
    deferred = true;
    age(sb.root, ownerless, defaults.lockStale + 1000);
    r = await once();
  }
  const problems: string[] = [];
  if (r.error !== undefined) problems.push(`recover() rejected: ${(r.error as Error)?.message ?? String(r.error)}`);
  if (r.stuck.length > 0) problems.push(`recover() left transactions unresolved: ${JSON.stringify(r.stuck)}`);
  return { problems, deferred };
}

/** recoverFully, then judge the root against the workload (check.ts). */
export async function recoverAndJudge(w: Workload, sb: Sandbox): Promise<Recovered> {
  const { problems, deferred } = await recoverFully(sb);
  const v = inspectRoot(w, sb);
  return { outcome: v.outcome, problems: [...problems, ...v.problems], deferred };
}

/** Run `fn` over `items` with at most `n` at a time, in order of start. */
export async function pool<T>(items: Iterable<T>, n: number, fn: (item: T) => Promise<void>): Promise<void> {
  const it = items[Symbol.iterator]();
  const worker = async (): Promise<void> => {
    for (let next = it.next(); next.done !== true; next = it.next()) await fn(next.value);
  };
  await Promise.all(Array.from({ length: Math.max(1, n) }, worker));
}

/**
 * How many children run at once. Each is a separate process on its own roots, so they cannot
 * interfere; two keep both cores of a CI machine busy while this process recovers and checks.
 */
export const CHILD_CONCURRENCY = Math.max(1, Math.min(4, Number(process.env.TXNFS_CRASH_JOBS ?? 2)));
/** Roots per batch child: enough to cover a small workload in one spawn. */
export const BATCH_SIZE = 80;

export function describePoint(p: KillPoint): string {
  return 'op' in p ? `op ${p.op}` : `step ${p.step}`;
}

/** Every op of the traced run, one past the end (which must complete), and every distinct step. */
export function allPoints(trace: ChildResult): KillPoint[] {
  const points: KillPoint[] = [];
  for (let k = 1; k <= (trace.done ?? 0) + 1; k++) points.push({ op: k });
  for (const s of new Set(trace.steps.map((st) => st.name))) points.push({ step: s });
  return points;
}

/** What a child reported about one root it worked on. */
export interface RootRun {
  readonly point: KillPoint;
  /** Stopped at its point (killed there, or frozen there and then killed). */
  readonly stopped: boolean;
  readonly acked: boolean;
  readonly errors: string[];
  /** Mutating operations outside the root (must be none). */
  readonly escapes: string[];
  /** Where it was stopped, for messages. */
  readonly where: string;
  /** The child did not die of its SIGKILL (it must always). */
  readonly problem?: string;
}

export interface CrashJob {
  readonly mode: 'commit' | 'recover';
  readonly opsFile?: string;
  readonly fail?: { readonly op: number; readonly code: string };
  readonly mutations?: readonly Mutation[];
  /** Every link(2) fails with EPERM (protected hard links, FAT): backups are copies. */
  readonly noLinks?: boolean;
  /** The commit goes through an openRoot() handle, closed once it resolved (the fixture's viaRoot). */
  readonly viaRoot?: boolean;
}

/**
 * Stop the work of `job` at each of `points`, one root each (`roots`, prepared by the caller), in
 * batch or single children; returns what happened to each root, in the order of `points`.
 */
export async function crashRoots(job: CrashJob, points: readonly KillPoint[], roots: readonly Sandbox[], o: { readonly scratch: string; readonly batch: boolean }): Promise<RootRun[]> {
  const runs: RootRun[] = new Array<RootRun>(points.length);
  const fail = job.fail === undefined ? {} : { fail: job.fail };
  const base = { mode: job.mode, ...(job.opsFile === undefined ? {} : { opsFile: job.opsFile }), ...(job.noLinks === true ? { noLinks: true } : {}), ...(job.viaRoot === true ? { viaRoot: true } : {}) };
  if (!o.batch) {
    await pool(points.map((_, i) => i), CHILD_CONCURRENCY, async (i) => {
      const point = points[i] as KillPoint;
      const sb = roots[i] as Sandbox;
      const warmup = fs.mkdtempSync(path.join(o.scratch, 'warm-'));
      const r = await runChild({ ...base, root: sb.root, kill: point, ...fail, warmup }, { dir: o.scratch, mutations: job.mutations ?? [] });
      fs.rmSync(warmup, { recursive: true, force: true });
      runs[i] = {
        point,
        stopped: r.killed,
        acked: r.acks.length > 0 || r.lines.some((l) => l.startsWith('RECOVERED ')),
        errors: r.errors,
        escapes: [],
        where: r.lines.find((l) => l.startsWith('KILL '))?.slice(5).replace(sb.root, '<root>') ?? 'not stopped',
        ...(r.killed || r.signal === null ? {} : { problem: `died of ${r.signal}` }),
      };
    });
    return runs;
  }
  const batches: number[][] = [];
  for (let i = 0; i < points.length; i += BATCH_SIZE) batches.push(points.slice(i, i + BATCH_SIZE).map((_, j) => i + j));
  await pool(batches, CHILD_CONCURRENCY, async (batch) => {
    const warmup = fs.mkdtempSync(path.join(o.scratch, 'warm-'));
    const r = await runChild(
      { ...base, root: warmup, batch: batch.map((i) => ({ root: (roots[i] as Sandbox).root, kill: points[i] as KillPoint, ...fail })), warmup },
      { dir: o.scratch, mutations: job.mutations ?? [], timeoutMs: 120_000 },
    );
    fs.rmSync(warmup, { recursive: true, force: true });
    const died = r.signal === 'SIGKILL' && r.lines.some((l) => l.startsWith('KILL batch'));
    const by = (tag: string, j: number): string[] => r.lines.filter((l) => l.startsWith(`${tag} ${j} `)).map((l) => l.slice(tag.length + String(j).length + 2));
    batch.forEach((i, j) => {
      const frozen = by('FROZEN', j);
      runs[i] = {
        point: points[i] as KillPoint,
        stopped: frozen.length > 0,
        acked: by('ACK', j).length > 0 || by('RECOVERED', j).length > 0,
        errors: by('ERR', j),
        escapes: by('ESCAPE', j),
        where: frozen[0]?.replace((roots[i] as Sandbox).root, '<root>') ?? 'not stopped',
        ...(died ? {} : { problem: `the batch child did not die of its SIGKILL (exit ${r.code ?? r.signal}): ${r.errors.join('; ')} ${r.stderr.slice(0, 300)}` }),
      };
    });
  });
  return runs;
}

export interface KillLoopOptions {
  readonly workload: Workload;
  /** A scratch directory; every point gets (and loses) its own subdirectory. */
  readonly scratch: string;
  /** Points for batch children (default: every op and every step of the traced run). */
  readonly points?: (trace: ChildResult) => readonly KillPoint[];
  /** Points for single children, killed literally (default: none). */
  readonly singlePoints?: (trace: ChildResult) => readonly KillPoint[];
  readonly mutations?: readonly Mutation[];
  /**
   * Inject this errno first (in the child), to crash the commit in its own rollback: a child that
   * is not stopped must then have rejected with EAPPLY. Recovery must end all-old once the
   * rollback marker exists, all-new before (the journal alone says "roll forward").
   */
  readonly fail?: { readonly op: number; readonly code: string };
  /** Every link(2) in the child fails with EPERM, so every backup is a copy (backup.ts). */
  readonly noLinks?: boolean;
  /** The child commits through an openRoot() handle (src/transaction/root.ts), closed after. */
  readonly viaRoot?: boolean;
}

export interface KillLoopResult {
  /** Crash points reached (roots stopped there). */
  readonly points: number;
  readonly deferred: number;
  readonly violations: string[];
  /** The clean (unkilled) run's trace. */
  readonly trace: ChildResult;
  /** Outcomes seen after recovery, e.g. { old: 31, new: 20 }. */
  readonly outcomes: Record<string, number>;
}

export async function killLoop(o: KillLoopOptions): Promise<KillLoopResult> {
  const w = o.workload;
  const opsFile = path.join(o.scratch, `ops-${w.name.replace(/\W+/g, '-')}.json`);
  writeOpsFile(opsFile, w.ops);
  const violations: string[] = [];
  const outcomes: Record<string, number> = {};
  const fresh = (): Sandbox => sandbox(fs.mkdtempSync(path.join(o.scratch, 'k-')), w);
  const drop = (sb: Sandbox): void => fs.rmSync(sb.parent, { recursive: true, force: true });
  const fail = { ...(o.fail === undefined ? {} : { fail: o.fail }), ...(o.noLinks === true ? { noLinks: true } : {}), ...(o.viaRoot === true ? { viaRoot: true } : {}) };

  // The traced run: op count and step names, and a first check that a commit nobody kills works.
  const tsb = fresh();
  const warmup = fs.mkdtempSync(path.join(o.scratch, 'warm-'));
  const trace = await runChild({ mode: 'commit', root: tsb.root, opsFile, trace: true, ...fail, warmup }, { dir: o.scratch, mutations: o.mutations ?? [] });
  fs.rmSync(warmup, { recursive: true, force: true });
  const completed = o.fail === undefined ? trace.acks.length === 1 : trace.errors.some((e) => e.startsWith('EAPPLY '));
  if (!completed || trace.done === undefined) violations.push(`${w.name}: a commit nobody killed did not end as it should: ${trace.acks.join('; ')} ${trace.errors.join('; ')} ${trace.stderr}`);
  const tv = inspectRoot(w, tsb);
  if (tv.outcome !== (o.fail === undefined ? 'new' : 'old') || tv.problems.length > 0) violations.push(`${w.name}: after a commit nobody killed: ${tv.outcome} ${tv.problems.join('; ')}`);
  drop(tsb);
  // With `fail`, the op that makes the rollback marker: stopped at or before it, no marker exists.
  const markerAt = rollbackMarkerOp(trace);
  if (o.fail !== undefined && markerAt === undefined) violations.push(`${w.name}: the failing commit wrote no rollback marker (trace: ${trace.ops.length} ops)`);

  let points = 0;
  let deferred = 0;
  for (const [mode, list] of [['batch', o.points?.(trace) ?? allPoints(trace)], ['single', o.singlePoints?.(trace) ?? []]] as const) {
    if (list.length === 0) continue;
    const roots = list.map(() => fresh());
    try {
      const runs = await crashRoots({ mode: 'commit', opsFile, ...fail, ...(o.mutations === undefined ? {} : { mutations: o.mutations }) }, list, roots, { scratch: o.scratch, batch: mode === 'batch' });
      await pool(runs.map((_, i) => i), 4, async (i) => {
        const r = runs[i] as RootRun;
        const sb = roots[i] as Sandbox;
        const label = `${w.name} / ${o.fail === undefined ? '' : `${o.fail.code} at op ${o.fail.op}, `}${mode} kill at ${describePoint(r.point)} (${r.where})`;
        if (r.problem !== undefined) violations.push(`${label}: ${r.problem}`);
        for (const e of r.escapes) violations.push(`${label}: touched a path outside its root: ${e}`);
        if (r.stopped) points++;
        else {
          // Only a point past the end may be passed, and then the commit must have ended.
          const ended = o.fail === undefined ? r.acked : r.errors.some((e) => e.startsWith('EAPPLY '));
          if (!ended) violations.push(`${label}: neither stopped there nor ended its commit: ${r.errors.join('; ')}`);
          if ('step' in r.point) violations.push(`${label}: the step was never reached`);
        }
        const v = await recoverAndJudge(w, sb);
        if (v.deferred) deferred++;
        outcomes[v.outcome] = (outcomes[v.outcome] ?? 0) + 1;
        for (const p of v.problems) violations.push(`${label}: ${p}`);
        if (r.acked && v.outcome !== 'new') violations.push(`${label}: commit() had resolved (ACK) but after recovery the root is ${v.outcome}`);
        if (o.fail !== undefined && r.stopped && 'op' in r.point && markerAt !== undefined) {
          const want = r.point.op <= markerAt ? 'new' : 'old';
          if (v.outcome !== want) violations.push(`${label}: expected all-${want} (${want === 'old' ? 'the rollback marker existed' : 'no rollback marker yet: the journal says roll forward'}), got ${v.outcome}`);
        }
      });
    } finally {
      roots.forEach(drop);
    }
  }
  return { points, deferred, violations, trace, outcomes };
}
