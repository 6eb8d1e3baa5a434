/**
 * staging.ts: creating and removing a root's home and a transaction's staging dir.
 *
 * Order matters twice here:
 *  - creation takes the owner lock *before* the staging dir exists, so another process's recovery
 *    never sees a staging dir without a live lock next to it (it would delete a live transaction);
 *  - removal unlinks the journal first, so "this transaction is over" is the first thing a crash
 *    can leave behind, then removes the rest, and only then (in the caller) releases the lock. A
 *    rollback marker goes only once the journal's removal is durable (an fsync of the staging dir
 *    between the two unlinks, paid by rolled-back transactions only): some filesystems persist
 *    changes to two names of one directory in either order, and a journal that outlived its
 *    marker would be rolled forward although it was rolled back.
 */
import * as fs from './fs.js';
import { codes, errnoOf, TxnError } from './errors.js';
import { syncDir, writeSmallFile } from './durable.js';
import { step } from './faults.js';
import { filesDir, homeOf, journalPath, journalTmpPath, ownerLockOf, rollbackMarkerPath, rollbackReadyPath, stagingDirOf } from './layout.js';
import { acquire, type HeldLock, type LockTiming } from './lock.js';

export interface Home {
  readonly root: string;
  readonly home: string;
  /** Device of the home, which every target must share (rename cannot cross devices). */
  readonly dev: bigint;
}

/**
 * Make sure `<root>/.txnfs/` exists and is a real directory. A new home's entry in the root is
 * fsynced (durable): every staging dir below it depends on it surviving a power loss.
 */
export async function ensureHome(root: string, durable: boolean): Promise<Home> {
  const home = homeOf(root);
  try {
    await fs.mkdir(home);
    if (durable) await syncDir(root);
  } catch (err) {
    if (errnoOf(err) !== 'EEXIST') throw err;
  }
  const info = await fs.lstat(home);
  if (info.kind !== 'dir') {
    throw new TxnError(codes.ETARGET, `'${home}' exists but is not a directory; txnfs keeps its records there. Move it away.`, { path: home });
  }
  return { root, home, dev: info.dev };
}

export interface Staging {
  readonly id: string;
  readonly dir: string;
  readonly ownerLock: HeldLock;
}

/** Take the owner lock of transaction `id`, then create its staging dir and files/. */
export async function createStaging(home: string, id: string, timing: LockTiming): Promise<Staging> {
  const ownerLock = await acquire(ownerLockOf(home, id), timing, { wait: false, what: 'owner lock' });
  const dir = stagingDirOf(home, id);
  try {
    await fs.mkdir(dir);
    await fs.mkdir(filesDir(dir));
  } catch (err) {
    await fs.removeTree(dir).catch(() => undefined);
    await ownerLock.release().catch(() => undefined);
    throw err;
  }
  return { id, dir, ownerLock };
}

async function unlinkIfPresent(p: string): Promise<void> {
  try {
    await fs.unlink(p);
  } catch (err) {
    if (errnoOf(err) !== 'ENOENT') throw err;
  }
}

/**
 * Remove a staging dir: journal first, then the marker (once the journal's removal is durable,
 * when `durable`), then everything else.
 */
export async function removeStaging(dir: string, durable: boolean): Promise<void> {
  await unlinkIfPresent(journalPath(dir));
  step('journal-removed');
  await unlinkIfPresent(journalTmpPath(dir));
  if (await hasRollbackMarker(dir)) {
    if (durable) await syncDir(dir);
    await unlinkIfPresent(rollbackMarkerPath(dir));
  }
  await fs.removeTree(dir);
}

/**
 * Make the rollback marker's inode before the commit point (`rollback.tmp`, empty). An apply that
 * fails because the disk is full (ENOSPC on a new directory, EDQUOT) must still be able to mark
 * its rollback; renaming an existing file needs no new inode or block, creating one does. Its
 * name in the staging dir is made durable by the staging dir fsync that precedes the journal.
 */
export async function prepareRollbackMarker(dir: string): Promise<void> {
  await writeSmallFile(rollbackReadyPath(dir), '', false);
}

/**
 * Durably record that this transaction is being rolled back. From here on, recovery finishes the
 * rollback instead of rolling forward, so a crash mid-rollback cannot end half-forward. Renames the
 * prepared `rollback.tmp` when there is one (a transaction that reached its commit point), so it
 * allocates nothing; creates the marker otherwise (journals written before rollback.tmp existed).
 */
export async function writeRollbackMarker(dir: string, durable: boolean): Promise<void> {
  try {
    await fs.rename(rollbackReadyPath(dir), rollbackMarkerPath(dir));
  } catch (err) {
    if (errnoOf(err) !== 'ENOENT') throw err;
    try {
      await writeSmallFile(rollbackMarkerPath(dir), 'rollback\n', durable);
    } catch (err2) {
      // A marker left by an earlier, interrupted attempt is as good as a new one.
      if (errnoOf(err2) !== 'EEXIST') throw err2;
    }
  }
  if (durable) await syncDir(dir);
}

/** Whether a rollback marker exists in `dir`. */
export async function hasRollbackMarker(dir: string): Promise<boolean> {
  try {
    await fs.lstat(rollbackMarkerPath(dir));
    return true;
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return false;
    throw err;
  }
}
