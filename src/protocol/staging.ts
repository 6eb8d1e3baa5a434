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
 *
 * Who may write the home (docs/protocol.md, "The home: mode and owner"). A transaction creates
 * `.txnfs/` with mode 0755 (less the umask): only its owner may add or remove entries. A home
 * made by single-file writes copies its directory's mode so that every user who may write a file
 * there may make a temp file (target.ts), so a home can be group- or world-writable (1777 in a
 * /tmp-like directory). Transactions and recovery therefore trust a home only if it is a real
 * directory owned by this process's uid or by the root directory's owner (anything else was made
 * by another user, who could swap what txnfs puts in it: refused with ETARGET), and they trust
 * the staging dirs in it only when owned by a trusted uid: this process's, plus the home owner's
 * when nobody else may write the home. A staging dir is created 0700, so nobody but its owner
 * (and root) can change what is inside it; recovery refuses one that others may write to.
 */
import * as path from 'node:path';
import * as fs from '../io/fs.js';
import type { Info } from '../io/fs.js';
import { codes, errnoOf, TxnError } from '../errors.js';
import { syncDir, writeSmallFile } from '../io/durable.js';
import { step } from '../io/faults.js';
import { backupDir, backupFile, filesDir, homeOf, journalPath, journalTmpPath, ownerLockOf, rollbackMarkerPath, rollbackReadyPath, stagingDirOf } from './layout.js';
import { acquire, type HeldLock, type LockTiming } from './lock.js';
import { likelyGone } from './home.js';
import { removeKnown } from '../io/remove.js';
import { lstatIfPresentStrict, unlinkIfPresent } from '../io/if-present.js';
import { once, settleAll } from '../io/limit.js';

export interface Home {
  readonly root: string;
  readonly home: string;
  /** Device of the home, which every target must share (rename cannot cross devices). */
  readonly dev: bigint;
}

/** A home checked by {@link trustHome}: whose staging dirs recovery may act on. */
export interface TrustedHome extends Home {
  /** The uids whose staging dirs are trusted; undefined where the platform has no uids. */
  readonly trusted: ReadonlySet<number> | undefined;
  /**
   * Only this process's uid can add, rename or remove names in it (it owns the home, which group
   * and others cannot write): a file this process names there stays the file it made. What a
   * transaction's lone file (src/transaction/lone.ts) needs, since it lives in the home itself,
   * outside any 0700 staging dir.
   */
  readonly ours: boolean;
}

/** Mode of a home a transaction creates (less the umask): only its owner may change entries. */
const HOME_MODE = 0o755;
/** Mode of a staging dir: only its owner may read or change what is inside. */
const STAGING_MODE = 0o700;

/**
 * Check that `homeInfo` (the lstat of `<root>/.txnfs`) is a home this process may trust, and
 * return whose staging dirs in it are trusted (see the header). ETARGET when it is not a real
 * directory, or when another user owns it.
 */
export async function trustHome(root: string, home: string, homeInfo: Info): Promise<ReadonlySet<number> | undefined> {
  if (homeInfo.kind !== 'dir') {
    // A symlinked home would make txnfs take locks in, and act on staging dirs of, a directory
    // outside the root.
    throw new TxnError(codes.ETARGET, `'${home}' is a ${homeInfo.kind === 'symlink' ? 'symlink' : homeInfo.kind === 'file' ? 'file' : 'special file'}, not a directory; txnfs keeps its records in a real directory there and will not follow it. Move it away.`, { path: home });
  }
  const me = fs.effectiveUid();
  if (me === undefined) return undefined;
  // The root's owner matters only for a home this uid does not own: one call saved on every
  // commit in the common case.
  const rootOwner = homeInfo.uid === me ? me : (await fs.lstat(root)).uid;
  if (homeInfo.uid !== me && homeInfo.uid !== rootOwner) {
    throw new TxnError(
      codes.ETARGET,
      `'${home}' is owned by uid ${homeInfo.uid}, neither this process's uid (${me}) nor the owner of the root (uid ${rootOwner}). Another user made it and could change what txnfs keeps there, so txnfs will neither write its records there nor act on the ones it finds. Inspect it, remove it (as its owner or root), then retry.`,
      { path: home },
    );
  }
  // In a home others may write to (made by single-file writes in a shared directory), only this
  // process's own staging dirs are trusted: anyone could have planted the others.
  return new Set(homeInfo.uid === me || (homeInfo.mode & 0o022) !== 0 ? [me] : [me, homeInfo.uid]);
}

/**
 * `ensureHome`, then `trustHome`: what a transaction needs before it stages anything. The fsync of
 * the root that a new home needs is left to whoever needs the home's name durable: `createStaging`,
 * which every caller calls next, or the commit point it leads to (see `homesNaming`).
 */
export async function openHome(root: string, durable: boolean): Promise<TrustedHome> {
  const { home, info } = await makeHome(root, durable);
  const me = fs.effectiveUid();
  return { ...home, trusted: await trustHome(root, home.home, info), ours: me !== undefined && info.uid === me && (info.mode & 0o022) === 0 };
}

/**
 * Make sure `<root>/.txnfs/` exists and is a real directory. A new home's entry in the root is
 * fsynced (durable): every staging dir below it depends on it surviving a power loss.
 */
export async function ensureHome(root: string, durable: boolean): Promise<Home> {
  const { home } = await makeHome(root, durable);
  await takeHomeNaming(home.home)?.();
  return home;
}

/**
 * The fsyncs of a root that make a new home's name durable, owed by whoever made the home in this
 * process (home path → the fsync, started on first demand, until it succeeds). A staging dir's
 * name is durable only once its home's is: `createStaging` runs the one of its home, or, for a
 * journaled staging dir, leaves it to the fsyncs awaited before the commit point
 * (`Staging.name`), so that making a home costs staging no fsync round, and a commit without a
 * journal (protocol/direct.ts: its rename is its commit point, and nothing it needs lives in the
 * home's name) none at all. Shared by every transaction of this process in that home: one that
 * finds the home made a moment ago by another runs (or waits for) that fsync too.
 */
const homesNaming = new Map<string, () => Promise<void>>();

function nameHome(home: string, sync: () => Promise<void>): void {
  const owed = once(() =>
    sync().then(() => {
      if (homesNaming.get(home) === owed) homesNaming.delete(home);
    }),
  );
  homesNaming.set(home, owed);
}

/**
 * The fsync that makes `home`'s name durable, if one is owed, under way or failed: call it to run
 * (or join) it. A failed one stays until a caller has run it and seen the failure (the transaction
 * that made the home runs it next, in the same flow), so that its failure is never lost to a race
 * with that caller: the home's name is then not known to be durable, and that transaction fails
 * before its commit point.
 */
function takeHomeNaming(home: string): (() => Promise<void>) | undefined {
  const owed = homesNaming.get(home);
  if (owed === undefined) return undefined;
  return () => {
    const p = owed();
    p.catch(() => {
      if (homesNaming.get(home) === owed) homesNaming.delete(home);
    });
    return p;
  };
}

/**
 * `ensureHome`, also returning the home's lstat. A home in use exists: one lstat, where a mkdir
 * first (failing with EEXIST) and an lstat after cost two calls on every commit. A home this
 * process removed last, or has never seen (no litter, home.ts), is most likely gone: made with a
 * mkdir first, where an lstat failing with ENOENT first would cost one call more. The root's
 * fsync of a new home is owed, not run (`homesNaming`).
 */
async function makeHome(root: string, durable: boolean): Promise<{ home: Home; info: Info }> {
  const home = homeOf(root);
  let info = likelyGone(home) ? undefined : await lstatIfPresentStrict(home);
  if (info === undefined) {
    try {
      await fs.mkdir(home, HOME_MODE);
      if (durable) nameHome(home, () => syncDir(root));
    } catch (err) {
      // Made by someone else since the lstat: as good as ours (checked below like any other).
      if (errnoOf(err) !== 'EEXIST') throw err;
    }
    info = await fs.lstat(home);
  }
  if (info.kind !== 'dir') {
    throw new TxnError(codes.ETARGET, `'${home}' exists but is not a directory; txnfs keeps its records there. Move it away.`, { path: home });
  }
  return { home: { root, home, dev: info.dev }, info };
}

export interface Staging {
  readonly id: string;
  readonly dir: string;
  readonly ownerLock: HeldLock;
  /**
   * Make the staging dir's own name durable (journaled, durability 'full'): the fsync of the home,
   * and the root's of a home made just before (`homesNaming`), at once. Run with the fsyncs before
   * the commit point (commit.ts, prepare): any moment between the staging dir's mkdir and the
   * commit point will do, so staging never waits for it, and a commit that needs no journal
   * (direct.ts) never runs it. Resolves at once otherwise. Runs once; later calls join it.
   */
  readonly name: () => Promise<void>;
}

/**
 * Take the owner lock of transaction `id`, then create its staging dir and files/.
 *
 * `journaled` (the in-place layout, whose commit point may be a journal): when `durable`, the
 * fsync of the home that makes the staging dir's own name durable (docs/protocol.md, the fsync
 * table: a journal will refer to this dir, so its name must be durable before the commit point;
 * any moment after its mkdir will do) is owed, run before the commit point (`Staging.name`).
 * Otherwise (the generations layout) the home's name is made durable here, before anything else.
 */
export async function createStaging(home: string, id: string, timing: LockTiming, journaled?: { readonly durable: boolean }): Promise<Staging> {
  const homeNamed = takeHomeNaming(home);
  if (journaled === undefined) await homeNamed?.();
  const ownerLock = await acquire(ownerLockOf(home, id), timing, { wait: false, what: 'owner lock', sole: true });
  const dir = stagingDirOf(home, id);
  try {
    // 0700 at creation (mkdir's mode, not a later chmod that a crash could lose): what is inside
    // can then be changed by its owner alone, which is what recovery checks before trusting it.
    await fs.mkdir(dir, STAGING_MODE);
    await fs.mkdir(filesDir(dir));
  } catch (err) {
    // Nothing may still be writing while the staging dir goes.
    await fs.removeTree(dir).catch(() => undefined);
    await ownerLock.release().catch(() => undefined);
    throw err;
  }
  // The home's own name must be durable before a journal below it is. This process's mkdir of the
  // home owes that fsync of the root (`homeNamed`); a home found made owes it to nobody: another
  // process's one-file commit (whose rename needs no journal) or any 'none' commit made it without
  // one, and a journal cannot tell. Its root is fsynced here, in the same round as the home's.
  // In the order the calls are issued: settleAll rejects with the first failure in argument order.
  const name = journaled?.durable === true ? once(() => settleAll([homeNamed?.() ?? syncDir(path.dirname(home)), syncDir(home)])) : () => Promise.resolve();
  return { id, dir, ownerLock, name };
}

/**
 * Remove a staging dir: journal first, then the marker (once the journal's removal is durable,
 * when `durable`), then everything else. `applied`: the caller is a commit whose apply succeeded,
 * so journal.tmp was renamed and no rollback marker was made; neither is looked for.
 */
export async function removeStaging(dir: string, durable: boolean, applied = false, backups?: readonly number[]): Promise<void> {
  await endJournal(dir);
  await removeEndedStaging(dir, durable, applied, backups);
}

/**
 * The first step of `removeStaging`: unlink the journal, the record that the transaction is not
 * over. Once it is gone, the staging dir is that of a transaction without a commit point: what
 * is left is discarded by recovery once its owner is dead, and skipped while it lives.
 */
export async function endJournal(dir: string): Promise<void> {
  await unlinkIfPresent(journalPath(dir));
  step('journal-removed');
}

/**
 * The rest of `removeStaging`, after `endJournal`. After an applied commit, `journal.tmp` is the
 * second name the commit point left (commitJournal). `rollback.tmp` is made only where hard links
 * are refused, and by an older txnfs: removed with the rest (after an applied commit, where it is
 * rare, by the generic walk that an unexpected entry sends the removal to).
 */
export async function removeEndedStaging(dir: string, durable: boolean, applied = false, backups?: readonly number[]): Promise<void> {
  if (!applied) {
    await unlinkIfPresent(journalTmpPath(dir));
    if (await hasRollbackMarker(dir)) {
      if (durable) await syncDir(dir);
      await unlinkIfPresent(rollbackMarkerPath(dir));
    }
  }
  const known = applied ? [journalTmpPath(dir)] : [rollbackReadyPath(dir)];
  if (backups === undefined) {
    await removeKnown(dir, known, [filesDir(dir), backupDir(dir)]);
  } else if (backups.length === 0) {
    // The caller made no backup/ (a commit that replaced or removed nothing): no rmdir to fail.
    await removeKnown(dir, known, [filesDir(dir)]);
  } else {
    // The backups are known by name: unlinked with the rest, they let backup/ go with one rmdir,
    // where an rmdir failing with ENOTEMPTY sent the whole staging dir to the generic rm -rf walk.
    await removeKnown(dir, [...backups.map((i) => backupFile(dir, i)), ...known], [filesDir(dir)], [backupDir(dir)]);
  }
}

/**
 * Durably record that this transaction is being rolled back. From here on, recovery finishes the
 * rollback instead of rolling forward, so a crash mid-rollback cannot end half-forward.
 *
 * An apply that fails because the disk is full (ENOSPC on a new directory, EDQUOT, no inode left)
 * must still be able to mark its rollback, so the marker takes over an inode that exists: renaming
 * needs no new inode or block, creating a file does. That inode is `journal.tmp`, which the commit
 * point leaves as a second name of the journal (journal.ts, commitJournal); where hard links are
 * refused, and in a staging dir of an older txnfs, it is `rollback.tmp`, made for this. Only a
 * journal written by a txnfs older than both gets a new file.
 */
export async function writeRollbackMarker(dir: string, durable: boolean): Promise<void> {
  let marked = false;
  for (const spare of [journalTmpPath(dir), rollbackReadyPath(dir)]) {
    try {
      await fs.rename(spare, rollbackMarkerPath(dir), 0);
      marked = true;
      break;
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT') throw err;
    }
  }
  if (!marked) {
    try {
      await writeSmallFile(rollbackMarkerPath(dir), 'rollback\n', durable);
    } catch (err) {
      // A marker left by an earlier, interrupted attempt is as good as a new one.
      if (errnoOf(err) !== 'EEXIST') throw err;
    }
  }
  if (durable) await syncDir(dir);
}

/** Whether a rollback marker exists in `dir`. */
export async function hasRollbackMarker(dir: string): Promise<boolean> {
  return (await lstatIfPresentStrict(rollbackMarkerPath(dir))) !== undefined;
}
