/**
 * recover.ts: finish or discard what dead transactions left in a root.
 * docs/protocol.md: step 3 of "Commit" (a commit recovers first, through recoverLocked), and "Life of a transaction".
 *
 * Recovery reads only `<root>/.txnfs/`, never the root itself, so it costs O(pending transactions)
 * however many files the root holds. With no home, or no transaction in it, it returns at once
 * without taking a lock or creating anything.
 *
 * Under the root lock, each `.txn-<id>` is classified by its owner lock and its records
 * (classify.ts, which `inspect` and `txnfs status` read too):
 *
 *   owner alive                           → skipped (never touched: invariant 4)
 *   journal fails its checksum            → corrupt: reported, left in place (invariant 8)
 *   `.txn-<id>` is not a real directory   → corrupt too (a symlink is never followed)
 *   not made by a trusted uid, or with   → foreign: reported, left untouched, and (unlike corrupt)
 *   anything in it not of the type txnfs    not blocking commits: another user can plant one in a
 *   makes (files/, backup/ directories;     shared home, and must not be able to stop this one
 *   journal, marker regular files)          (staging.ts: who may write the home)
 *   journal + rollback marker             → rolled back (finish the rollback that was under way)
 *   journal                               → rolled forward (the commit point was passed)
 *   no journal                            → discarded (the commit point was never reached)
 *   owner lock with no staging dir        → discarded (a crash between lock and mkdir)
 *
 * Before that, and without the root lock, the temp files and update() locks of dead single-file
 * writers are removed (orphans.ts); they live in the home too, so this costs no listing of the root.
 *
 * Committed transactions are applied oldest first, before anything else in the root may commit
 * (commit calls `recoverLocked` under the same lock), so an old journal can never overwrite newer
 * data (invariant 7). Every action is idempotent, so a crash during recovery is finished by the
 * next recovery (invariant 5).
 */
import * as fs from '../io/fs.js';
import { badArgument, codes, errnoOf, isTxnError, TxnError } from '../errors.js';
import { syncDir } from '../io/durable.js';
import { mapLimit } from '../io/limit.js';
import type { Journal } from './journal.js';
import { homeOf, rootLockPath } from './layout.js';
import { classify, isDeadTomb, listIds } from './classify.js';
import { homeVanished, removeHomeIfEmpty } from './home.js';
import { lockState, removeDeadLock, sweepEmptyLock, withRootLock, type LockTiming } from './lock.js';
import { booleanOption, checkOptionsObject, commonKeys, resolveCommon, resolveDir } from '../options/options.js';
import type { RecoverOptions, RecoverProgress, RecoverReport } from './recover-types.js';
import { trustHome } from './staging.js';
import { finish, Unfinished } from './finish.js';
import { removeOrphans } from '../single/orphans.js';
import { isGenerationsRoot, resolveLayout } from '../generations/setup.js';
import { recoverGenerations } from '../generations/recover.js';
import { noteRoot } from '../platform/local-root.js';
import { now } from '../clock.js';

export { deadTombs, inspect, type FoundTxn, type TxnState } from './classify.js';

export type { RecoveredTxn, RecoverOptions, RecoverProgress, RecoverReport, SupersededTarget, UnresolvedTxn } from './recover-types.js';

/** Everything `recoverLocked` needs. */
export interface RecoverContext {
  readonly root: string;
  readonly home: string;
  /** Whose staging dirs may be acted on (trustHome, staging.ts); undefined: no uids here. */
  readonly trusted: ReadonlySet<number> | undefined;
  readonly durable: boolean;
  readonly timing: LockTiming;
  readonly concurrency: number;
  readonly dryRun: boolean;
  readonly onProgress?: ((progress: RecoverProgress) => void) | undefined;
  /**
   * The id of the transaction on whose behalf a commit runs this recovery. Its owner lock is held
   * by the caller (verified by token again right before the commit point), so it is alive
   * (invariant 4) and has no journal yet: classifying it would cost six calls on every commit and
   * end in "skip". Recovery neither reads nor reports it.
   */
  readonly self?: string | undefined;
  /**
   * A commit's gate: filled with the single-file records the home holds (temps, update() locks),
   * for the commit to remove the dead ones after it released the root lock.
   */
  readonly singles?: string[] | undefined;
  /**
   * The home's names as the root lock's acquisition listed them, right after its entry was made
   * (HeldLock.listing): read instead of listing the home again. Whatever appears in it after that
   * is live (a journal appears only under the root lock, held since), so the gate misses nothing.
   */
  readonly listed?: readonly string[] | undefined;
}

function emptyReport(dir: string, dryRun: boolean, started: number): RecoverReport {
  return { dir, dryRun, rolledForward: [], rolledBack: [], discarded: [], skipped: [], corrupt: [], foreign: [], failed: [], superseded: [], orphans: [], orphanBytes: 0, durationMs: now() - started };
}

/**
 * Recover every dead transaction in `ctx.home`. The caller holds the root lock (unless dry-run).
 * Used by `recover()` and, before its commit point, by every commit.
 */
export async function recoverLocked(ctx: RecoverContext): Promise<RecoverReport> {
  const started = now();
  const report = emptyReport(ctx.root, ctx.dryRun, started);
  const { ids, tombs, singles } = await listIds(ctx.home, ctx.listed);
  // A commit's gate hands the single-file records on (a dead transaction's lone file among them,
  // src/transaction/lone.ts): the commit removes the dead ones once it has released the root
  // lock, which they do not need (src/single/orphans.ts). recover() removes them itself.
  ctx.singles?.push(...singles);
  // Looked at side by side (they are independent), at most `concurrency` at once.
  const others = ids.filter((id) => id !== ctx.self);
  const found = await mapLimit(others, ctx.concurrency, (id) => classify(ctx.home, id, ctx.timing.stale, ctx.trusted, ctx.self !== undefined));
  let removedSomething = false;

  // Committed (or rolling back) first, oldest commit point first: invariant 7.
  const committed = found
    .filter((t) => t.owner !== 'held' && t.journal !== undefined)
    .sort((a, b) => (a.journal?.created ?? 0) - (b.journal?.created ?? 0));
  for (const t of committed) {
    const journal = t.journal as Journal;
    if (ctx.dryRun) {
      (t.state === 'rolling-back' ? report.rolledBack : report.rolledForward).push({ id: t.id, entries: journal.entries.length, changed: 0 });
      continue;
    }
    const dropped = new Set<string>();
    const supersede = (targets: readonly string[]): void => {
      for (const target of targets) {
        if (dropped.has(target)) continue; // dropped going forward, then left by the rollback
        dropped.add(target);
        report.superseded.push({ id: t.id, target });
      }
    };
    try {
      // The finish driver a live commit uses too (protocol/finish.ts): forward, else behind a
      // durable marker back, so the root ends all-old; then the staging dir goes.
      const done = await finish({
        root: ctx.root,
        staging: t.staging,
        journal,
        durable: ctx.durable,
        concurrency: ctx.concurrency,
        rollingBack: t.state === 'rolling-back',
        removeAfterForward: true,
        onProgress: (direction, n, total) => ctx.onProgress?.({ id: t.id, direction, done: n, total }),
      }).catch((err: unknown) => {
        // What stopped the rollback is what recover() reports, as before there was one driver.
        throw err instanceof Unfinished ? err.undoError : err;
      });
      supersede(done.outcome.superseded);
      const result = { id: t.id, entries: journal.entries.length, changed: done.outcome.changed };
      if (done.direction === 'forward') report.rolledForward.push(result);
      else if (done.cause === undefined) report.rolledBack.push(result);
      else report.rolledBack.push({ ...result, reason: `could not be rolled forward (${(done.cause as Error).message}); rolled back instead` });
      await removeDeadLock(t.lock, ctx.timing.stale);
      removedSomething = true;
    } catch (err) {
      const error = isTxnError(err) ? err : new TxnError(codes.EINCOMPLETE, `Recovery of transaction ${t.id} failed: ${(err as Error).message}. Its records were left in place; fix the cause and run recover() again.`, { cause: err, path: t.staging, txnId: t.id });
      report.failed.push({ id: t.id, path: t.staging, reason: error.message, error });
    }
  }

  for (const t of found) {
    if (t.owner === 'held') {
      // An owner lock with no staging dir and no owner in it (a crash between an acquirer's two
      // mkdirs or a releaser's two rmdirs) is held only by the grace; removing it if it is still
      // empty is safe at any time (an acquirer in that instant gets ENOENT and starts again).
      if (t.state === 'orphan-lock' && !ctx.dryRun && (await sweepEmptyLock(t.lock))) continue;
      report.skipped.push({ id: t.id, state: t.state });
      continue;
    }
    if (t.state === 'corrupt') {
      report.corrupt.push({ id: t.id, path: t.staging, reason: t.reason ?? 'corrupt' });
      continue;
    }
    if (t.state === 'foreign') {
      report.foreign.push({ id: t.id, path: t.staging, reason: t.reason ?? 'foreign' });
      continue;
    }
    if (t.state !== 'staging' && t.state !== 'orphan-lock') continue;
    // Neither lock nor staging dir is there any more: a transaction that finished after the home
    // was listed (a commit removes its staging dir, then its owner lock, after releasing the root
    // lock). Nothing to discard, nothing to report.
    if (t.state === 'orphan-lock' && t.owner === 'absent') continue;
    report.discarded.push({ id: t.id, entries: 0, changed: 0 });
    if (ctx.dryRun) continue;
    // The commit point was never reached: nothing outside the staging dir was touched. An
    // orphan lock had no staging dir when classified; none is removed now, because only the
    // lock's owner makes one, and a dead owner makes none.
    if (t.state === 'staging') await fs.removeTree(t.staging);
    await removeDeadLock(t.lock, ctx.timing.stale);
    removedSomething = true;
  }

  if (!ctx.dryRun) {
    for (const tomb of tombs) {
      // A tomb is a lock directory in the middle of removal. One older than the stale time, or
      // one whose owner is gone (a crash during a lock release), was left behind; a fresh one of a
      // live process may be about to be renamed back, so it is left alone.
      const p = `${ctx.home}/${tomb}`;
      if (await isDeadTomb(p, ctx.timing.stale)) {
        await fs.removeTree(p);
        removedSomething = true;
      }
    }
    // One fsync makes every removal above durable; without it a power loss could bring back a
    // finished journal (harmless, it replays as a no-op, but then the root is not clean).
    if (removedSomething && ctx.durable) await syncDir(ctx.home);
  }
  return { ...report, durationMs: now() - started };
}

const recoverKeys = [...commonKeys, 'dryRun', 'onProgress', 'keepGenerations'] as const;

/**
 * Roll forward or discard whatever dead transactions left in `dir`. Safe to call at every boot and
 * concurrently with live transactions in other processes: it never touches a transaction whose
 * owner is alive, and it reads only `<dir>/.txnfs/`.
 *
 * A root that does not exist resolves with an empty report: no transaction can have run there, and
 * a boot script may run before the directory is first made. (`txnfs recover` and `txnfs status`,
 * given a path by a person, exit 1 for it instead: there it is most likely a typo.)
 *
 * Resolves with a report; journals that fail their checksum are reported in `corrupt` and left in
 * place (they never make it reject). Rejects with `ELOCKED` if another process holds the root lock
 * for longer than `lockTimeout`, and with `EFS` (the fs error as `cause`) if the filesystem fails.
 *
 * @example
 * ```ts
 * const report = await recover('out');
 * if (report.corrupt.length > 0) console.error('needs a person:', report.corrupt);
 * ```
 */
export async function recover(dir?: string | URL, options?: RecoverOptions): Promise<RecoverReport> {
  const started = now();
  const o = checkOptionsObject(options, 'options', recoverKeys);
  const common = resolveCommon(o);
  const dryRun = booleanOption(o, 'dryRun', false);
  const onProgress = o.onProgress;
  if (onProgress !== undefined && typeof onProgress !== 'function') throw badArgument('onProgress', 'a function', onProgress);
  const abs = resolveDir(dir, 'dir');
  const gen = resolveLayout('generations', o.keepGenerations);
  if (gen !== undefined && (await isGenerationsRoot(abs))) {
    // A generations pointer (src/generations/recover.ts): its records live beside it.
    try {
      return await recoverGenerations(abs, common, { dryRun, keep: gen.keep, onProgress: onProgress as RecoverContext['onProgress'] });
    } catch (err) {
      if (isTxnError(err) || err === common.signal?.reason) throw err;
      throw new TxnError(codes.EFS, `Recovery of the generations root '${abs}' failed: ${(err as Error)?.message ?? String(err)}. What was done stands; fix the cause and run recover() again.`, { cause: err, path: abs });
    }
  }
  let root: string;
  try {
    root = await fs.realpath(abs);
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return emptyReport(abs, dryRun, started);
    throw new TxnError(codes.EFS, `Cannot open the root '${abs}': ${(err as Error).message}. Check that it is a directory you may read, then run recover() again.`, { cause: err, path: abs });
  }
  noteRoot(root);
  const home = homeOf(root);
  const homeInfo = await fs.lstat(home).catch(() => undefined);
  // A symlinked home, or one another user owns, is refused (ETARGET) before anything in it is
  // read: recovery would take locks in it and act on what that user put there (staging.ts).
  const trusted = homeInfo === undefined ? undefined : await trustHome(root, home, homeInfo);
  try {
    // Fast path: nothing pending means no lock, no writes (a clean root stays untouched). A root
    // lock left by a dead process (a crash, or a release that failed, after the staging dir was
    // gone) is not "nothing": taking the lock below reclaims it, and releasing it leaves the home
    // clean. A live one (another process recovering) is.
    const { ids, tombs, singles, rootLock, legacyRootLock } = await listIds(home);
    // A root lock directory of an older txnfs (its entries lived inside it): its dead entries
    // and the directory are removed here and now (a live owner's entry is never touched; rmdir
    // only removes an empty directory). Taking today's root lock below does not look there.
    if (legacyRootLock && !dryRun) {
      await removeDeadLock(rootLockPath(home), common.timing.stale).catch(() => undefined);
      await sweepEmptyLock(rootLockPath(home));
    }
    // A root lock entry left by a dead process (a crash, or a release that failed) is reclaimed
    // by taking the lock below.
    const deadRootLock = rootLock && !dryRun && (await lockState(rootLockPath(home), common.timing.stale, true)) === 'dead';
    // With nothing pending, an empty home is litter (home.ts): a dry run only looks.
    const tidy = async (): Promise<void> => {
      if (!dryRun && homeInfo !== undefined) await removeHomeIfEmpty(home);
    };
    if (ids.length === 0 && tombs.length === 0 && singles.length === 0 && !deadRootLock) {
      await tidy();
      return emptyReport(root, dryRun, started);
    }
    // Single-file orphans need no root lock (orphans.ts); live writers' temps are left as they are.
    const found = singles.length === 0 ? { paths: [], bytes: 0 } : await removeOrphans(home, singles, { stale: common.timing.stale, dryRun });
    const orphans = { orphans: found.paths, orphanBytes: found.bytes };
    if (ids.length === 0 && tombs.length === 0 && !deadRootLock) {
      // Live writers' temps keep the home: then this call writes nothing at all.
      if (found.paths.length === singles.length) await tidy();
      return { ...emptyReport(root, dryRun, started), ...orphans };
    }
    const ctx: RecoverContext = {
      root,
      home,
      trusted,
      durable: common.durable,
      timing: common.timing,
      concurrency: common.concurrency,
      dryRun,
      onProgress: onProgress as RecoverContext['onProgress'],
    };
    if (dryRun) return { ...(await recoverLocked(ctx)), ...orphans };
    let report: RecoverReport;
    try {
      report = await withRootLock(rootLockPath(home), common.timing, common.signal, () => recoverLocked(ctx));
    } catch (err) {
      // The home went away before the root lock was in it: its last user finished and removed it,
      // empty (home.ts), so nothing is pending here any more. The mkdir of the lock's entry in it
      // failing with ENOENT says so even when another writer has made a new home since (that one's work is live).
      const at = (err as { path?: unknown }).path;
      const lockGone = errnoOf(err) === 'ENOENT' && typeof at === 'string' && at.startsWith(`${rootLockPath(home)}.`);
      if (lockGone || (await homeVanished(err, home))) return { ...emptyReport(root, dryRun, started), ...orphans };
      throw err;
    }
    await tidy();
    return { ...report, ...orphans, durationMs: now() - started };
  } catch (err) {
    // One error type for callers, as commit() gives: the raw fs error (EIO taking the root lock,
    // reading the home) becomes the cause. Every step is idempotent, so a retry picks up here.
    if (isTxnError(err) || err === common.signal?.reason) throw err;
    throw new TxnError(
      codes.EFS,
      `Recovery in '${root}' failed: ${(err as Error)?.message ?? String(err)}. What was done stands and the rest is still recorded in '${home}'; fix the cause and run recover() again.`,
      { cause: err, path: home },
    );
  }
}
