/**
 * replace.ts: replace one file atomically (the engine behind writeFile, writeJson,
 * createWriteStream and update).
 *
 * The algorithm, for a target `<dir>/<name>` (after following symlinks, see target.ts):
 *
 *   1. create `<dir>/.txnfs/.tmp-<writer>` with O_CREAT|O_EXCL, mode = the final mode (so the temp
 *      is never readable by more people than the file will be); a missing `.txnfs/` or parent is
 *      created on ENOENT only, so a write into an existing directory pays no stat or mkdir;
 *   2. write every byte (`writeAll` loops over short writes: a truncated file is never shipped);
 *   3. fchown (root keeps the old owner), then fchmod (chown clears set-id bits, so it goes first);
 *   4. fsync the temp (durability 'full'): its data and inode must be on disk before any name
 *      points at it, or a power loss could leave the target naming an empty or partial file;
 *   5. close; check the AbortSignal (and, for update(), that the lock is still ours) one last time;
 *   6. rename(temp, target): the commit point. With `exclusive`, link(temp, target) instead, which
 *      fails with EEXIST if anything appeared there, so nothing is ever overwritten;
 *   7. fsync `<dir>` (durability 'full'), and the parent of every directory `mkdirs` created: a
 *      rename is durable only once the directory holding the new name is (write-file-atomic never
 *      does this). `.txnfs/`, which lost the temp's name, is not fsynced: if the old name comes
 *      back after a power loss it is a second link to the new file (or a stale temp), and
 *      recover(dir) removes it; the target is right either way.
 *
 * Why the temp lives in `<dir>/.txnfs/` and not next to the target: recover(dir) must find a dead
 * writer's temp without listing `<dir>` (which may hold 100,000 files; recovery reads only
 * `.txnfs/`), and the temp name must carry its writer's identity (tempname.ts), not the target's
 * name, so it stays short (eCryptfs allows 143 bytes). `.txnfs/` is a subdirectory of `<dir>`, so
 * the rename stays on one filesystem and is atomic. It exists only while a write needs it: each
 * write makes it (mkdir, not fsynced: neither it nor the temp's name is ever promised) and removes
 * it once empty, before the fsync of `<dir>` (home.ts: why that rmdir is safe against racing
 * writers, and why a writer whose home vanished makes it again).
 *
 * Why this is not a one-entry Transaction: for a single file, rename(2) is itself an atomic commit
 * point, so there is nothing to journal and nothing to roll forward. A Transaction would add an
 * owner lock, a staging dir, a journal (write, fsync, rename, fsync), the root lock, a backup link
 * and their removal: 75 filesystem calls and 11 fsyncs, counted through the seam (reads included)
 * for a one-file commit, against 14 calls and 2 fsyncs here. What the two share is everything below the protocol:
 * `writeAll` and `syncDirs` (durable.ts), `ensureHome` (staging.ts, inside makeHome), the name
 * checks (paths.ts), the process identity (identity.ts), the lock (lock.ts, for update()), the
 * error codes and the fs seam with its fault hook. And, as with transactions, the cleanup after a failed call and
 * recover() after a crash remove a temp with the same function (`unlinkIfPresent`, if-present.ts).
 *
 * Cost (durability 'full', existing directory): lstat, open (ENOENT: no home), mkdir + stat + chmod
 * of the home, open, write, fchown (root replacing a file), fchmod (an existing file or an explicit
 * mode), fsync, close, rename, rmdir of the home, and open+fsync+close of `<dir>`. No lock, no stat
 * of the parent, no realpath.
 */
import * as path from 'node:path';
import * as fs from '../io/fs.js';
import { codes, errnoOf, isTxnError, TxnError, type TxnErrorCode } from '../errors.js';
import { step } from '../io/faults.js';
import { syncDirs, writeAll } from '../io/durable.js';
import { HOME_NAME } from '../protocol/layout.js';
import { existingAncestor, makeDirs, makeHome, type Target } from './target.js';
import { tempName } from './tempname.js';
import { keepFresh } from './heartbeat.js';
import { unlinkIfPresent } from '../io/if-present.js';
import { setMode } from '../platform/no-modes.js';
import { HOME_RETRIES, likelyGone, removeHomeIfEmpty } from '../protocol/home.js';
import type { Owner, ResolvedFileOptions } from '../options/file-options.js';

/** What a single-file write did. */
export interface WriteFileResult {
  /** The file written: absolute, after following symlinks (a dry run names the file it would write). */
  readonly path: string;
  /** Bytes of new content. */
  readonly bytes: number;
  /** True when the file did not exist before. */
  readonly created: boolean;
  /** True for a dry run: nothing was renamed, the file is untouched. */
  readonly dryRun: boolean;
}

const noop = (): void => undefined;

/** Most attempts to create a temp file (a collision, or a directory removed under us, retries). */
const CREATE_ATTEMPTS = 8;

// chown errors that mean "this filesystem has no owners" (vfat, exFAT, some FUSE mounts); the
// same set graceful-fs and write-file-atomic tolerate. Tolerated only when keeping an owner.
const NO_OWNERS = new Set(['ENOSYS', 'EINVAL', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP']);

function fail(code: TxnErrorCode, message: string, target: string, cause: unknown): TxnError {
  return new TxnError(code, `${message}: ${(cause as Error)?.message ?? String(cause)}. The file is untouched; fix the cause (see err.cause) and retry.`, { path: target, cause });
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** A temp file on its way to replacing a target. Create with {@link TempFile.open}. */
export class TempFile {
  readonly #target: string;
  readonly #o: ResolvedFileOptions;
  readonly #path: string;
  readonly #created: readonly string[];
  readonly #syncParents: readonly string[];
  readonly #stopHeartbeat: () => void;
  #handle: fs.Handle | undefined;
  #bytes = 0;
  #state: 'open' | 'renamed' | 'discarded' = 'open';

  private constructor(target: string, o: ResolvedFileOptions, tempPath: string, handle: fs.Handle, created: readonly string[], syncParents: readonly string[], stopHeartbeat: () => void) {
    this.#target = target;
    this.#o = o;
    this.#path = tempPath;
    this.#handle = handle;
    this.#created = created;
    this.#syncParents = syncParents;
    this.#stopHeartbeat = stopHeartbeat;
  }

  /**
   * Create the temp file for `target` in `<dir>/.txnfs/`, creating `.txnfs/` (and, with `mkdirs`,
   * the parents) only when the first attempt finds them missing.
   */
  static async open(target: Target, o: ResolvedFileOptions, made: MadeSoFar = { created: [], parents: [] }): Promise<TempFile> {
    const dir = path.dirname(target.path);
    // Created with its final permission bits (the umask can only narrow them), so the temp is never
    // more readable than the file will be; fchmod sets them exactly before the rename.
    const mode = (o.mode ?? target.existing?.mode ?? 0o666) & 0o777;
    let homeDir = dir;
    const created = [...made.created];
    const parents = [...made.parents];
    let lastError: unknown;
    let homeMade = false;
    let vanished = 0;
    // `.txnfs/` or the directory itself is missing (or not a directory): make it, and with `mkdirs`
    // the directory. Not fsynced (durable = false): neither the home nor the temp's name in it is
    // ever promised to survive a power loss; the new content is, and the fsync of the target's
    // directory after the rename makes its name durable (and the home's removal with it).
    const makeTheHome = async (): Promise<void> => {
      try {
        await makeHome(homeDir, false);
        homeMade = true;
      } catch (err) {
        if (isTxnError(err)) throw err; // '.txnfs' exists and is not a directory
        const code = errnoOf(err);
        if (code === 'ENOTDIR') {
          throw new TxnError(codes.ETARGET, `Cannot write '${target.path}': a part of its directory path is a file. Remove or rename that file, or pick another path.`, { path: target.path, cause: err });
        }
        if (code !== 'ENOENT') throw fail(codes.EFS, `Cannot create '${path.join(homeDir, HOME_NAME)}' for the temp file of '${target.path}'`, target.path, err);
        if (!o.mkdirs) {
          throw new TxnError(codes.EFS, `Cannot write '${target.path}': its directory '${dir}' does not exist. Create it first, or pass { mkdirs: true }.`, { path: target.path, cause: err });
        }
        if (o.dryRun) {
          // A dry run creates no directory: its temp goes to the nearest directory that exists.
          homeDir = await existingAncestor(dir);
        } else {
          const result = await makeDirs(dir);
          created.push(...result.created);
          parents.push(...result.parents);
        }
      }
    };
    // No litter: a home this process removed last, or has never seen, is most likely gone (a
    // directory at rest has none), so it is made first rather than after a create that fails
    // with ENOENT (home.ts, `likelyGone`). Where another writer holds it, the mkdir fails with
    // EEXIST and the home is checked as found.
    if (likelyGone(path.join(dir, HOME_NAME))) await makeTheHome();
    for (let attempt = 0; attempt < CREATE_ATTEMPTS; attempt++) {
      const tempPath = path.join(homeDir, HOME_NAME, tempName());
      // Registered before it exists: a recover() in this thread never takes it for abandoned.
      const stop = keepFresh(tempPath);
      try {
        const handle = await fs.create(tempPath, mode);
        step('file:created');
        return new TempFile(target.path, o, tempPath, handle, created, parents, stop);
      } catch (err) {
        stop();
        lastError = err;
        const code = errnoOf(err);
        if (code === 'EEXIST') continue; // another copy of txnfs in this thread had this name: take the next
        if (code !== 'ENOENT' && code !== 'ENOTDIR') throw fail(codes.EFS, `Cannot create a temp file for '${target.path}' in '${path.dirname(tempPath)}'`, target.path, err);
        // The home this call just made is gone again: another writer finished and removed it,
        // empty (home.ts). That is no name collision, so it does not use up an attempt.
        if (homeMade && code === 'ENOENT' && vanished++ < HOME_RETRIES) attempt--;
      }
      await makeTheHome();
    }
    throw fail(codes.EFS, `Cannot create a temp file for '${target.path}' after ${CREATE_ATTEMPTS} attempts`, target.path, lastError);
  }

  /** Append `data` to the temp file, all of it or fail. */
  async write(data: Uint8Array): Promise<void> {
    const handle = this.#handle;
    if (handle === undefined || this.#state !== 'open') throw new TxnError(codes.ESTATE, `The temp file of '${this.#target}' is closed: this write already ended or was abandoned. Start a new write.`, { path: this.#target });
    try {
      await writeAll(handle, data);
    } catch (err) {
      throw fail(codes.ESTAGE, `Writing the new content of '${this.#target}' failed`, this.#target, err);
    }
    this.#bytes += data.length;
  }

  /**
   * Make the temp file the target (steps 3-7). `existing` is the target as it is now (its mode and
   * owner are kept); `beforeRename` runs after the last check of the signal, right before the
   * commit point. Discards the temp on any failure before the rename.
   */
  async commit(existing: fs.Info | undefined, beforeRename?: () => Promise<void>): Promise<WriteFileResult> {
    const o = this.#o;
    const target = this.#target;
    try {
      const handle = this.#handle;
      if (handle === undefined || this.#state !== 'open') throw new TxnError(codes.ESTATE, `The temp file of '${target}' is closed: this write already ended or was abandoned. Start a new write.`, { path: target });
      await this.#setOwnerAndMode(handle, existing);
      try {
        // fsync before the rename: once a name points at this inode, its data must already be durable.
        if (o.common.durable) await handle.sync();
        step('file:synced');
        this.#handle = undefined;
        // close(2) can report a deferred write error (NFS): it must succeed before the rename.
        await handle.close();
      } catch (err) {
        throw fail(codes.ESTAGE, `Writing the new content of '${target}' failed`, target, err);
      }
      o.common.signal?.throwIfAborted(); // the last moment an abort can still win
      await beforeRename?.();
      if (o.dryRun) {
        await this.discard();
        return { path: target, bytes: this.#bytes, created: existing === undefined, dryRun: true };
      }
      await this.#rename(target);
    } catch (err) {
      await this.discard();
      if (isTxnError(err)) throw err;
      if (o.common.signal?.aborted === true && err === o.common.signal.reason) {
        throw new TxnError(codes.EABORTED, `The write of '${target}' was aborted by its AbortSignal; the file is untouched. Write it again if it is still wanted.`, { path: target, cause: err });
      }
      throw fail(codes.EFS, `Replacing '${target}' failed`, target, err);
    }
    this.#stopHeartbeat();
    step('file:renamed');
    try {
      // No litter (home.ts): the home goes once empty, before the directory fsync, which then
      // makes its removal durable too. After a link (exclusive) the temp is a second name of the
      // new file: it goes first. If that fails, recover() removes it (abandoned by this thread: orphans.ts).
      if (o.exclusive) await fs.unlink(this.#path).catch(noop);
      await removeHomeIfEmpty(path.dirname(this.#path));
      if (o.common.durable) {
        // The new name is durable only once its directory is; new directories need their parents.
        await syncDirs([path.dirname(target), ...this.#syncParents], 4);
      }
    } catch (err) {
      throw new TxnError(
        codes.ENOTDURABLE,
        `'${target}' was replaced, but fsync of its directory failed (${(err as Error).message}), so the new content may not survive a power loss. Write it again once the cause is fixed.`,
        { path: target, cause: err },
      );
    }
    step('file:done');
    return { path: target, bytes: this.#bytes, created: existing === undefined, dryRun: false };
  }

  async #setOwnerAndMode(handle: fs.Handle, existing: fs.Info | undefined): Promise<void> {
    const o = this.#o;
    let owner: Owner | undefined;
    let tolerant = false;
    if (typeof o.chown === 'object') owner = o.chown;
    else if (o.chown && existing !== undefined && isRoot()) {
      owner = { uid: existing.uid, gid: existing.gid };
      tolerant = true;
    }
    try {
      if (owner !== undefined) {
        try {
          await handle.chown(owner.uid, owner.gid);
        } catch (err) {
          if (!tolerant || !NO_OWNERS.has(errnoOf(err) ?? '')) throw err;
        }
      }
      // Exact bits: the umask narrowed them at create, and a chown cleared any set-id bits.
      const mode = o.mode ?? existing?.mode;
      // Skipped where the filesystem has no modes (FAT): no-modes.ts.
      if (mode !== undefined) await setMode(path.dirname(this.#target), () => handle.chmod(mode));
    } catch (err) {
      throw fail(codes.EFS, `Setting the owner or mode of the new content of '${this.#target}' failed`, this.#target, err);
    }
  }

  async #rename(target: string): Promise<void> {
    try {
      if (this.#o.exclusive) await fs.link(this.#path, target);
      else await fs.rename(this.#path, target);
      this.#state = 'renamed';
    } catch (err) {
      const code = errnoOf(err);
      if (code === 'EEXIST' && this.#o.exclusive) {
        throw new TxnError(codes.EPRECONDITION, `'${target}' already exists and { exclusive: true } was given; it was not replaced. Remove it first, or write without exclusive to replace it.`, { path: target, cause: err });
      }
      if (code === 'EXDEV') {
        throw new TxnError(codes.ECROSSDEV, `Cannot rename the temp file into '${target}': '${path.dirname(this.#path)}' is on another filesystem (a mount point or a symlink). Remove it; txnfs recreates it as a plain directory.`, { path: target, cause: err });
      }
      if (code === 'EPERM' && this.#o.exclusive) {
        // link(2) is not supported here (vfat, some FUSE mounts): there is no other way to create
        // a file atomically without a window in which someone else's file could be replaced.
        throw fail(codes.EFS, `{ exclusive: true } needs hard links, which the filesystem of '${target}' does not support (write without exclusive there)`, target, err);
      }
      throw err;
    }
  }

  /**
   * Remove the temp file (unless it was renamed) and the directories this write created. Never
   * throws: what cannot be removed now, recover() removes (a temp this thread abandoned, at once: orphans.ts).
   */
  async discard(): Promise<void> {
    if (this.#state === 'discarded') return;
    const renamed = this.#state === 'renamed';
    this.#state = 'discarded';
    this.#stopHeartbeat();
    const handle = this.#handle;
    this.#handle = undefined;
    if (handle !== undefined) await handle.close().catch(noop);
    if (renamed) return;
    await unlinkIfPresent(this.#path).catch(noop);
    await removeHomeIfEmpty(path.dirname(this.#path));
    await removeCreatedDirs(this.#created);
  }
}

/** Directories created (and whose parents need an fsync) before the temp file existed, e.g. by update(). */
export interface MadeSoFar {
  readonly created: readonly string[];
  readonly parents: readonly string[];
}

/**
 * Remove directories a failed write created, deepest first, with the `.txnfs/` it made in each.
 * rmdir only: a directory someone else has put something in meanwhile stays. Never throws.
 */
export async function removeCreatedDirs(created: readonly string[]): Promise<void> {
  for (const dir of [...created].reverse()) {
    await fs.rmdir(path.join(dir, HOME_NAME)).catch(noop);
    await fs.rmdir(dir).catch(noop);
  }
}
