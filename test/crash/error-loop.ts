/**
 * error-loop.ts: SQLite-style I/O-error loop, in process.
 *
 * For a workload and an errno: run the commit with the error injected at mutating operation k,
 * for k = 1, 2, … until a commit completes without reaching k. Each run gets a fresh sandboxed
 * root seeded with the workload's old state. What must hold depends on where k fell (the named
 * steps of src/transaction/committer.ts tell):
 *
 *                   once (transient error)                 persistent (every op from k fails)
 *  before the       rejects EFS/ESTAGE, cause = the        same; root all-old right away (EINCOMPLETE
 *  commit point     injected error; root all-old at once   if the journal was already renamed into
 *                                                          place and cannot be removed)
 *  applying         rejects EAPPLY (rolled back), cause    rejects EINCOMPLETE (cannot roll back),
 *                   = injected; all-old at once            cause = injected; root may be mixed
 *  after the apply  resolves (the commit stands), with a   same
 *  resolved         warning naming the error; all-new
 *
 * Then (persistent mode) recover() with the fault still present may fail, but must change nothing
 * on disk; and recover() with the fault removed must give the expected state (all-old, or all-new
 * once the journal was durably in place) and leave nothing in `.txnfs/`.
 *
 * The loop collects violations instead of stopping, so one run reports every bad fault point.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { begin, codes, defaults, isTxnError, recover, type CommitResult, type TxnError } from '../../src/index.js';
import { useFsImpl } from '../../src/io/fs.js';
import { faults } from '../../src/io/faults.js';
import { mutationLayer, type Mutation } from '../helpers/mutations.mjs';
import { age, inspectRoot, ownerlessLocks, sandbox } from './check.js';
import { Injector, phaseOf, withInjector, type Errno, type Phase, type TracedOp } from './inject.js';
import { trackedFs } from './tracked-fs.js';
import type { Workload } from './workloads.js';

export interface ErrorLoopOptions {
  readonly workload: Workload;
  readonly code: Errno;
  readonly persistent: boolean;
  /** A scratch directory; every run uses (and removes) a fresh subdirectory. */
  readonly scratch: string;
  /**
   * Fault points to try, given the trace of a commit that reached no fault; default every k until
   * the commit completes without reaching it.
   */
  readonly points?: (clean: Injector) => Iterable<number>;
  /** Deliberate protocol bugs to switch on (to prove the loop catches them). */
  readonly mutations?: readonly Mutation[];
}

export interface ErrorLoopResult {
  /** Fault points where an error was injected. */
  readonly points: number;
  /** Mutating operations of a commit that reached no fault. */
  readonly total: number;
  /** Points where recovery had to wait out an ownerless lock (aged instead of waited for). */
  readonly deferred: number;
  readonly violations: string[];
}

/** A staged file (files/<n> of a staging dir). */
/** A staged file: `files/<n>` of a staging dir, or a transaction's lone file in the home (src/transaction/lone.ts). */
const STAGED = /\/\.txn-[^/]+\/files\/[0-9]+$|\/\.txnfs\/\.tmp-[^/]+$/;

/** Codes that promise "nothing changed" and come from before the commit point. */
const PRE_COMMIT_CODES: readonly string[] = [codes.EFS, codes.ESTAGE];

type Settled = { ok: true; value: CommitResult } | { ok: false; error: unknown };

function snapshotTree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string): void => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) {
        out.set(`${r}/`, 'dir');
        walk(r);
      } else out.set(r, fs.readFileSync(path.join(dir, r)).toString('base64'));
    }
  };
  walk('');
  return out;
}

function sameTree(a: Map<string, string>, b: Map<string, string>): boolean {
  return a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);
}

async function commitWorkload(w: Workload, root: string): Promise<Settled> {
  const tx = begin({ dir: root });
  for (const op of w.ops) {
    if (op.op === 'write') tx.write(op.path, op.data);
    else tx.remove(op.path);
  }
  return tx.commit().then(
    (value) => ({ ok: true, value }),
    (error: unknown) => ({ ok: false, error }),
  );
}

function describeError(e: unknown): string {
  if (isTxnError(e)) return `TxnError ${e.code} (cause: ${(e.cause as Error | undefined)?.message ?? 'none'})`;
  return `${(e as Error)?.constructor?.name ?? typeof e}: ${(e as Error)?.message ?? String(e)}`;
}

/**
 * The cause commit() must report: the injected error. In persistent mode later operations fail
 * too, and those must not replace it (a cleanup failure masking the real one is a bug this loop
 * found), with one exception: staging runs files in parallel, so when the first fault hit staging,
 * another staged file's failure may settle first and is as true a cause.
 */
function isExpectedCause(injector: Injector, cause: unknown): boolean {
  const first = injector.thrown[0];
  if (first === undefined) return false;
  if (cause === first.error) return true;
  const staging = (op: TracedOp): boolean => !injector.steps.slice(0, op.stepsBefore).includes('staged');
  const other = injector.thrown.find((t) => t.error === cause);
  return other !== undefined && staging(first.op) && staging(other.op) && other.op.path.includes(`${path.sep}files${path.sep}`);
}

interface PointResult {
  readonly injector: Injector;
  readonly violations: string[];
  /** Recovery had to wait out an ownerless lock (see `ownerlessLocks`). */
  readonly deferred: boolean;
}

/** Run one fault point. Returns the injector (for the trace) and the violations found. */
export async function runErrorPoint(o: ErrorLoopOptions, k: number): Promise<PointResult> {
  const w = o.workload;
  const dir = fs.mkdtempSync(path.join(o.scratch, 'p-'));
  const sb = sandbox(dir, w);
  const tracked = trackedFs({ syncs: false });
  const injector = new Injector({ at: k, code: o.code, persistent: o.persistent });
  const violations: string[] = [];
  let deferred = false;
  const label = `${w.name} / ${o.code} ${o.persistent ? 'persistent' : 'once'} at op ${k}`;
  const fail = (msg: string): void => {
    violations.push(`${label}${injector.injectedAt === undefined ? '' : ` (${injector.injectedAt.op} ${path.relative(sb.root, injector.injectedAt.path)})`}: ${msg}`);
  };
  const layer = mutationLayer(o.mutations ?? []);
  const previousImpl = useFsImpl(layer.impl(tracked.impl));
  for (const m of layer.library) faults.mutations.add(m);
  try {
    const settled = await withInjector(injector, layer, async () => {
      const s = await commitWorkload(w, sb.root);
      await tracked.idle();
      return s;
    });
    const injected = injector.injected;
    if (injected === undefined || injector.injectedAt === undefined) {
      // k lies beyond the commit: it must simply have worked.
      if (!settled.ok) fail(`commit failed without any injected error: ${describeError(settled.error)}`);
      const v = inspectRoot(w, sb);
      if (v.outcome !== 'new') fail(`commit resolved but the root is ${v.outcome}`);
      for (const p of v.problems) fail(p);
      return { injector, violations, deferred };
    }
    const phase: Phase = phaseOf(injector, injector.injectedAt);
    // The commit point gives journal.tmp its name `journal` (a link; a rename where links are refused).
    const journalRenamedBefore = injector.ops.some((op) => op.index < k && (op.op === 'rename' || op.op === 'link') && op.dest?.endsWith(`${path.sep}journal`) === true);
    // A one-file commit (src/protocol/direct.ts) has no journal: its rename of its file over the
    // target, made durable by the parent's fsync, is its commit point, before step 'committed'.
    // A persistent fault at that fsync also fails the undo: the new file then stays in place.
    const directRenamedBefore = phase === 'pre' && injector.ops.some((op) => op.index < k && op.op === 'rename' && STAGED.test(op.path) && op.dest !== undefined && !op.dest.includes(`${path.sep}.txnfs${path.sep}`));
    const pointMayHold = journalRenamedBefore || directRenamedBefore;

    // 1. What commit() reported.
    let expectNow: 'old' | 'new' | 'any';
    if (phase === 'cleanup') {
      expectNow = 'new';
      if (!settled.ok) fail(`the apply had resolved, yet commit() rejected: ${describeError(settled.error)}`);
      else if (!settled.value.warnings.some((m) => m.includes(injected.message))) {
        fail(`commit() resolved but no warning names the injected error (warnings: ${JSON.stringify(settled.value.warnings)})`);
      }
    } else {
      expectNow = phase === 'apply' && o.persistent ? 'any' : o.persistent && directRenamedBefore ? 'new' : 'old';
      if (settled.ok) fail(`commit() resolved although ${injected.code} hit the ${phase} phase`);
      else {
        const e = settled.error;
        if (!isTxnError(e)) fail(`commit() rejected with a non-TxnError: ${describeError(e)}`);
        else {
          if (!isExpectedCause(injector, (e as TxnError).cause)) fail(`the TxnError's cause is not the injected error: ${describeError(e)}`);
          // A persistent fault right after the journal's rename also fails its removal: the commit
          // point may then survive, so "nothing changed" (EFS) would be a lie; EINCOMPLETE it is.
          const want = phase === 'pre' ? (o.persistent && pointMayHold ? [codes.EINCOMPLETE] : PRE_COMMIT_CODES) : [o.persistent ? codes.EINCOMPLETE : codes.EAPPLY];
          if (!want.includes(e.code)) fail(`code ${e.code}, expected ${want.join(' or ')} for a fault in the ${phase} phase`);
        }
      }
    }
    if (expectNow !== 'any') {
      const now = inspectRoot(w, sb, { clean: false });
      if (now.outcome !== expectNow) fail(`right after commit() the root is ${now.outcome}, expected all-${expectNow}: ${now.problems.join('; ')}`);
    }

    // 2. Persistent mode: recover() while the fault persists may fail, but must not make things worse.
    if (o.persistent) {
      const before = snapshotTree(dir);
      const r = await withInjector(injector, layer, () => recover(sb.root, { lockTimeout: 100 }).then(() => undefined, (err: unknown) => err));
      await tracked.idle();
      if (r !== undefined && !isTxnError(r)) fail(`recover() under a persistent fault rejected with a non-TxnError: ${describeError(r)}`);
      if (!sameTree(before, snapshotTree(dir))) fail('recover() under a persistent fault changed the disk (every mutating operation was failing)');
    }

    // 3. The fault is removed: recovery gives the expected state and a clean home.
    injector.clear();
    const expectAfter: 'old' | 'new' =
      phase === 'cleanup' ? 'new' : phase === 'apply' ? (o.persistent ? 'new' : 'old') : o.persistent && pointMayHold ? 'new' : 'old';
    const recoverOnce = async (): Promise<unknown> => {
      try {
        const report = await withInjector(injector, layer, () => recover(sb.root, { lockTimeout: 100 }));
        await tracked.idle();
        if (report.failed.length + report.corrupt.length > 0) fail(`recover() left unresolved transactions: ${JSON.stringify([...report.failed, ...report.corrupt].map((t) => t.reason))}`);
        return undefined;
      } catch (err) {
        return err;
      }
    };
    let error = await recoverOnce();
    const ownerless = ownerlessLocks(sb.root);
    if (ownerless.length > 0) {
      // A lock directory with no owner record (the fault hit between its mkdir and its owner
      // file, and its removal failed too) cannot be told from one being taken right now; the
      // library waits lockStale before taking it over. Age it instead of waiting, then recover.
      deferred = true;
      age(sb.root, ownerless, defaults.lockStale + 1000);
      error = (await recoverOnce()) ?? (isTxnError(error) && error.code === codes.ELOCKED ? undefined : error);
    }
    if (error !== undefined) fail(`recover() with the fault removed rejected: ${describeError(error)}`);
    const v = inspectRoot(w, sb);
    if (v.outcome !== expectAfter) fail(`after recover() the root is ${v.outcome}, expected all-${expectAfter}`);
    for (const p of v.problems) fail(p);
    return { injector, violations, deferred };
  } finally {
    faults.mutations.clear();
    useFsImpl(previousImpl);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The whole loop for one workload and errno. */
export async function errorLoop(o: ErrorLoopOptions): Promise<ErrorLoopResult> {
  const violations: string[] = [];
  // A clean run first: its length bounds the loop and lets a caller sample the fault points.
  const clean = await runErrorPoint(o, Number.MAX_SAFE_INTEGER);
  violations.push(...clean.violations);
  const total = clean.injector.count;
  let points = 0;
  let deferred = 0;
  const ks = o.points?.(clean.injector) ?? range(1, Number.MAX_SAFE_INTEGER);
  for (const k of ks) {
    const r = await runErrorPoint(o, k);
    if (r.injector.injected === undefined) break; // the commit completed without reaching k
    points++;
    if (r.deferred) deferred++;
    violations.push(...r.violations);
  }
  return { points, total, deferred, violations };
}

export function* range(from: number, to: number): Generator<number> {
  for (let k = from; k < to; k++) yield k;
}
