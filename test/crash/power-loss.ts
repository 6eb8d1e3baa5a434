/**
 * power-loss.ts: run a workload's commit on the model filesystem once, then crash it by power loss
 * at every point of its trace, in every way the model allows, recover, and check the invariants.
 *
 * For each crash point k (0 .. end of the trace, including after commit() resolved) and each crash
 * state the model allows there (crash-states.ts), a fresh model is built from that state, recover()
 * runs on it, and we check:
 *   - all-or-nothing: the root (outside .txnfs) is exactly the old or exactly the new state, file
 *     modes included, and no directory appears that neither state has (judge() of workloads.ts);
 *   - the commit point holds: from the moment the journal is durable (step 'committed'), and so
 *     also once commit() resolved, the result is all-new;
 *   - clean: nothing is left in .txnfs; no journal reported corrupt, failed, or skipped as live;
 *   - idempotent: a second recover() changes nothing;
 *   - confined: nothing outside the root changed;
 *   - later writes stand: where another program changes the root once commit() resolved (a
 *     `later` workload, in the same trace), recovery leaves what it made durable as it wrote it.
 * Then crash recovery itself: for a crash state S, the recovery's own trace is crashed at each of
 * its points in every allowed way, recovered again, and must give the same verdict as one clean
 * recovery of S (and pass the same checks). Two variants of the scenario: a workload may fail one
 * apply step with EIO (the commit rolls back, and the rollback is crashed), and the first thing
 * after the reboot may be the next transaction's commit instead of recover() (invariant 7).
 *
 * Exact reduction (why the counts are large but the runs few): recovery's behaviour can depend on
 * a non-durable file's content only if it reads it (readFile, or a stat that reports its size).
 * The model records which files were observed. For each structure (which entry changes survived),
 * a run with every non-durable file at its 'new' content stands for all content variants of the
 * files it did not observe and that do not end up among the checked targets; every observed or
 * visible file is then branched on, variant by variant (like dynamic partial-order reduction).
 * Identical images are recovered once (fingerprint cache). "states" counts model states covered;
 * "runs" counts recoveries executed.
 *
 * Cost: one recover() on the model (about 1 ms) per distinct image. A transaction of 1 to 4 files
 * has 35 to 70 crash points and 4,000 to 100,000 states, covered in 500 to 4,000 runs.
 */
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { begin, openRoot, recover, type RecoverReport } from '../../src/index.js';
import * as fs from '../../src/io/fs.js';
import { faults, type FaultEvent } from '../../src/io/faults.js';
import { mutationLayer, type Mutation } from '../helpers/mutations.mjs';
import { errnoError } from '../helpers/errno.mjs';
import { selfIdentity } from '../../src/protocol/identity.js';
import { thisHostTag } from '../../src/protocol/lock.js';
import { hostHash } from '../../src/single/tempname.js';
import { allVariants, copySnapshot, CrashPoint, crashPoints, eachContent, fingerprint, stepIndex, type DataVariant, type Reorder, type Structure } from './crash-states.js';
import { ModelFs, nodeAt, SnapshotBuilder, type NodeImage, type Rec, type Snapshot } from './model-fs.js';
import { applyDirOps, content, judge, prng, type Op, type Workload } from './workloads.js';

export const MODEL_ROOT = '/model/root';
const OUTSIDE = '/model/outside';

// proper-lockfile's registry of the locks this process holds (each with a refresh timer). It must
// be empty between runs: a lock left registered would keep refreshing into whichever model is
// installed next, and would make a later run see a crashed owner as alive for the wrong reason.
const { getLocks } = createRequire(import.meta.url)('proper-lockfile/lib/lockfile.js') as { getLocks(): Record<string, unknown> };

export function assertNoLockHeld(when: string): void {
  const held = Object.keys(getLocks());
  if (held.length > 0) throw new Error(`power-loss harness: locks still registered in this process ${when}: ${held.join(', ')}`);
}

/** A workload plus file attributes for the model (absent: mode 0o644, owned by this process). */
export interface ModelWorkload extends Workload {
  readonly attrs?: ReadonlyMap<string, { readonly mode: number; readonly uid: number; readonly gid: number }>;
  /**
   * Fail the `nth` (1-based) `op` ('rename', 'unlink', ...) after the commit point with EIO, once,
   * in the recorded commit only: the commit then rolls back behind its rollback marker (EAPPLY),
   * and the power-loss enumeration covers the rollback path.
   */
  readonly applyFault?: { readonly op: string; readonly nth: number };
  /**
   * Every link(2) of the recorded commit fails with EPERM (protected hard links, FAT), so every
   * backup is a copy (src/protocol/backup.ts).
   */
  readonly noLinks?: boolean;
  /**
   * The transaction is begun from an `openRoot()` handle (src/transaction/root.ts), opened first
   * (its recovery of the clean root is in the trace) and closed once the commit settled: the
   * home it keeps is made by the commit and removed by close(). A journaled commit fsyncs the
   * root before its commit point (src/protocol/staging.ts, createStaging); a one-file commit
   * needs the home's name in no way.
   */
  readonly viaRoot?: boolean;
  /**
   * The home (`.txnfs/`) is there when the transaction begins, made a moment before by another
   * writer that owed its name's durability to nobody: another process's one-file commit (its
   * rename needs no journal) or any commit with durability 'none'. The harness makes it with a
   * bare mkdir, never fsynced, as the first record of the trace. A journaled commit that finds it
   * must make its name durable itself before its journal can count (createStaging fsyncs the
   * root); the model has one process, and this is how it shows the other's leftover.
   */
  readonly homeFound?: boolean;
  /**
   * Another program changes the root once commit() resolved (and a handle closed), in the same
   * trace, so the crash points after it are explored too: what the commit leaves in its home must
   * be durably gone before it resolves, or a journal that comes back after a power loss acts on a
   * root that changed since (docs/protocol.md, the fsync table: "home after cleanup").
   */
  readonly later?: LaterWrite;
}

/** What another program does in the root after the commit resolved (ModelWorkload.later). */
export interface LaterWrite {
  /** Its calls, through the seam onto the model (recorded like the library's own). */
  readonly run: () => Promise<void>;
  /** The paths (relative to the root) it changes, with everything below them. */
  readonly paths: readonly string[];
  /** What those paths hold once its last call returned (its own fsyncs made it durable). */
  readonly files: ReadonlyMap<string, Buffer>;
}

/** Whether `rel` is one of `paths` or below one. */
function under(rel: string, paths: readonly string[]): boolean {
  return paths.some((p) => rel === p || rel.startsWith(`${p}/`));
}

/** `m` without the keys under `paths`. */
function without<V>(m: ReadonlyMap<string, V>, paths: readonly string[]): Map<string, V> {
  return new Map([...m].filter(([k]) => !under(k, paths)));
}

/** A root's view or an expected state without the files, modes and directories under `paths`. */
function outside<T extends { files: Map<string, Buffer>; modes: Map<string, string>; dirs: Set<string> }>(x: T, paths: readonly string[]): T {
  if (paths.length === 0) return x;
  return { ...x, files: without(x.files, paths), modes: without(x.modes, paths), dirs: new Set([...x.dirs].filter((d) => !under(d, paths))) };
}

export interface PowerLossOptions {
  readonly reorder?: Reorder;
  readonly variants?: readonly DataVariant[];
  /** Structures tried per crash point; more are sampled (seeded). Infinity: all. */
  readonly maxStructures?: number;
  /** Crash points of the commit visited; more are sampled (seeded; the first and last always). */
  readonly maxPoints?: number;
  /** First-level crash states whose recovery is itself crashed at every point; 0 for none. */
  readonly nestedImages?: number;
  /** Structures tried per crash point of a recovery. */
  readonly nestedMaxStructures?: number;
  readonly seed?: number;
  /** A deliberate protocol bug switched on for the whole run (commit and recoveries). */
  readonly mutation?: Mutation;
  /** Stop exploring at the first violation (for the mutation proofs). */
  readonly stopAtFirst?: boolean;
  /** The durability option given to begin() and recover(). @default 'full' */
  readonly durability?: 'full' | 'none';
  /**
   * 'recover' (default): recover() runs first after the reboot. 'next-commit': the next transaction
   * (`nextOps`) commits first, overwriting one of the crashed transaction's targets; its commit must
   * finish the dead transaction before applying (invariant 7). No recovery crashes in that mode.
   */
  readonly afterCrash?: AfterCrash;
}

export interface Violation {
  /** 'commit@k' or 'recovery@k/j', plus the structure and variants. */
  readonly where: string;
  readonly problem: string;
}

export interface PowerLossResult {
  readonly workload: string;
  /** Records in the commit's trace (every fs change, fsync and protocol step). */
  readonly traceLength: number;
  readonly crashPoints: number;
  /** Crash points visited (all of them unless `maxPoints` sampled). */
  readonly crashPointsVisited: number;
  /** Model states covered at the commit's crash points. */
  readonly states: number;
  /** Crash points and states covered inside recoveries. */
  readonly nestedPoints: number;
  readonly nestedStates: number;
  /** recover() runs executed (distinct images). */
  readonly runs: number;
  /** Whether every state of the model at every crash point of the commit was covered. */
  readonly exhaustive: boolean;
  /** Whether every first-level state's recovery was crashed in every way (no sampling). */
  readonly nestedExhaustive: boolean;
  readonly violations: readonly Violation[];
  readonly ms: number;
}

interface Outcome {
  /**
   * 'old', 'new', 'old=new' (both end states are the same, so the outcome cannot be told: only
   * with 'next-commit' overwriting a one-file transaction), or a description of what is wrong.
   */
  readonly verdict: string;
  readonly problems: readonly string[];
  readonly observed: ReadonlySet<number>;
  /** Files reachable in the root (outside .txnfs) after recovery. */
  readonly visible: ReadonlySet<number>;
  readonly log: readonly Rec[];
  /** The image recovery started from (the crash image after `rebooted()`): the base of `log`. */
  readonly start: Snapshot;
  /** A `later` workload: the files under the other program's paths after recovery (left out of `verdict`). */
  readonly later: ReadonlyMap<string, Buffer>;
}

/** The model image a workload starts from: the root with its `before` files, and a neighbour. */
export function startImage(w: ModelWorkload): Snapshot {
  const b = new SnapshotBuilder().dir(MODEL_ROOT).file(`${OUTSIDE}/neighbour.txt`, 'not ours').file('/model/sibling.txt', 'not ours either');
  for (const [rel, data] of w.before) b.file(`${MODEL_ROOT}/${rel}`, data, w.attrs?.get(rel) ?? {});
  return b.build();
}

export interface RootView {
  readonly files: Map<string, Buffer>;
  readonly modes: Map<string, string>;
  readonly dirs: Set<string>;
  readonly ids: Set<number>;
  readonly other: string[];
}

/** What the root holds (outside .txnfs), read straight from the model without going through it. */
export function viewRoot(s: Snapshot): RootView {
  const view: RootView = { files: new Map(), modes: new Map(), dirs: new Set(), ids: new Set(), other: [] };
  const root = nodeAt(s, MODEL_ROOT);
  const walk = (n: NodeImage, rel: string): void => {
    for (const [name, id] of n.entries) {
      const r = rel === '' ? name : `${rel}/${name}`;
      if (r === '.txnfs') continue;
      const c = s.nodes.get(id) as NodeImage;
      if (c.kind === 'dir') {
        view.dirs.add(r);
        walk(c, r);
      } else if (c.kind === 'file') {
        view.files.set(r, c.data);
        view.modes.set(r, `${c.mode.toString(8)}:${c.uid}:${c.gid}`);
        view.ids.add(c.id);
      } else view.other.push(r);
    }
  };
  if (root !== undefined) walk(root, '');
  return view;
}

function parents(rel: string): string[] {
  const out: string[] = [];
  for (let d = path.posix.dirname(rel); d !== '.'; d = path.posix.dirname(d)) out.push(d);
  return out;
}

/** What runs first after the reboot: recover(), or the next transaction (its commit recovers first). */
export type AfterCrash = 'recover' | 'next-commit';

/** One acceptable end state of the root. */
interface Expected {
  readonly files: Map<string, Buffer>;
  /** 'mode:uid:gid' in octal. */
  readonly modes: Map<string, string>;
  /** Directories that may exist (outside .txnfs). */
  readonly dirs: Set<string>;
}

/**
 * The next transaction of 'next-commit': it overwrites the crashed one's first file target (a
 * directory operation's path is none: `removeTree('old')` leaves a directory 'old' in the old
 * state, and a write of 'old' would be refused there with ETARGET before anything was recovered).
 */
export function nextOps(w: ModelWorkload): Op[] {
  const first = w.ops.find((o) => o.op !== 'mkdir' && o.op !== 'removeTree' && o.op !== 'emptyDir')?.path ?? 'a.txt';
  return [
    { op: 'write', path: first, data: content(2, first, 40) },
    { op: 'write', path: 'later/after-crash.txt', data: content(2, 'later/after-crash.txt', 40) },
  ];
}

/** The old and the new end state of the root (with the next transaction applied over both). */
function expectedStates(w: ModelWorkload, afterCrash: AfterCrash): { old: Expected; new: Expected } {
  const me = `${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}`;
  const isRoot = process.getuid?.() === 0;
  const modeOf = (rel: string): string => {
    const a = w.attrs?.get(rel);
    return a === undefined ? `644:${me}` : `${a.mode.toString(8)}:${a.uid}:${a.gid}`;
  };
  // A replaced file keeps its mode (and, when txnfs runs as root, its owner); a new one gets 0o666
  // less the umask.
  const replaced = (mode: string): string => (isRoot ? mode : `${mode.split(':')[0]}:${me}`);
  const apply = (base: Expected, ops: readonly Op[]): Expected => {
    const out: Expected = { files: new Map(base.files), modes: new Map(base.modes), dirs: new Set(base.dirs) };
    for (const op of ops) {
      if (op.op === 'write') {
        const was = out.modes.get(op.path);
        out.files.set(op.path, op.data);
        out.modes.set(op.path, was === undefined ? `644:${me}` : replaced(was));
        for (const d of parents(op.path)) out.dirs.add(d);
      } else if (op.op === 'delete') {
        out.files.delete(op.path);
        out.modes.delete(op.path);
      } else if (op.op === 'copy' || op.op === 'rename') {
        // A clone of `from` as it is before the commit, staged as a write of `path`; a rename also
        // removes `from` in the same commit.
        const data = base.files.get(op.from) as Buffer;
        const was = out.modes.get(op.path);
        out.files.set(op.path, data);
        out.modes.set(op.path, was === undefined ? `644:${me}` : replaced(was));
        for (const d of parents(op.path)) out.dirs.add(d);
        if (op.op === 'rename') {
          out.files.delete(op.from);
          out.modes.delete(op.from);
        }
      }
    }
    // tx.mkdir/removeTree/emptyDir (issue 18): their effect on files and directories.
    applyDirOps(out.files, out.dirs, ops);
    for (const rel of [...out.modes.keys()]) if (!out.files.has(rel)) out.modes.delete(rel);
    return out;
  };
  const start: Expected = { files: new Map(w.before), modes: new Map([...w.before.keys()].map((r) => [r, modeOf(r)])), dirs: new Set([...w.before.keys()].flatMap(parents)) };
  const old = start;
  const neu = apply(start, w.ops);
  if (afterCrash === 'recover') return { old, new: neu };
  return { old: apply(old, nextOps(w)), new: apply(neu, nextOps(w)) };
}

function sameFiles(a: ReadonlyMap<string, Buffer>, b: ReadonlyMap<string, Buffer>): boolean {
  return a.size === b.size && [...a].every(([k, v]) => b.get(k)?.equals(v) === true);
}

function sameMap(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  return a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);
}

function describeStructure(point: CrashPoint, log: readonly Rec[], s: Structure): string {
  const lost = point.nonDurable().filter((i) => !s.survivors.has(i));
  return lost.length === 0 ? 'nothing lost' : `lost: ${lost.map((i) => (log[i] as Rec).what).join('; ')}`;
}

/** `n` of `items`, seeded: always the two extremes (for structures: everything lost, nothing lost). */
function pick<T>(items: T[], n: number, rand: () => number): T[] {
  if (items.length <= n) return items;
  if (n < 2) return n < 1 ? [] : [items[items.length - 1] as T];
  const keep = new Set([0, items.length - 1]);
  while (keep.size < n) keep.add(Math.floor(rand() * items.length));
  return [...keep].sort((a, b) => a - b).map((i) => items[i] as T);
}

/** `n` of `items`, evenly spread (items are in crash-point order: every phase gets its share). */
function spread<T>(items: T[], n: number): T[] {
  if (items.length <= n) return items;
  if (n < 1) return [];
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(items[Math.round((i * (items.length - 1)) / Math.max(1, n - 1))] as T);
  return out;
}

/** Run `fn` with the model installed as the filesystem (and the mutation, if any, switched on). */
export async function withModel<T>(m: ModelFs, mutation: Mutation | undefined, fn: () => Promise<T>, onEvent?: (e: FaultEvent) => void): Promise<T> {
  // The mutation's filters (test/helpers/mutations.mjs) sit around the model and the hook.
  const layer = mutationLayer(mutation === undefined ? [] : [mutation]);
  const prev = fs.useFsImpl(layer.impl(m));
  const prevHook = faults.hook;
  faults.hook = layer.hook((e) => {
    if (e.kind === 'step') m.step(e.name);
    onEvent?.(e);
  });
  for (const x of layer.library) faults.mutations.add(x);
  try {
    return await fn();
  } finally {
    faults.hook = prevHook;
    for (const x of layer.library) faults.mutations.delete(x);
    fs.useFsImpl(prev);
  }
}

/**
 * The machine after the power came back: a copy of `image` in which every lock owner entry (and
 * every owner record of an older txnfs) that names this host names the boot before, and every temp
 * file (a lone file among them) names another host. The crashed transaction ran in this very process; without
 * this its locks would name a live process (ours) and be judged by lock.ts's "abandoned by this
 * process" rule, a shortcut a real reboot does not offer: there the boot id differs, the kernel
 * cannot be asked, and only the lock's age tells (crash images are a day old).
 */
export function rebooted(image: Snapshot): Snapshot {
  const copy = copySnapshot(image);
  const host = selfIdentity().host;
  // Names that carry this host (lock owner entries, lock.ts; temps and transactions' lone files,
  // src/single/tempname.ts) are renamed to another boot's, resp. another host's.
  const renames: [string, string][] = [
    [`o.${thisHostTag()}.`, 'o.PreviousBootXXXX.'],
    [`.tmp-${hostHash(host)}-`, '.tmp-000000000000-'],
  ];
  for (const n of copy.nodes.values()) {
    if (n.kind !== 'dir') continue;
    for (const [name, id] of [...n.entries]) {
      const hit = renames.find(([from]) => name.startsWith(from));
      if (hit === undefined) continue;
      n.entries.delete(name);
      n.entries.set(`${hit[1]}${name.slice(hit[0].length)}`, id);
    }
  }
  for (const n of copy.nodes.values()) {
    if (n.kind !== 'file' || n.data.length === 0 || n.data.length > 4096 || n.data[0] !== 0x7b) continue;
    try {
      const record = JSON.parse(n.data.toString('utf8')) as Record<string, unknown>;
      if (record.host !== host) continue;
      n.data = Buffer.from(JSON.stringify({ ...record, host: `${host}:previous-boot` }));
    } catch {
      // not JSON: a damaged owner file stays damaged
    }
  }
  return copy;
}

/** Run `fn` on a fresh model built from `image`, after a reboot (tests that stage one scenario by hand). */
export async function onModel<T>(image: Snapshot, fn: (m: ModelFs) => Promise<T>): Promise<T> {
  const m = new ModelFs(rebooted(image));
  const out = await withModel(m, undefined, () => fn(m));
  assertNoLockHeld('after onModel');
  return out;
}

/** The recorded commit. */
export interface Recorded {
  readonly model: ModelFs;
  readonly start: Snapshot;
  /** Log length when commit() settled. */
  readonly resolvedAt: number;
  /** The code of the TxnError commit() rejected with (an `applyFault` workload), or undefined. */
  readonly rejected: string | undefined;
  /** Log length once the other program's last call returned (a `later` workload), else Infinity. */
  readonly laterDoneAt: number;
}

/** Run the workload's transaction on a fresh model; returns the model (with its trace). */
export async function recordCommit(w: ModelWorkload, mutation?: Mutation, durability: 'full' | 'none' = 'full'): Promise<Recorded> {
  const start = startImage(w);
  const model = new ModelFs(start);
  let committed = false;
  let seen = 0;
  const onEvent = (e: FaultEvent): void => {
    if (e.kind === 'step' && e.name === 'committed') committed = true;
    const f = w.applyFault;
    if (f !== undefined && committed && e.kind === 'op' && e.op === f.op && ++seen === f.nth) throw errnoError('EIO', e.op, e.path);
    if (w.noLinks === true && e.kind === 'op' && e.op === 'link') throw errnoError('EPERM', e.op, e.path);
  };
  let rejected: string | undefined;
  let laterDoneAt = Infinity;
  const resolvedAt = await withModel(
    model,
    mutation,
    async () => {
      if (w.homeFound === true) await fs.mkdir(`${MODEL_ROOT}/.txnfs`, 0o755);
      const root = w.viaRoot === true ? await openRoot(MODEL_ROOT, { durability }) : undefined;
      const tx = root === undefined ? begin({ dir: MODEL_ROOT, durability }) : root.begin();
      for (const op of w.ops) {
        if (op.op === 'write') void tx.write(op.path, op.data);
        else if (op.op === 'copy') void tx.copy(op.from, op.path);
        else if (op.op === 'rename') void tx.rename(op.from, op.path);
        else if (op.op === 'mkdir') tx.mkdir(op.path);
        else if (op.op === 'removeTree') tx.removeTree(op.path);
        else if (op.op === 'emptyDir') tx.emptyDir(op.path);
        else tx.remove(op.path);
      }
      try {
        await tx.commit();
      } catch (err) {
        if (w.applyFault === undefined) throw err;
        rejected = (err as { code?: string }).code ?? String(err);
      }
      const settled = model.log.length;
      await root?.close();
      if (w.later !== undefined) {
        await w.later.run();
        laterDoneAt = model.log.length;
      }
      return settled;
    },
    onEvent,
  );
  return { model, start, resolvedAt, rejected, laterDoneAt };
}

/** Recover a crash image on a fresh model, run the checks that do not depend on the crash point. */
async function recoverImage(w: ModelWorkload, image: Snapshot, mutation: Mutation | undefined, durability: 'full' | 'none', afterCrash: AfterCrash): Promise<Outcome> {
  const start = rebooted(image);
  const m = new ModelFs(start);
  const problems: string[] = [];
  let report: RecoverReport | undefined;
  await withModel(m, mutation, async () => {
    // lockTimeout 0: a lock judged live makes recover() or commit() fail at once, reported below.
    if (afterCrash === 'next-commit') {
      try {
        const tx = begin({ dir: MODEL_ROOT, lockTimeout: 0, durability });
        for (const op of nextOps(w)) if (op.op === 'write') void tx.write(op.path, op.data);
        await tx.commit();
      } catch (err) {
        problems.push(`the next commit failed: ${(err as { code?: string }).code ?? ''} ${(err as Error).message}`);
        return;
      }
    } else {
      try {
        report = await recover(MODEL_ROOT, { lockTimeout: 0, durability });
      } catch (err) {
        problems.push(`recover() threw: ${(err as Error).message}`);
        return;
      }
      if (report.corrupt.length > 0) problems.push(`journal reported corrupt: ${report.corrupt.map((c) => c.reason).join('; ')}`);
      if (report.failed.length > 0) problems.push(`recovery failed: ${report.failed.map((c) => c.reason).join('; ')}`);
      if (report.skipped.length > 0) problems.push(`a dead transaction was judged live: ${report.skipped.map((s) => `${s.id} (${s.state})`).join(', ')}`);
    }
    // Whatever ran first must have left nothing for a later recover() to do.
    const before = fingerprint(m.snapshot());
    try {
      const again = await recover(MODEL_ROOT, { lockTimeout: 0, durability });
      const did = [...again.rolledForward, ...again.rolledBack, ...again.discarded];
      if (did.length > 0) problems.push(`not idempotent: a second recover() acted on ${did.map((t) => t.id).join(', ')}`);
    } catch (err) {
      problems.push(`second recover() threw: ${(err as Error).message}`);
    }
    if (fingerprint(m.snapshot()) !== before) problems.push('not idempotent: a second recover() changed the disk');
  });
  const after1 = m.snapshot();
  const home = nodeAt(after1, `${MODEL_ROOT}/.txnfs`);
  if (home !== undefined && home.entries.size > 0) problems.push(`not clean: .txnfs holds ${[...home.entries.keys()].join(', ')}`);
  const outsideNow = fingerprint(after1, nodeAt(after1, '/model')?.entries.get('outside'));
  const outsideThen = fingerprint(image, nodeAt(image, '/model')?.entries.get('outside'));
  const sibling = nodeAt(after1, '/model/sibling.txt')?.data.toString();
  if (outsideNow !== outsideThen || sibling !== 'not ours either' || (nodeAt(after1, '/model')?.entries.size ?? 0) !== 3) {
    problems.push('not confined: something outside the root changed');
  }
  const whole = viewRoot(after1);
  // The other program's paths (a `later` workload) are judged on their own, by the crash point.
  // The view keeps their files' ids (`visible`): the content of a file it wrote and did not make
  // durable is branched on like any target's.
  const laterPaths = w.later?.paths ?? [];
  const view = outside(whole, laterPaths);
  const full = expectedStates(w, afterCrash);
  const exp = { old: outside(full.old, laterPaths), new: outside(full.new, laterPaths) };
  // judge() of workloads.ts, over the two end states (they include the next transaction, if any).
  const asWorkload: Workload = {
    name: w.name,
    before: exp.old.files,
    ops: [
      ...[...exp.new.files].map(([path, data]): Op => ({ op: 'write', path, data })),
      ...[...exp.old.files.keys()].filter((k) => !exp.new.files.has(k)).map((path): Op => ({ op: 'delete', path })),
    ],
  };
  let verdict = judge(asWorkload, view.files);
  if (view.other.length > 0) verdict = `unexpected entries ${view.other.join(', ')}`;
  else if (verdict === 'old' || verdict === 'new') {
    const e = verdict === 'old' ? exp.old : exp.new;
    if (!sameMap(view.modes, e.modes) || ![...view.dirs].every((d) => e.dirs.has(d))) {
      verdict = `${verdict} content, but modes/dirs differ: ${JSON.stringify([...view.modes])} dirs ${[...view.dirs].join(',')}`;
    } else if (verdict === 'new' && !w.ops.every((o) => (o.op !== 'mkdir' && o.op !== 'emptyDir') || view.dirs.has(o.path))) {
      // A directory tx.mkdir/emptyDir promised is part of the new state (not only "no extra ones").
      verdict = `new content, but a directory made by mkdir/emptyDir is missing: dirs ${[...view.dirs].join(',')}`;
    } else if (judge({ ...asWorkload, before: exp.new.files }, view.files) === 'old' && sameMap(exp.old.modes, exp.new.modes)) {
      // The next transaction overwrote every trace of the crashed one: its outcome cannot be seen.
      verdict = 'old=new';
    }
  }
  return { verdict, problems, observed: m.observed, visible: view.ids, log: m.log, start, later: new Map([...whole.files].filter(([k]) => under(k, laterPaths))) };
}

/** Explore every crash state of a workload's commit (and of its recoveries). */
export async function explorePowerLoss(w: ModelWorkload, options: PowerLossOptions = {}): Promise<PowerLossResult> {
  const started = performance.now();
  const reorder = options.reorder ?? 'prefix';
  const variants = options.variants ?? allVariants;
  const maxStructures = options.maxStructures ?? Infinity;
  const nestedMax = options.nestedMaxStructures ?? maxStructures;
  const rand = prng(options.seed ?? 1);
  const mutation = options.mutation;
  const violations: Violation[] = [];
  const cache = new Map<string, Outcome>();
  let runs = 0;
  let exhaustive = true;

  const durability = options.durability ?? 'full';
  const afterCrash = options.afterCrash ?? 'recover';
  const { model, start, resolvedAt, rejected, laterDoneAt } = await recordCommit(w, mutation, durability);
  assertNoLockHeld('after the recorded commit');
  const log = model.log;
  const finalView = viewRoot(model.snapshot());
  // An applyFault workload must take the rollback path: EAPPLY, nothing changed.
  const settled = w.applyFault === undefined ? 'new' : 'old';
  if (w.applyFault !== undefined && rejected !== 'EAPPLY') throw new Error(`${w.name}: the injected fault did not make commit() roll back (it ${rejected === undefined ? 'resolved' : `rejected with ${rejected}`})`);
  const laterPaths = w.later?.paths ?? [];
  // The last crash point once the other program is done (a record that is no crash point of its
  // own, such as a write of data, ends no trace: the last point before it stands for its end).
  const laterAt = w.later === undefined ? Infinity : Math.min(laterDoneAt, crashPoints(log).at(-1) ?? 0);
  if (w.later !== undefined && afterCrash !== 'recover') throw new Error(`${w.name}: a later write is judged after recover() only`);
  if (judge({ ...w, before: without(w.before, laterPaths), ops: w.ops.filter((o) => !under(o.path, laterPaths)) }, without(finalView.files, laterPaths)) !== settled) {
    throw new Error(`${w.name}: the recorded commit did not leave the ${settled} state on the model`);
  }
  if (w.later !== undefined && !sameFiles(new Map([...finalView.files].filter(([k]) => under(k, laterPaths))), w.later.files)) throw new Error(`${w.name}: the later write did not leave its files on the model`);
  const committedAt = stepIndex(log, 'committed') ?? resolvedAt;
  // From the commit point until the rollback marker is created, recovery must roll forward;
  // once commit() rejected with EAPPLY ("rolled back, no target changed") it must stay all-old.
  const markerAt = w.applyFault === undefined ? Infinity : log.findIndex((r, i) => i >= committedAt && r.t === 'entry' && / \S+\/rollback$/.test(r.what)) + 1 || Infinity;

  const run = async (image: Snapshot): Promise<Outcome> => {
    const key = fingerprint(image);
    let out = cache.get(key);
    if (out === undefined) {
      out = await recoverImage(w, image, mutation, durability, afterCrash);
      runs++;
      cache.set(key, out);
    }
    return out;
  };

  const stop = (): boolean => options.stopAtFirst === true && violations.length > 0;

  /**
   * Explore one structure at one point: branch on the content of every non-durable file that
   * recovery observed or that ends up among the targets. Returns states covered and one image.
   */
  const exploreStructure = async (
    point: CrashPoint,
    trace: readonly Rec[],
    s: Structure,
    where: string,
    check: (o: Outcome) => string | undefined,
    onImage?: (image: Snapshot, o: Outcome) => void,
  ): Promise<number> => {
    let covered = 0;
    await eachContent(point, s, (img) => run(img.snapshot), (img, out, fixed) => {
      let represented = 1;
      for (const d of img.dirty.values()) if (!fixed.has(d.id)) represented *= d.variants.length;
      covered += represented;
      const problems = [...out.problems];
      const bad = check(out);
      if (bad !== undefined) problems.push(bad);
      if (problems.length > 0) {
        const vs = [...fixed].map(([id, v]) => `${id}=${img.dirty.get(id)?.variants[v]?.label}`).join(' ');
        violations.push({ where: `${where}; ${describeStructure(point, trace, s)}${vs === '' ? '' : `; contents ${vs}`}`, problem: problems.join(' | ') });
      }
      onImage?.(img.snapshot, out);
    }, stop);
    return covered;
  };

  // Level 1: the commit, crashed at every point.
  const allPoints = crashPoints(log);
  const points = pick(allPoints, options.maxPoints ?? Infinity, rand);
  if (points.length < allPoints.length) exhaustive = false;
  let states = 0;
  const nestedCandidates: { image: Snapshot; out: Outcome; k: number }[] = [];
  for (const k of points) {
    if (stop()) break;
    const point = new CrashPoint(start, log, k, reorder, variants);
    const all = [...point.structures()];
    const chosen = pick(all, maxStructures, rand);
    if (chosen.length < all.length) exhaustive = false;
    // With durability 'none' nothing is promised across a power loss but all-or-nothing.
    const full = durability === 'full';
    const expected = !full ? undefined : k >= resolvedAt ? settled : k >= committedAt && k < markerAt ? 'new' : undefined;
    for (const s of chosen) {
      states += await exploreStructure(
        point,
        log,
        s,
        `commit@${k} (after: ${k === 0 ? 'start' : (log[k - 1] as Rec).what})`,
        (o) => {
          // What another program wrote after the commit, made durable by its own fsyncs, stands
          // (invariant 7): a recovery must not act on it.
          if (w.later !== undefined && full && k >= laterAt && !sameFiles(o.later, w.later.files)) {
            return `a later write was undone: under ${laterPaths.join(', ')} the root holds ${[...o.later.keys()].join(', ') || 'nothing'} after recovery`;
          }
          if (o.verdict === 'old=new') return undefined;
          if (o.verdict !== 'old' && o.verdict !== 'new') return `not all-or-nothing: ${o.verdict}`;
          if (expected !== undefined && o.verdict !== expected) {
            if (expected === 'old') return 'a rolled-back commit came back: all-new after commit() rejected with EAPPLY';
            return `lost a commit: all-old after ${k >= resolvedAt ? 'commit() resolved' : 'the commit point (journal durable)'}`;
          }
          return undefined;
        },
        (_image, o) => {
          // Recovery did some work here: a candidate for crashing recovery itself.
          if (afterCrash === 'recover' && (options.nestedImages ?? 0) > 0 && o.problems.length === 0 && (o.verdict === 'old' || o.verdict === 'new') && o.log.some((r) => r.t === 'entry')) {
            // Recovery's log starts from the rebooted image, so that is the base of its crashes.
            nestedCandidates.push({ image: o.start, out: o, k });
          }
        },
      );
    }
  }

  // Level 2: recovery, crashed at every point of its own trace.
  let nestedPoints = 0;
  let nestedStates = 0;
  const nestedWanted = afterCrash === 'recover' ? (options.nestedImages ?? 0) : 0;
  const crashPointsTotal = allPoints.length;
  const seen = new Set<string>();
  const unique = nestedCandidates.filter((c) => {
    const key = fingerprint(c.image);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const nested = spread(unique, nestedWanted);
  let nestedExhaustive = nested.length === unique.length;
  for (const { image, out, k } of nested) {
    if (stop()) break;
    for (const j of crashPoints(out.log)) {
      if (stop()) break;
      nestedPoints++;
      const point = new CrashPoint(image, out.log, j, reorder, variants);
      const all = [...point.structures()];
      const chosen = pick(all, nestedMax, rand);
      if (chosen.length < all.length) nestedExhaustive = false;
      for (const s of chosen) {
        nestedStates += await exploreStructure(point, out.log, s, `recovery of commit@${k}, crashed @${j} (after: ${j === 0 ? 'start' : (out.log[j - 1] as Rec).what})`, (o) =>
          o.verdict === out.verdict ? undefined : `recovery crashed and recovered gives ${o.verdict}, one clean recovery gives ${out.verdict}`,
        );
      }
    }
  }

  assertNoLockHeld('after the last recovery');
  return {
    workload: w.name,
    traceLength: log.length,
    crashPoints: crashPointsTotal,
    crashPointsVisited: points.length,
    states,
    nestedPoints,
    nestedStates,
    runs,
    exhaustive,
    nestedExhaustive,
    violations,
    ms: performance.now() - started,
  };
}

/** One summary line per run. */
export function summary(r: PowerLossResult, label = ''): string {
  return (
    `power-loss${label === '' ? '' : ` [${label}]`} | ${r.workload} | crash points ${r.crashPointsVisited === r.crashPoints ? r.crashPoints : `${r.crashPointsVisited} of ${r.crashPoints}`} | ` +
    `power-loss states ${r.states} (${r.exhaustive ? 'exhaustive' : 'sampled'}) | ` +
    `recovery crash points ${r.nestedPoints}, states ${r.nestedStates} (${r.nestedPoints === 0 ? 'none' : r.nestedExhaustive ? 'exhaustive' : 'sampled'}) | ` +
    `recover() runs ${r.runs} | violations ${r.violations.length} | ${(r.ms / 1000).toFixed(1)} s`
  );
}
