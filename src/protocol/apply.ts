/**
 * apply.ts: roll one journal forward, or back. Shared by commit and recovery.
 *
 * Commit applies through `rollForward`, the very function recovery uses, so the recovery path runs
 * on every commit instead of only after rare crashes. Every step is idempotent, so it can be cut
 * at any point and run again:
 *
 *  - a write renames files/<n> over the target only while files/<n> still exists;
 *  - the roll-forward rule (invariant 7, against every writer): a write or a delete replaces or
 *    removes the target only while it is still what it was at the commit point. A new file's
 *    target must still be absent; an original must still have the identity the journal recorded:
 *    its inode, size and mtime (ns), with its backup still in backup/<i>. While the backup is a
 *    hard link it pins the inode: a number in use cannot be handed to another file, so the same
 *    number is the same file, and size and mtime tell whether it was rewritten in place. A copy
 *    (where hard links are refused) pins nothing, so inode, size and mtime must all match; what
 *    is left is a new file that reuses the number and has the same size and mtime to the
 *    nanosecond (docs/protocol.md). Anything else means someone wrote it after the commit point
 *    (a writeFile, another program, a person): that newer version stands, the staged copy is left
 *    to be removed with the staging dir, and the entry is reported as superseded. The check and
 *    the rename are two steps: a writer that lands between them still loses (documented);
 *  - a staged file or a backup is used only when lstat says it is a regular file: recovery never
 *    moves a symlink (or anything else planted in a staging dir) into the root;
 *  - missing parent directories are created; every component is checked with lstat to be a real
 *    directory, never a symlink, so a journal (forged or stale) cannot lead outside the root.
 *
 * The directories the journal lists are created first, and their parents fsynced, before any
 * rename: a rename into a new directory must never be durable while the directory is not (the
 * staged file would be gone from files/ and its new name unreachable). Then each changed
 * directory is fsynced once: target parents and files/ (which lost the renamed entries; a rename
 * is only durable once both of its directories are).
 *
 * Entries are applied up to `concurrency` at a time. That needs no order between them: a journal
 * written by commit names each target once, so every entry touches only its own files/<n>, its own
 * target and its own backup/<i>, and each step above decides from those alone whether it is done.
 * A crash therefore leaves some subset of entries applied (not necessarily a prefix), and the next
 * run finishes the rest; rollBack likewise judges each entry by its own target. Nothing becomes
 * durable in between: the directory fsyncs still follow the last rename. A journal that names one
 * file twice (only a forged one can; or two spellings of one name on a case-insensitive
 * filesystem) is applied one entry at a time, in order; a later entry then finds the file the earlier
 * one put there, not what it recorded, and leaves it (superseded).
 *
 * `rollBack` undoes in reverse order from backup/ and removes the directories the commit created
 * (each checked the same way first: never through a symlink). It moves back only a target that is
 * still the staged file this commit put there (inode and size), and restores a backup only to a
 * target this commit deleted and nobody re-created: a target someone changed after the apply
 * keeps that change, and is reported as superseded too.
 * It runs only behind a durable rollback marker, so a crash in the middle is finished by recovery
 * in the same direction.
 *
 * Cost: an lstat (the rule above) and a rename per write, two lstats per delete, two lstats per
 * distinct parent directory (a check of the whole journal first, then the apply), one fsync per
 * distinct changed directory, plus one per distinct parent of a created directory; the renames
 * overlap, so the wall time is a fraction of their sum.
 */
import * as path from 'node:path';
import * as fs from '../io/fs.js';
import { codes, errnoOf, TxnError } from '../errors.js';
import { step } from '../io/faults.js';
import { syncDirs } from '../io/durable.js';
import { eachLimit } from '../io/limit.js';
import type { Journal, JournalEntry } from './journal.js';
import { looseKey } from '../transaction/casefold.js';
import { sameAsCopy } from '../platform/ino-trust.js';
import { backupDir, backupFile, filesDir, stagedFile } from './layout.js';
import { lstatIfPresentStrict } from '../io/if-present.js';
import { removeDirs, restoreDirs } from './tree-apply.js';

export interface ApplyContext {
  /** The real root. */
  readonly root: string;
  readonly staging: string;
  readonly journal: Journal;
  /** fsync changed directories (durability 'full'). */
  readonly durable: boolean;
  readonly concurrency: number;
  /** Called after each entry, e.g. for a progress bar. */
  readonly onProgress?: ((done: number, total: number) => void) | undefined;
  /**
   * The first and only apply of a live commit: every staged file must still be there. A missing
   * one means another process's recovery discarded this transaction while its owner was stalled,
   * so "already applied" would be a lie that makes the commit resolve with nothing written.
   */
  readonly live?: boolean | undefined;
  /**
   * The caller knows that no two entries can name one file: a live commit whose targets are
   * distinct strings that are each their own `looseKey` (casefold.ts). Spares the check below,
   * a set of every target, for 10,000 entries at a time.
   */
  readonly distinct?: boolean | undefined;
}

export interface ApplyOutcome {
  /** Entries whose change was made by this run. */
  readonly changed: number;
  /** Entries found already done (a re-run after a crash) or with nothing to do. */
  readonly unchanged: number;
  /**
   * Targets left alone because someone else changed them after the commit point (rolling
   * forward) or after the apply (rolling back): the newer version stands.
   */
  readonly superseded: string[];
}

function parentOf(rel: string): string {
  const slash = rel.lastIndexOf('/');
  return slash === -1 ? '' : rel.slice(0, slash);
}

function absOf(root: string, rel: string): string {
  if (rel === '') return root;
  // `root` is a realpath and `rel` a clean '/'-joined relative path (checked when the journal was
  // decoded or planned), so on POSIX concatenation is what path.join would return, without its
  // split, spread and normalisation for every entry.
  if (path.sep === '/') return root === '/' ? `/${rel}` : `${root}/${rel}`;
  return path.join(root, ...rel.split('/'));
}


function staleStaging(p: string, what: string, kind: string): TxnError {
  return new TxnError(
    codes.ECORRUPT,
    `'${p}' should be ${what} made by txnfs, but it is a ${kind}; txnfs never moves anything else into the root. Leave it for a person: inspect the staging directory, then remove it by hand.`,
    { path: p },
  );
}

/** The error a live apply fails with when its staged file is gone (as rename(2) would). */
function stagedGone(p: string): NodeJS.ErrnoException {
  const err = new Error(`ENOENT: no such file or directory, rename '${p}'`) as NodeJS.ErrnoException;
  err.code = 'ENOENT';
  err.syscall = 'rename';
  err.path = p;
  return err;
}

/** A staged file or backup: undefined when absent; refused when it is not a regular file. */
async function ownFile(p: string, what: string): Promise<fs.Info | undefined> {
  const info = await lstatIfPresentStrict(p);
  if (info !== undefined && info.kind !== 'file') throw staleStaging(p, what, info.kind === 'symlink' ? 'symlink' : info.kind === 'dir' ? 'directory' : 'special file');
  return info;
}

/** Whether `info` is the file an entry recorded at the commit point (see the header). */
export function isOriginal(e: JournalEntry, info: fs.Info | undefined): boolean {
  if (info?.kind !== 'file' || String(info.ino) !== e.ino) return false;
  // Absent in a version 1 journal: only the inode (pinned by the backup link) can be checked.
  if (e.size != null && info.size !== e.size) return false;
  return e.mtimeNs == null || String(info.mtimeNs) === e.mtimeNs;
}

/** Whether `info` is the staged file an entry put at its target (rollBack, and a re-run). */
export function isStaged(e: JournalEntry, info: fs.Info | undefined): boolean {
  return info?.kind === 'file' && String(info.ino) === e.stagedIno && (e.stagedSize == null || info.size === e.stagedSize);
}

/**
 * Whether the target of entry `i` is still what it was at the commit point: absent for a new
 * file; otherwise the original, with its backup in place (a link to the same inode, or a copy).
 */
function unchangedSinceCommit(staging: string, e: JournalEntry, i: number, target: fs.Info | undefined, abs: string): boolean | Promise<boolean> {
  // A new file's answer needs no call: given as it is, not as the promise of an async function
  // (made per new file, in the young generation, in a commit of 10,000 files).
  if (!e.existed) return target === undefined;
  return originalUnchanged(staging, e, i, target, abs);
}

async function originalUnchanged(staging: string, e: JournalEntry, i: number, target: fs.Info | undefined, abs: string): Promise<boolean> {
  // Another number, but a copy backup to compare with (where numbers do not name files): ino-trust.ts.
  if (!isOriginal(e, target)) return e.backup === 'copy' && (await sameAsCopy(e, target, abs, backupFile(staging, i)));
  const backup = await ownFile(backupFile(staging, i), 'a backup');
  if (backup === undefined) return false;
  return e.backup === 'copy' || String(backup.ino) === e.ino;
}

/** Checks (and creates) parent directories, component by component, never through a symlink. */
class DirGuard {
  readonly #root: string;
  readonly #known = new Map<string, Promise<boolean>>();

  constructor(root: string) {
    this.#root = root;
  }

  /** True when `rel` is (now) a real directory inside the root; false when missing and `create` is off. */
  ensure(rel: string, create: boolean): Promise<boolean> {
    if (rel === '') return Promise.resolve(true);
    const key = `${create ? '+' : '-'}${rel}`;
    let p = this.#known.get(key);
    if (p === undefined) {
      p = this.#check(rel, create);
      this.#known.set(key, p);
    }
    return p;
  }

  async #check(rel: string, create: boolean): Promise<boolean> {
    if (!(await this.ensure(parentOf(rel), create))) return false;
    const abs = absOf(this.#root, rel);
    let info = await lstatIfPresentStrict(abs);
    if (info === undefined) {
      if (!create) return false;
      try {
        await fs.mkdir(abs);
        return true;
      } catch (err) {
        if (errnoOf(err) !== 'EEXIST') throw err;
        info = await fs.lstat(abs);
      }
    }
    if (info.kind !== 'dir') {
      throw new TxnError(
        codes.ETARGET,
        `'${rel}' must be a directory inside the root, but it is now a ${info.kind === 'symlink' ? 'symlink' : 'file'}; txnfs will not follow or replace it. Move it away, then retry (recover() finishes a transaction left half-done).`,
        { path: abs },
      );
    }
    return true;
  }
}

/**
 * Whether every entry names a different file, even on a case- or normalisation-insensitive
 * filesystem. The key over-approximates case folding (upper then lower case, compatibility
 * decomposition), so a false "same" only costs speed, never order.
 */
function distinctTargets(journal: Journal): boolean {
  const seen = new Set<string>();
  for (const e of journal.entries) {
    const key = looseKey(e.target);
    if (seen.has(key)) return false;
    seen.add(key);
  }
  return true;
}

/** Apply `journal` forward. Idempotent; entries in any order (see the header). */
export async function rollForward(ctx: ApplyContext): Promise<ApplyOutcome> {
  const { root, staging, journal } = ctx;
  const guard = new DirGuard(root);
  let changed = 0;
  let unchanged = 0;
  let done = 0;
  const total = journal.entries.length;
  // Check every path of the journal before changing anything: a journal that leads through a
  // symlink or a file (forged, or the root changed under it) is refused whole, instead of being
  // applied up to that entry and leaving the root mixed while a person looks at it.
  for (const d of journal.dirs) await guard.ensure(d, false);
  for (const e of journal.entries) await guard.ensure(parentOf(e.target), false);
  // Every directory the commit planned is created, even one no remaining entry needs, so the
  // directory set after a roll-forward never depends on where a crash cut the previous run; and
  // made durable in its parent before anything is renamed into it. Otherwise a power loss can keep
  // a rename into new/dir/ (files/<n> is gone) and lose the mkdir of new/: the data is unreachable,
  // and a recovery would count the entry as applied.
  for (const d of journal.dirs) await guard.ensure(d, true);
  if (ctx.durable && journal.dirs.length > 0) await syncDirs(new Set(journal.dirs.map((d) => absOf(root, parentOf(d)))), ctx.concurrency);
  const width = ctx.distinct === true || distinctTargets(journal) ? ctx.concurrency : 1;
  const superseded: string[] = [];
  await eachLimit(journal.entries, width, async (e, i) => {
    await guard.ensure(parentOf(e.target), true);
    const target = absOf(root, e.target);
    if (e.op === 'write') {
      const staged = stagedFile(staging, e.staged);
      // A live commit made files/ itself, moments ago, in a staging dir only its owner may write:
      // its lstat is spared. Recovery checks every staged file before it moves it.
      const stagedInfo = ctx.live === true ? undefined : await ownFile(staged, 'a staged file');
      if (ctx.live !== true && stagedInfo === undefined) {
        // files/<n> is gone: this entry was applied before a crash.
        unchanged++;
      } else {
        const now = await lstatIfPresentStrict(target);
        if (ctx.live !== true && isStaged(e, now)) {
          // Applied, and files/<n> is a second name of it (a power loss kept the new entry of the
          // rename but not the removal of the old one): nothing to do.
          unchanged++;
        } else if (!(await unchangedSinceCommit(staging, e, i, now, target))) {
          // In a live commit, a target that changed because another process's recovery applied
          // this very journal (this one stalled past lockStale) is not someone else's newer
          // write: files/<n> is gone then, and the commit must fail as taken over, not resolve.
          if (ctx.live === true && (await lstatIfPresentStrict(staged)) === undefined) throw stagedGone(staged);
          superseded.push(e.target);
        } else {
          try {
            // Frees nothing where the original keeps its backup link (inline.ts may run it inline).
            await fs.rename(staged, target, e.existed && e.backup === 'copy' ? (e.size ?? Infinity) : 0);
            changed++;
          } catch (err) {
            // ENOENT because files/<n> is gone means this entry was applied meanwhile (never in a
            // live commit, which applies once).
            if (errnoOf(err) !== 'ENOENT' || ctx.live === true || (await lstatIfPresentStrict(staged)) !== undefined) throw err;
            unchanged++;
          }
        }
      }
    } else {
      const info = await lstatIfPresentStrict(target);
      if (info === undefined) {
        unchanged++; // removed already (by this entry before a crash, or by someone else)
      } else if (!(await unchangedSinceCommit(staging, e, i, info, target))) {
        superseded.push(e.target);
      } else {
        try {
          await fs.unlink(target);
          changed++;
        } catch (err) {
          if (errnoOf(err) !== 'ENOENT') throw err;
          unchanged++;
        }
      }
    }
    step(`applied:${i}`);
    ctx.onProgress?.(++done, total);
  });
  // Directories tx.removeTree/emptyDir remove, once their files are gone (children first).
  const rmdirParents = await removeDirs(root, journal.rmdirs);
  step('applied');
  if (ctx.durable) {
    const dirs = new Set<string>(rmdirParents);
    for (const e of journal.entries) dirs.add(absOf(root, parentOf(e.target)));
    dirs.add(filesDir(staging));
    // A directory that is gone has nothing left to make durable. files/ is gone when a cleanup was
    // cut short and a filesystem that reorders entry changes within a directory kept its removal
    // but not the journal's unlink: every rename out of it was durable before cleanup began, so
    // this journal is fully applied and must not fail into a rollback.
    await syncDirs(dirs, ctx.concurrency, true);
  }
  return { changed, unchanged, superseded };
}

/** Undo `journal`, newest entry first, from backup/. Idempotent. */
export async function rollBack(ctx: ApplyContext): Promise<ApplyOutcome> {
  const { root, staging, journal } = ctx;
  const guard = new DirGuard(root);
  let changed = 0;
  let unchanged = 0;
  const superseded: string[] = [];
  const total = journal.entries.length;
  // Re-create the directories tx.removeTree/emptyDir removed before files go back into them.
  const restoredParents = await restoreDirs(root, journal.rmdirs);
  // Durable before a backup is renamed into them: else a power loss can keep the rename (the
  // backup is gone) and lose the mkdir, and the original is unreachable.
  if (ctx.durable && restoredParents.length > 0) await syncDirs(restoredParents, ctx.concurrency);
  for (let i = journal.entries.length - 1; i >= 0; i--) {
    const e = journal.entries.at(i);
    if (e === undefined) continue;
    if (!(await guard.ensure(parentOf(e.target), false))) {
      unchanged++;
      continue;
    }
    const target = absOf(root, e.target);
    const backup = backupFile(staging, i);
    const info = await lstatIfPresentStrict(target);
    if (e.op === 'write' && isStaged(e, info)) {
      // Applied, and nobody changed it since: put the original back, or move the new file out.
      if (e.existed && (await ownFile(backup, 'a backup')) === undefined) {
        superseded.push(e.target); // no original to put back (only a damaged staging dir)
      } else {
        await fs.rename(e.existed ? backup : target, e.existed ? target : stagedFile(staging, e.staged));
        changed++;
      }
    } else if (e.op === 'delete' && info === undefined && (await ownFile(backup, 'a backup')) !== undefined) {
      // Deleted by this commit and not re-created since: restore the original from its backup.
      await fs.rename(backup, target);
      changed++;
    } else if (info !== undefined && !(e.existed && isOriginal(e, info))) {
      // Someone else's version is there (written after the apply, or before it, when the entry
      // was superseded): it stands.
      superseded.push(e.target);
      unchanged++;
    } else {
      unchanged++;
    }
    ctx.onProgress?.(total - i, total);
  }
  for (const d of [...journal.dirs].reverse()) {
    // Only a real directory reached through real directories: rmdir follows a symlink in the
    // parent chain, so a forged or stale journal could otherwise remove an empty directory
    // outside the root.
    const parentIsReal = await guard.ensure(parentOf(d), false).catch(() => false);
    if (!parentIsReal || (await lstatIfPresentStrict(absOf(root, d)))?.kind !== 'dir') continue;
    try {
      await fs.rmdir(absOf(root, d));
    } catch (err) {
      // Gone already (a re-run), or holding something that is not ours: leave it.
      const code = errnoOf(err);
      if (code !== 'ENOENT' && code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOTDIR') throw err;
    }
  }
  if (ctx.durable) {
    const dirs = new Set<string>();
    for (const e of journal.entries) dirs.add(absOf(root, parentOf(e.target)));
    for (const d of journal.dirs) dirs.add(absOf(root, parentOf(d)));
    for (const p of restoredParents) dirs.add(p);
    dirs.add(filesDir(staging));
    dirs.add(backupDir(staging));
    // A directory removed above cannot be opened (ENOENT is skipped); its parent's fsync covers
    // its removal.
    await syncDirs(dirs, ctx.concurrency, true);
  }
  return { changed, unchanged, superseded };
}
