/**
 * protocol/direct.ts: the commit of a transaction that writes one file and nothing else, whose
 * commit point is the rename of that file over its target (docs/protocol.md, "One file: the
 * rename is the commit point").
 *
 * A journal exists to make several renames one step. A single rename needs none: rename(2) puts
 * the new file in place whole and at once, and a crash leaves the old file or the new one. So such
 * a commit writes no journal, makes no backup directory, and neither it nor a crash leaves
 * anything a recovery must roll forward or back: before the rename the transaction is a staging
 * dir without a journal (discarded once its owner is dead), after it the target is the new file.
 * What it keeps of the full protocol (steps 1-4 and the durability of the apply, step 9): the
 * staged file fsynced before the rename, the root lock, the recovery gate (invariant 7: a dead
 * committed transaction is finished first), the preconditions and the mode fix-ups, both locks
 * verified, the rename's two directories fsynced before commit() resolves, and the roll-forward rule
 * checked right before the rename (the target is still what the plan saw: absent, or the same
 * inode, size and mtime).
 *
 * The commit point is the rename made durable (the parent's fsync): from there a power loss
 * cannot take it back. Undo: if that fsync fails, the commit cannot say it is durable, so it puts
 * the old state back and fails as one that never reached its commit point: the replaced file from
 * a hard link made before the rename (`undo`, never fsynced: only this process uses it, and only
 * while it lives), a new file removed while it is still the staged file. Where the undo fails too,
 * the target holds the new file and commit() rejects with EINCOMPLETE; recover() then only
 * discards the staging dir. With durability 'none' no fsync follows the rename, so there is
 * nothing to undo and no undo link.
 *
 * Taken only where it cannot change the outcome: exactly one entry, a write (a copy is one too),
 * no directory to create or remove, and, for a replaced file with durability 'full', a hard link
 * for the undo that keeps its inode number. Otherwise, and when the target changed since the plan,
 * the same plan goes the journaled way (commit.ts), which knows how to supersede and to back up by
 * copy.
 */
import { dirname } from 'node:path';
import * as fs from '../io/fs.js';
import { codes, errnoOf, TxnError } from '../errors.js';
import { linkRefused } from '../io/links.js';
import { syncDirs } from '../io/durable.js';
import { step } from '../io/faults.js';
import { lstatIfPresentStrict, unlinkIfPresent } from '../io/if-present.js';
import { removeKnown } from '../io/remove.js';
import { once } from '../io/limit.js';
import { isOriginal, isStaged } from './apply.js';
import { applyFixups, type Planned } from './commit.js';
import type { HeldLock } from './lock.js';
import type { Staging } from './staging.js';
import type { JournalEntry } from './journal.js';
import { filesDir, stagedFile, undoPath } from './layout.js';

const noop = (): void => undefined;

/**
 * Where the one file is staged: in a staging dir (`files/<n>`, the undo link in the staging dir,
 * under the owner lock), or as a transaction's lone file in the home (src/transaction/lone.ts: a
 * temp name, the undo link under another, no owner lock: a lone file that another process's
 * recovery judged dead and removed makes the rename fail, and nothing changes).
 */
export interface DirectSource {
  readonly staged: string;
  /** The staged file's directory, whose name for it the rename removes. */
  readonly dir: string;
  /** Where a replaced file's undo link goes. */
  readonly undo: string;
  /** Verified with the root lock right before the rename; none for a lone file. */
  readonly ownerLock: HeldLock | undefined;
  /**
   * For an undo link outside a staging dir (a lone file's, in the home): hold its name as a live
   * temp of this thread from before it is made; resolves with the hold's end.
   */
  readonly hold?: (() => () => void) | undefined;
}

/** The one file staged as `files/<n>` of `staging`. */
export function inStaging(staging: Staging, n: number): DirectSource {
  return { staged: stagedFile(staging.dir, n), dir: filesDir(staging.dir), undo: undoPath(staging.dir), ownerLock: staging.ownerLock };
}

/** What a one-file commit needs of its transaction. */
export interface DirectContext {
  readonly id: string;
  /** The root as the caller named it, for messages. */
  readonly dir: string;
  /** The real root. */
  readonly root: string;
  readonly rootLock: HeldLock;
  /** The home: the other side of a lone file's rename, and of what an early release leaves. */
  readonly home: string;
  readonly durable: boolean;
  readonly concurrency: number;
}

/** A one-file commit, ready for its rename. */
export interface Direct {
  readonly entry: JournalEntry;
  /** The target, absolute. */
  readonly target: string;
  readonly parent: string;
  readonly staged: string;
  /** The staged file's directory (files/, or the home for a lone file). */
  readonly files: string;
  /** The undo link of a replaced file (durability 'full'); undefined for a new one, or with 'none'. */
  readonly undo: string | undefined;
  /** Ends the undo link's hold (DirectSource.hold), once it is gone. */
  unhold: () => void;
}

/** Whether `plan` may commit by its rename alone (see the header). */
export function isDirect(plan: Planned): boolean {
  const { journal } = plan;
  return journal.entries.length === 1 && journal.dirs.length === 0 && (journal.rmdirs?.length ?? 0) === 0 && journal.entries.at(0)?.op === 'write';
}

/**
 * Everything before the rename: fix-ups, the undo link, the locks verified, and the roll-forward
 * rule. Undefined when the journaled way must take the plan instead (nothing left behind).
 */
export async function prepareDirect(c: DirectContext, plan: Planned, src: DirectSource): Promise<Direct | undefined> {
  const { rootLock } = c;
  const entry = plan.journal.entries.at(0) as JournalEntry;
  const target = `${c.root}/${entry.target}`;
  const slash = target.lastIndexOf('/');
  const direct: Direct = {
    entry,
    target,
    parent: slash <= 0 ? '/' : target.slice(0, slash),
    staged: src.staged,
    files: src.dir,
    // Only a durable commit can need its undo (an fsync after the rename that fails): with
    // durability 'none' nothing follows the rename, and a link made for nothing costs a link, an
    // lstat and an unlink on every commit.
    undo: entry.existed && c.durable ? src.undo : undefined,
    unhold: noop,
  };
  await applyFixups({ root: c.root, durable: c.durable, concurrency: c.concurrency, stagedPath: () => src.staged }, plan);
  if (direct.undo !== undefined) {
    direct.unhold = src.hold?.() ?? noop;
    try {
      await fs.link(target, direct.undo);
    } catch (err) {
      direct.unhold();
      // No link here, or EXDEV (the target is on another filesystem than the staging dir, a mount
      // inside the root): the journaled way backs up by copy. ENOENT: the target went since the
      // plan; the journaled way supersedes or applies.
      if (linkRefused(err) || errnoOf(err) === 'EXDEV' || errnoOf(err) === 'ENOENT') return undefined;
      throw err;
    }
  }
  // Files the preconditions read, other than the target, may be a lone file's rename that is not
  // durable yet (released early, see `syncDirect`): made durable before this rename can be, or a
  // power loss could keep this commit and lose what it relied on. Their directories and the home
  // (that rename's other side), beside the checks; a plain one-file commit reads nothing.
  const read = c.durable ? plan.readFiles.filter((f) => f !== target) : [];
  const [, , now, undone] = await Promise.all([
    src.ownerLock?.verify(),
    rootLock.verify(),
    lstatIfPresentStrict(target),
    direct.undo === undefined ? undefined : lstatIfPresentStrict(direct.undo),
    read.length === 0 ? undefined : syncDirs([c.home, ...read.map((f) => dirname(f))], c.concurrency),
  ]);
  // The roll-forward rule, right before the rename: the target is what the plan saw, and the undo
  // link is a second name of it (a filesystem that renumbers a linked file cannot undo by it).
  const unchanged = !entry.existed ? now === undefined : isOriginal(entry, now) && (direct.undo === undefined || (undone !== undefined && undone.ino === now?.ino));
  if (!unchanged) {
    if (direct.undo !== undefined) await unlinkIfPresent(direct.undo);
    direct.unhold();
    return undefined;
  }
  return direct;
}

/**
 * The commit point: the staged file renamed over its target (here, under the root lock), and
 * (durability 'full') both of the rename's directories fsynced at once (`syncDirect`), so that
 * the rename is durable before the commit counts as made: a journaled commit's point is durable
 * when reached, and a power loss must not take back a commit past it. Both: a rename between two
 * directories is durable only once both are, on filesystems that log each directory on its own
 * (the power-loss model assumes so; ext4 and XFS commit one rename whole, btrfs has needed the
 * source's fsync), so `files/` (or the home) too.
 *
 * A failure changes nothing: one of the rename rejects as it is; one of the fsync puts the old
 * state back first (see the header) and rejects with the fsync's error. Where that undo fails
 * too, the new file stays in place and this rejects with EINCOMPLETE.
 */
export async function renameDirect(d: Direct): Promise<void> {
  // A replaced file keeps its undo link, if it has one: then the rename frees nothing (inline.ts
  // may run it inline). Without one (durability 'none') it frees the old file: its size at the plan.
  await fs.rename(d.staged, d.target, d.entry.existed && d.undo === undefined ? (d.entry.size ?? Infinity) : 0);
}

/** Run `fn` under the root lock again (taken anew: the commit released it after its rename). */
export type Relock = <T>(fn: () => Promise<T>) => Promise<T>;

/**
 * Make the rename durable: fsync its two directories. With `relock`, the root lock was released
 * after the rename (a lone file's commit, committer.ts): the fsyncs then run while the next commit
 * in the root goes on, and a failure takes the lock again for the undo. What another commit does
 * meanwhile with the not yet durable target is made safe there: any commit that replaces, removes
 * or reads a file fsyncs its directory and the home before its own commit point (commit.ts,
 * `reliedOn`; `prepareDirect` for a one-file commit's preconditions).
 */
export async function syncDirect(c: DirectContext, d: Direct, relock?: Relock): Promise<void> {
  if (!c.durable) return;
  try {
    await syncDirs([d.parent, d.files], 2);
  } catch (syncError) {
    await undoDirect(c, d, syncError, relock);
    throw syncError;
  }
}

/** After the commit point: the steps a journaled apply reports, for the harness; no call. */
export function appliedDirect(): void {
  step('apply:start');
  step('applied:0');
  step('applied');
}

/**
 * Put back what the rename replaced, durably; EINCOMPLETE where that fails. Only while the target
 * is still the file this commit put there (the roll-back rule): a writer outside txnfs may have
 * replaced it meanwhile, and after an early release (`relock`) a later commit too. That newer
 * version stays, and the commit fails with EFS all the same: its change is gone.
 */
async function undoDirect(c: DirectContext, d: Direct, syncError: unknown, relock: Relock | undefined): Promise<void> {
  const undo = async (): Promise<boolean> => {
    const now = await lstatIfPresentStrict(d.target);
    if (!isStaged(d.entry, now)) return false;
    if (d.undo !== undefined) await fs.rename(d.undo, d.target);
    else await fs.unlink(d.target);
    // Both directories of the undo's rename, as for the commit's own.
    await syncDirs(d.undo === undefined ? [d.parent] : [d.parent, d.undo.slice(0, d.undo.lastIndexOf('/'))], 2);
    return true;
  };
  let undone: boolean;
  try {
    undone = relock === undefined ? await undo() : await relock(undo);
  } catch (undoError) {
    throw new TxnError(
      codes.EINCOMPLETE,
      `Transaction ${c.id} put its one file in place ('${d.target}') but could not make that durable (${(syncError as Error).message}), nor put the old state back (${(undoError as Error).message}). The new file is there now; it may not survive a power loss. Fix the cause (see err.cause) and run recover('${c.dir}') to clean up.`,
      { cause: syncError, path: d.target, txnId: c.id },
    );
  }
  if (!undone) {
    throw new TxnError(
      codes.EFS,
      `Transaction ${c.id} renamed its one file over '${d.target}' but could not make that durable (${(syncError as Error).message}); another writer has replaced '${d.target}' since, and that newer version stays. This transaction's change is not there; fix the cause (see err.cause) and retry if it is still wanted.`,
      { cause: syncError, path: d.target, txnId: c.id },
    );
  }
}

/**
 * Step 10 of a lone file's commit (src/transaction/lone.ts): it has no staging dir, and the temp
 * name of the staged file went with the rename; what is left is a replaced file's undo link.
 * Reported as the journal's removal is, so that every commit passes the same named steps. A
 * failure is a warning: the commit stands, and `recover()` removes the link as a dead writer's temp.
 */
export function endLoneDirect(d: Direct, warnings: string[]): () => Promise<void> {
  step('journal-removed');
  const undo = d.undo;
  if (undo === undefined) return () => Promise.resolve();
  // Called once the root lock is released: the undo link is the replaced file's last name, and
  // its unlink frees the file (its size at the plan), the dearest call of a one-file commit (about
  // 200 µs for 4 KiB on ext4). Under the lock it made every other commit in the root wait for it.
  return once(() =>
    unlinkIfPresent(undo, d.entry.size ?? Infinity).then(
      () => d.unhold(),
      (err: Error) => {
        // Let go of: recover() then takes it for a temp this thread abandoned, and removes it.
        d.unhold();
        warnings.push(`The undo link '${undo}' could not be removed (${err.message}); recover() will remove it.`);
      },
    ),
  );
}

/**
 * Remove the staging dir of an applied one-file commit: the undo link, files/ (empty) and the dir.
 * No home fsync: the staging dir holds no journal, so if a power loss brings it back, recovery
 * only discards it.
 */
export async function removeDirectStaging(d: Direct, dir: string): Promise<void> {
  await removeKnown(dir, d.undo === undefined ? [] : [d.undo], [filesDir(dir)]);
}
