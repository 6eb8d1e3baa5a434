/**
 * committer.ts: the commit driver, what `tx.commit()` runs once the facade found the transaction
 * open (docs/protocol.md, "Commit"; its "Map of the code" names the function of each step):
 *   1. settleStaging(): every stream ended and every staging job known (stager.ts, stream.ts),
 *      else ESTAGE; a job's fsync may still run, and every commit point below waits for it
 *      (`sealed`), so the wait overlaps steps 2-7 (the generations layout, and a root whose lock
 *      was contended lately, wait here: see settleStaging);
 *   2. the root lock (protocol/lock.ts), held until step 10 (a lone file replacing one: until its rename);
 *   3. gate() (protocol/gate.ts): roll forward any dead committed transaction first (invariant 7);
 *   4. plan(): tree operations become removals (tree.ts), then buildPlan() (planner.ts);
 *   one written file alone: prepareDirect(), renameDirect() and syncDirect() (protocol/direct.ts):
 *      its rename, made durable, is the commit point, with no journal; for a lone file that
 *      replaced a file the fsyncs run after the root lock's release (concludeEarly);
 *   otherwise 5-7. prepare() (protocol/commit.ts): fix-ups, backups, the fsyncs the journal
 *      needs, journal.tmp, both locks verified;
 *   8. commitJournal() (protocol/journal.ts) ◀── commit point;
 *   9. applyLive() (protocol/commit.ts), through the finish() recovery uses too;
 *   10. endCommit() (protocol/cleanup.ts): the journal's unlink under the root lock, the rest once
 *      it is released.
 * The generations layout replaces 4-9 with commitGeneration() (src/generations/commit.ts).
 *
 * Where a commit is, which decides what a failure reports, is one CommitRun passed to each part:
 * before the commit point nothing changed (the staging dir goes); after it, the apply stands or
 * the error says what recover() will do.
 */
import * as fs from '../io/fs.js';
import { codes, errnoOf, isTxnError, TxnError } from '../errors.js';
import { step } from '../io/faults.js';
import { settleAll } from '../io/limit.js';
import { commitJournal } from '../protocol/journal.js';
import { journalPath, rootLockPath } from '../protocol/layout.js';
import { rootLockContended, withRootLock, type HeldLock } from '../protocol/lock.js';
import { removeHomeIfEmpty } from '../protocol/home.js';
import { gate } from '../protocol/gate.js';
import type { RecoverReport } from '../protocol/recover-types.js';
import { applyLive, backedUp, prepare, type CommitContext, type Planned, type Setup } from '../protocol/commit.js';
import { appliedDirect, endLoneDirect, inStaging, isDirect, prepareDirect, renameDirect, syncDirect, type Direct, type DirectContext, type Relock } from '../protocol/direct.js';
import type { TrustedHome } from '../protocol/staging.js';
import { endCommit } from '../protocol/cleanup.js';
import { commitGeneration } from '../generations/commit.js';
import { TEMP_STALE_MS } from '../single/heartbeat.js';
import { COMMIT_ALIVE_FOR_MS, removeOrphans } from '../single/orphans.js';
import { awaitStream } from './stream.js';
import { buildPlan, DELETE } from './planner.js';
import { discardSetup } from './setup.js';
import { endLone, isLoneOnly, loneSource, loneTakenOver, promoteLone } from './lone.js';
import { addOp, placeOnce, setupOnce, type TxState } from './state.js';
import { planTree } from './tree.js';
import type { CommitResult } from './types.js';
import { now } from '../clock.js';

const noop = (): void => undefined;

/** Where a commit() is, for its failure handling: the three facts that decide what to report. */
interface CommitRun {
  /** The commit point was passed (a failure must not say "nothing changed"). */
  committed: boolean;
  /** The apply resolved: the commit stands, whatever fails after (the root lock's release). */
  applied: Omit<CommitResult, 'durationMs'> | undefined;
  /**
   * What is left of step 10 (protocol/cleanup.ts), called once the root lock is released; never
   * rejects. A journaled commit's rest starts only then: its calls (a backup's unlink per replaced
   * file) would otherwise fill the thread pool ahead of the release's, and the next commit in this
   * root would wait for them. A one-file commit's from a staging dir (an unlink, two rmdirs) is
   * already running; a lone file's (its undo link's unlink) starts when called.
   */
  cleanup: () => Promise<void>;
  /** The single-file records the gate listed in the home, judged once the root lock is released. */
  readonly singles: string[];
  /**
   * Set under the root lock when a lone file's rename is left to be made durable after its
   * release (`concludeEarly`): what was reached, and the gate's report. Set, the work under the
   * lock succeeded, whatever the release does.
   */
  early?: { readonly reached: Reached; readonly rec: RecoverReport } | undefined;
}

/** How the commit point was reached (by one of three ways), and what it committed. */
interface Reached {
  readonly plan: Planned;
  /** Generations layout: the generation published, and its warnings. */
  readonly gen: { generation: number; warnings: string[] } | undefined;
  /** One written file, committed by its rename (protocol/direct.ts). */
  readonly direct: Direct | undefined;
  /**
   * A lone file renamed over the file it replaced (durability 'full': it has an undo link): the
   * rename (`direct`) is made durable with this context once the root lock is released
   * (`concludeEarly`), so the next commit in the root does not wait for it.
   */
  readonly early?: DirectContext | undefined;
}

/** Steps 1-10 of `tx.commit()`; the facade has checked that `tx` is open. */
export async function runCommit(tx: TxState): Promise<CommitResult> {
  tx.state = 'committing';
  const started = now();
  // Where this commit is (see CommitRun): read by the failure handling.
  const run: CommitRun = { committed: false, applied: undefined, cleanup: () => Promise.resolve(), singles: [] };
  try {
    tx.o.signal?.throwIfAborted();
    await settleStaging(tx);
    if (tx.ops.length === 0 && tx.conditions.length === 0 && tx.treeOps.length === 0) { // tree ops alone still need a commit
      await sealed(tx);
      await discardSetup(tx);
      tx.state = 'committed';
      tx.detachSignal();
      return { id: tx.id, entries: 0, written: 0, removed: 0, bytes: 0, durationMs: now() - started, recovered: [], warnings: [] };
    }
    // The lone file alone commits by its rename from the home; anything more takes it into the
    // staging dir first (lone.ts).
    const lone = isLoneOnly(tx);
    if (!lone) await promoteLone(tx);
    const where: Where = lone ? { ...(await placeOnce(tx)), setup: undefined } : whereOf(await setupOnce(tx));
    step('staged');
    const home = where.home.home;
    const lonePath = tx.lone?.path;
    let locked: Omit<CommitResult, 'durationMs'> | undefined;
    let unreleased: unknown;
    try {
      locked = await withRootLock(rootLockPath(home), tx.o.timing, tx.o.signal, (rootLock) => commitLocked(tx, where, rootLock, run));
    } catch (err) {
      // Handed on early, the work under the lock succeeded, so only the release failed: the rename
      // is made durable all the same (the lock left behind names this process, which reclaims it
      // at once; others after lockStale), and the failure is a warning, as after an apply.
      if (run.early === undefined) throw err;
      unreleased = err;
    }
    let result = locked ?? (await concludeEarly(tx, where, run));
    if (unreleased !== undefined) result = { ...result, warnings: [...result.warnings, `The root lock could not be released (${(unreleased as Error)?.message ?? String(unreleased)}).`] };
    // Dead single-file writers' temps the gate saw (a crashed transaction's lone file among them):
    // removed now, outside the root lock, which they do not need (src/single/orphans.ts). A writer
    // found alive within COMMIT_ALIVE_FOR_MS is taken for alive: the others' lone files are met by
    // every commit where several processes commit.
    const orphans = run.singles.filter((name) => lonePath === undefined || `${home}/${name}` !== lonePath);
    await Promise.all([run.cleanup(), orphans.length === 0 ? undefined : removeOrphans(home, orphans, { stale: tx.o.timing.stale, dryRun: false, aliveFor: COMMIT_ALIVE_FOR_MS }).catch(noop)]);
    const homeLeft = tx.gen === undefined ? await removeHomeIfEmpty(home) : undefined;
    step('done');
    tx.state = 'committed';
    tx.detachSignal();
    if (homeLeft !== undefined) {
      const warning = `The empty '${home}' could not be removed (${homeLeft.message}); the commit stands, and the next commit or recover() removes it.`;
      return { ...result, warnings: [...result.warnings, warning], durationMs: now() - started };
    }
    return { ...result, durationMs: now() - started };
  } catch (err) {
    return await commitFailed(tx, run, err, started);
  }
}

/**
 * Where a commit works: the real root, its home, and the setup (owner lock, staging dir), which a
 * transaction that is its lone file alone does not have (lone.ts) until its plan needs one.
 */
interface Where {
  readonly root: string;
  readonly home: TrustedHome;
  setup: Setup | undefined;
}

function whereOf(setup: Setup): Where {
  return { root: setup.root, home: setup.home, setup };
}

/**
 * Steps 3-10, under the root lock. Resolves with nothing when a lone file's rename is left to be
 * made durable after the lock's release (`run.early`; see `concludeEarly`).
 */
async function commitLocked(tx: TxState, where: Where, rootLock: HeldLock, run: CommitRun): Promise<Omit<CommitResult, 'durationMs'> | undefined> {
  // Step 3: every dead transaction in this root finished first (protocol/gate.ts).
  const rec = await gate({ root: where.root, home: where.home, durable: tx.o.durable, timing: tx.o.timing, concurrency: tx.o.concurrency, self: tx.id, dir: tx.dir, singles: run.singles, listed: rootLock.listing });
  step('locked');
  const reached = await reachCommitPoint(tx, where, rootLock, run);
  if (reached.early !== undefined) {
    run.early = { reached, rec };
    return undefined;
  }
  return await conclude(tx, where, run, reached, rec, rootLock);
}

/**
 * A lone file's commit that replaced a file, after the root lock's release: its rename made
 * durable (the commit point: direct.ts, `syncDirect`), then step 10. The lock is not held through these fsyncs: the next
 * commit in the root (another process's, above all) plans and renames while they run, and its
 * own fsyncs join theirs in the filesystem's journal. Nothing it does can outrun this rename on
 * disk: whatever replaces, removes or reads this target makes the target's directory and the
 * home durable before its own commit point (commit.ts, `reliedOn`). A failed fsync takes the lock
 * again for the undo, which leaves a target that a later commit replaced since as it is.
 */
async function concludeEarly(tx: TxState, where: Where, run: CommitRun): Promise<Omit<CommitResult, 'durationMs'>> {
  const { reached, rec } = run.early as NonNullable<CommitRun['early']>;
  // The undo link keeps the home in place until step 10 (only a commit that replaced a file comes
  // here): the lock is taken there again.
  const relock: Relock = (fn) => withRootLock(rootLockPath(where.home.home), tx.o.timing, undefined, fn);
  await syncDirect(reached.early as DirectContext, reached.direct as Direct, relock);
  return conclude(tx, where, run, reached, rec);
}

/** Steps 9-10 once the commit point is reached: the apply (journaled), and the cleanup's start. */
async function conclude(tx: TxState, where: Where, run: CommitRun, reached: Reached, rec: RecoverReport, rootLock?: HeldLock): Promise<Omit<CommitResult, 'durationMs'>> {
  const { plan, gen, direct } = reached;
  run.committed = true;
  step('committed');
  let superseded: readonly string[] = [];
  if (direct !== undefined) appliedDirect();
  else if (gen === undefined) superseded = await applyLive(commitContext(tx, where.setup as Setup, rootLock as HeldLock), plan); // journaled: it has its setup and holds the lock
  step('cleanup');
  // Another writer (not a txnfs transaction: those wait for the root lock) changed these
  // targets between this commit's resolve and its apply. Its version is newer, so it stays
  // (invariant 7); the commit itself stands for every other target.
  const warnings: string[] = [
    ...superseded.map((target) => `'${target}' was changed by another writer while this commit was applying it; that newer version was kept and this transaction's change to it dropped.`),
    ...(gen?.warnings ?? []),
  ];
  // Step 10: the journal's unlink now, under the root lock; the rest once it is released. A lone
  // file left nothing but a replaced file's undo link.
  const setup = where.setup;
  if (setup === undefined) {
    endLone(tx);
    // Run once the root lock is released (protocol/direct.ts, endLoneDirect).
    run.cleanup = endLoneDirect(direct as Direct, warnings);
  } else {
    ({ rest: run.cleanup } = await endCommit({ staging: setup.staging, home: setup.home.home, durable: tx.o.durable, direct, backups: gen === undefined ? backedUp(plan.journal.entries) : undefined, warnings }));
  }
  run.applied = {
    id: tx.id,
    entries: plan.journal.entries.length,
    written: plan.written,
    removed: plan.removed,
    bytes: plan.bytes,
    recovered: [...rec.rolledForward, ...rec.rolledBack].map((t) => t.id),
    warnings,
    ...(gen === undefined ? {} : { generation: gen.generation }),
  };
  return run.applied;
}

/** Steps 4-8: plan, prepare and pass the commit point, by the generations, direct or journaled way. */
async function reachCommitPoint(tx: TxState, where: Where, rootLock: HeldLock, run: CommitRun): Promise<Reached> {
  try {
    tx.o.signal?.throwIfAborted();
    const setup = where.setup;
    if (tx.gen !== undefined && setup?.pointer !== undefined) {
      // Generations layout: no journal; the pointer swap is the commit point, and the
      // new generation is complete before it (src/generations/commit.ts).
      const done = await commitGeneration({
        pointer: setup.pointer,
        genHome: setup.root,
        stagingDir: setup.staging.dir,
        durable: tx.o.durable,
        concurrency: tx.o.concurrency,
        keep: tx.gen.keep,
        pinStale: Math.max(TEMP_STALE_MS, tx.o.timing.stale),
        signal: tx.o.signal,
        plan: async (root) => {
          const p = await plan(tx, setup, root);
          await settleAll([setup.staging.ownerLock.verify(), rootLock.verify()]);
          return { ...p, entries: p.journal.entries, dirs: p.journal.dirs };
        },
        onCommitPoint: () => {
          run.committed = true;
        },
      });
      return { plan: done.plan, gen: done, direct: undefined };
    }
    const planned = await plan(tx, where);
    const dc: DirectContext = { id: tx.id, dir: tx.dir, root: where.root, rootLock, home: where.home.home, durable: tx.o.durable, concurrency: tx.o.concurrency };
    // One written file and nothing else: its rename is the commit point, no journal
    // (protocol/direct.ts); else, or where that cannot hold, the journaled way, for which a
    // lone file goes into a staging dir now (lone.ts).
    const one = isDirect(planned);
    const n = planned.journal.entries.at(0)?.staged ?? 0;
    const direct = one ? await prepareDirect(dc, planned, setup === undefined ? loneSource(tx, where.home.home) : inStaging(setup.staging, n)) : undefined;
    if (direct === undefined) {
      planned.checkMounts?.();
      if (where.setup === undefined) {
        await promoteLone(tx);
        where.setup = await setupOnce(tx);
      }
      await prepare(commitContext(tx, where.setup, rootLock), planned, one);
    }
    tx.o.signal?.throwIfAborted(); // the last moment an abort can still win
    if (direct !== undefined) {
      // A file staged in files/ (a lone file waited in settleStaging): durable before its rename.
      await sealed(tx);
      await renameDirect(direct).catch((err: unknown) => {
        // A target behind a mount point inside the root (a bind mount keeps st_dev): the rename
        // failed and nothing changed; the deferred check names the mount (ECROSSDEV).
        if (errnoOf(err) === 'EXDEV') planned.checkMounts?.();
        throw err;
      });
      // A lone file that replaced a file makes its rename durable after the root lock's release
      // (concludeEarly): its undo link keeps the home, whose fsync is half of it, in place. A new
      // file leaves nothing there, and a home another commit removed meanwhile could not be
      // fsynced; it keeps the lock through its fsyncs, as a file from a staging dir does.
      if (setup === undefined && direct.undo !== undefined) return { plan: planned, gen: undefined, direct, early: dc };
      await syncDirect(dc, direct);
    }
    else await commitJournal((where.setup as Setup).staging.dir, tx.o.durable);
    return { plan: planned, gen: undefined, direct };
  } catch (err) {
    // Generations: a failure after the pointer swap (its fsync). The published generation
    // needs nothing from the staging dir; drop it and the owner lock now.
    if (run.committed) await discardSetup(tx).catch(noop);
    // A process that stalled past the stale time finds its staging dir removed by another
    // process's recovery, and fails on whatever it touches first (ENOENT). The cause the
    // caller can act on is the takeover, so report that.
    throw (await takenOver(where.setup === undefined ? [rootLock] : [where.setup.staging.ownerLock, rootLock])) ?? (await loneTakenOver(tx, err)) ?? err;
  }
}

/**
 * A commit threw: report it. Resolves only when the commit stands (the apply resolved, and only
 * the root lock's release failed); else the transaction is failed, its staging dir removed if
 * nothing was committed, and the error says what changed.
 */
async function commitFailed(tx: TxState, run: CommitRun, err: unknown, started: number): Promise<CommitResult> {
  const applied = run.applied;
  if (applied !== undefined) {
    // Only releasing the root lock failed, after the apply resolved: the commit stands. The
    // lock left behind names this process, which reclaims it at once; others after lockStale.
    await run.cleanup();
    step('done');
    tx.state = 'committed';
    const warning = `The root lock could not be released (${(err as Error)?.message ?? String(err)}).`;
    return { ...applied, warnings: [...applied.warnings, warning], durationMs: now() - started };
  }
  tx.state = 'failed';
  tx.detachSignal();
  let reported = err;
  if (!run.committed) {
    // Staging that failed because the owner lock was taken over (a stall during staging) is
    // reported as the takeover, like a failure under the root lock.
    const setup = await tx.setup?.catch(() => undefined);
    if (setup !== undefined && !(isTxnError(err) && err.code === codes.ECOMPROMISED)) reported = (await takenOver([setup.staging.ownerLock])) ?? err;
    await quiesce(tx);
    // A staged file failed (its fsync, say) while the commit went on to the root lock and the plan
    // (settleStaging waits only for the facts): that failure came first, and nothing could commit
    // after it; what failed later (the lock's calls, under a persistent EIO) is its consequence.
    const stagingFailure = tx.stager.failure;
    if (stagingFailure !== undefined && reported === err && !(isTxnError(err) && err.code === codes.ECOMPROMISED)) reported = stagingFailure;
    const discarded = await discardSetup(tx).then(() => true, () => false);
    // The journal may have been renamed into place just before the failure (e.g. EIO at the
    // staging dir's fsync). If it could not be removed, the commit point may survive and
    // recover() would roll it forward: "nothing changed" would then be a lie.
    if (!discarded && setup !== undefined && (await fs.lstat(journalPath(setup.staging.dir)).then(() => true, () => false))) {
      await setup.staging.ownerLock.release().catch(noop);
      throw new TxnError(
        codes.EINCOMPLETE,
        `Commit of transaction ${tx.id} failed at its commit point (${(err as Error)?.message ?? String(err)}) and its journal could not be removed. Fix the cause (see err.cause), then run recover('${tx.dir}'): it will finish the transaction (all new).`,
        { cause: err, path: setup.staging.dir, txnId: tx.id },
      );
    }
  }
  throw wrapCommitError(tx, reported);
}

/**
 * Step 1: wait for every stream to end and every staging job to be known (its facts recorded:
 * stager.ts); throw the first failure. A job's fsync may still run: `sealed` waits for it before
 * any commit point, so the wait overlaps the root lock, the gate and the plan. Two kinds of commit
 * wait for it here instead, before the root lock: one in the generations layout (it has no
 * journal round to end it in), and any commit to a root whose lock this thread had to wait for
 * within the last second (lock/queue.ts, `rootLockContended`). Where others commit too, the lock
 * must not be held across an fsync: every other writer would wait that much longer (4 processes
 * of one-file commits on one root: 5-7% fewer commits a second, measured). A lone writer finds
 * the lock free (one file 'full' 0.82-0.95× the time, 10 files 0.88-0.90×). A transaction that
 * staged nothing has no place (root and home) yet, and nothing to wait for.
 */
async function settleStaging(tx: TxState): Promise<void> {
  for (const t of tx.streams) {
    await awaitStream(t, tx.o.signal, (err) => tx.stager.fail(err, t.rel), tx.id);
    await t.done.catch((err: unknown) => tx.stager.fail(err, t.rel));
  }
  await tx.stager.ready();
  const failure = tx.stager.failure;
  if (failure !== undefined) throw failure;
  if (tx.gen !== undefined || (tx.place !== undefined && rootLockContended(rootLockPath((await tx.place).home.home)))) await sealed(tx);
}

/**
 * Every staging job ended: each staged file is durable (durability 'full') and closed. Throws the
 * first staging failure (ESTAGE). Called before every commit point (the journal's, a one-file
 * rename's, a generation's pointer swap): the facts a plan used are those of files that are
 * staged for good.
 */
async function sealed(tx: TxState): Promise<void> {
  await tx.stager.idle();
  const failure = tx.stager.failure;
  if (failure !== undefined) throw failure;
}

/** Wait for in-flight staging without failing (for abort and a failed commit's cleanup). */
export async function quiesce(tx: TxState): Promise<void> {
  for (const t of tx.streams) if (!t.stream.writableFinished) t.stream.destroy();
  await Promise.allSettled([tx.stager.idle(), ...tx.streams.map((t) => t.done)]);
}

/** Step 4: the plan (planner.ts), after tx.mkdir/removeTree/emptyDir added their removals. */
async function plan(tx: TxState, where: { readonly root: string; readonly home: TrustedHome }, root = where.root): Promise<Planned> {
  const tree = await planTreeOps(tx, root);
  // A one-file commit may go the direct way, whose rename itself refuses a mount (see checkMounts).
  const deferMounts = tx.gen === undefined && tx.treeOps.length === 0 && tx.ops.length === 1;
  return buildPlan({ deferMounts, id: tx.id, root, home: where.home, ops: tx.ops.last(), staged: tx.staged, modes: tx.modes, conditions: tx.conditions, tree, concurrency: tx.o.concurrency });
}

/** At commit, before the plan: the tree operations become delete ops, created and removed dirs. */
async function planTreeOps(tx: TxState, root: string): Promise<{ mkdirs: string[]; rmdirs: string[] } | undefined> {
  if (tx.treeOps.length === 0) return undefined;
  const { targets, codes: opCodes } = tx.ops.last();
  const written = targets.filter((_, i) => opCodes[i] !== DELETE);
  const tree = await planTree(root, tx.treeOps, written, tx.id);
  for (const rel of tree.deletes) addOp(tx, rel, DELETE, undefined);
  return tree;
}

function commitContext(tx: TxState, setup: Setup, rootLock: HeldLock): CommitContext {
  return { id: tx.id, dir: tx.dir, setup, rootLock, durable: tx.o.durable, concurrency: tx.o.concurrency, signal: tx.o.signal, lockStale: tx.o.timing.stale, sealed: () => sealed(tx) };
}

/** The ECOMPROMISED error of the first of `locks` that is no longer ours, if any. */
async function takenOver(locks: readonly HeldLock[]): Promise<TxnError | undefined> {
  for (const lock of locks) {
    try {
      await lock.verify();
    } catch (lost) {
      if (isTxnError(lost) && lost.code === codes.ECOMPROMISED) return lost;
    }
  }
  return undefined;
}

function isAbortError(err: unknown, signal: AbortSignal | undefined): boolean {
  return (signal?.aborted === true && err === signal.reason) || (err instanceof Error && err.name === 'AbortError');
}

/** A failure before the commit point, as a TxnError: aborted by the signal (EABORTED), else EFS. */
function wrapCommitError(tx: TxState, err: unknown): TxnError {
  if (isTxnError(err)) return err;
  if (isAbortError(err, tx.o.signal)) {
    return new TxnError(codes.EABORTED, `Transaction ${tx.id} in '${tx.dir}' was aborted by its AbortSignal before its commit point; nothing changed. Start a new transaction if the work is still wanted.`, { cause: err, txnId: tx.id });
  }
  return new TxnError(
    codes.EFS,
    `Commit of transaction ${tx.id} in '${tx.dir}' failed before its commit point: ${(err as Error)?.message ?? String(err)}. Nothing changed; fix the cause (see err.cause) and retry.`,
    { cause: err, txnId: tx.id },
  );
}
