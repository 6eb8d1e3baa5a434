/**
 * update.ts: `update`, a read-modify-write of one file under a lock.
 *
 * Two processes that each read a JSON state file, change it and write it back lose one of the two
 * changes unless the read and the write are one step. update() makes them one: it takes a lock on
 * the file (a proper-lockfile lock directory `<dir>/.txnfs/.upd-<hash>.lock`, through lock.ts, with
 * the owner identity that lets a dead holder's lock be reclaimed at once), reads the file, calls
 * `fn`, writes the result atomically as writeFile does, checks right before the rename that the
 * lock is still ours (a holder that stalled past `lockStale` may have lost it), and releases it.
 *
 * The lock excludes other update() calls only: a plain writeFile of the same file from another
 * process can still land between the read and the write. Use update() for every writer of a file
 * that is read-modified-written. In this process, update() and writeFile share the per-path queue,
 * so they never interleave.
 *
 * Cost: the lock (mkdir, an owner file, a rename and a removal at release) plus a read, on top of
 * a writeFile.
 */
import * as path from 'node:path';
import { badArgument, codes, errnoOf, TxnError } from '../errors.js';
import type { Source, WriteData } from '../transaction/data.js';
import { refuseCallback, resolveFileOptions, updateKeys, type ResolvedFileOptions, type UpdateOptions } from '../options/file-options.js';
import { encodedSource, fileError, fill } from './file.js';
import { readFileIfPresent } from '../io/if-present.js';
import { HOME_NAME } from '../protocol/layout.js';
import { inHome, removeHomeIfEmpty } from '../protocol/home.js';
import { acquire, type HeldLock } from '../protocol/lock.js';
import { updateLockName } from './orphans.js';
import { fileQueue } from './queue.js';
import { removeCreatedDirs, TempFile, type MadeSoFar, type WriteFileResult } from './replace.js';
import { checkFilePath, existingAncestor, makeDirs, makeHome, resolveTarget } from './target.js';

/** What {@link update} did. */
export interface UpdateResult extends WriteFileResult {
  /** False when `fn` returned undefined: the file was left as it was. */
  readonly changed: boolean;
}

/** The function {@link update} calls with the current content (undefined when there is no file). */
export type UpdateFn = (current: Buffer | undefined) => WriteData | undefined | Promise<WriteData | undefined>;

/** Make sure a `.txnfs/` exists to hold the lock; create the parents first with `mkdirs`. */
async function prepareHome(dir: string, o: ResolvedFileOptions): Promise<{ homeDir: string; made: MadeSoFar }> {
  try {
    await makeHome(dir, false); // a lock's home need not survive a power loss (see replace.ts)
    return { homeDir: dir, made: { created: [], parents: [] } };
  } catch (err) {
    if (errnoOf(err) !== 'ENOENT') throw err;
    if (!o.mkdirs) {
      throw new TxnError(codes.EFS, `Cannot update a file in '${dir}': the directory does not exist. Create it first, or pass { mkdirs: true }.`, { path: dir, cause: err });
    }
  }
  if (o.dryRun) {
    const homeDir = await existingAncestor(dir);
    await makeHome(homeDir, false);
    return { homeDir, made: { created: [], parents: [] } };
  }
  const made = await makeDirs(dir);
  await makeHome(dir, false);
  return { homeDir: dir, made };
}

async function readCurrent(p: string): Promise<Buffer | undefined> {
  try {
    return await readFileIfPresent(p);
  } catch (err) {
    throw new TxnError(codes.EFS, `Cannot read '${p}' to update it: ${(err as Error).message}. The file is untouched; fix the cause (see err.cause) and retry.`, { path: p, cause: err });
  }
}

/** Carries an error of the caller's `fn` past the wrapping of txnfs's own errors. */
class PassThrough {
  constructor(readonly error: unknown) {}
}

async function updateInTurn(abs: string, fn: UpdateFn, o: ResolvedFileOptions): Promise<UpdateResult> {
  const signal = o.common.signal;
  let made: MadeSoFar = { created: [], parents: [] };
  let lock: HeldLock | undefined;
  let home: string | undefined;
  let landed = false;
  try {
    signal?.throwIfAborted();
    const first = await resolveTarget(abs);
    let homeDir: string | undefined;
    // The lock lives in the home, which another writer may remove (empty) before the lock is in
    // it: inHome makes it again (home.ts). Only the first preparation creates directories.
    lock = await inHome(
      async () => {
        const prepared = await prepareHome(path.dirname(first.path), o);
        if (homeDir === undefined) made = prepared.made;
        homeDir = prepared.homeDir;
      },
      () => acquire(path.join(homeDir ?? '', HOME_NAME, updateLockName(path.basename(first.path))), o.common.timing, { wait: true, signal, what: 'update lock' }),
    );
    home = path.join(homeDir ?? '', HOME_NAME);
    // The file as it is now that the lock is ours: another update() may have replaced it meanwhile.
    const target = await resolveTarget(first.path);
    if (target.path !== first.path) {
      throw new TxnError(codes.ETARGET, `'${first.path}' became a symlink while update() waited for its lock; it was not changed. Check what replaced it, then update again.`, { path: first.path });
    }
    const current = await readCurrent(target.path);
    let next: WriteData | undefined;
    let source: Source;
    try {
      next = await fn(current);
      if (next === undefined) {
        landed = true;
        return { path: target.path, bytes: current?.length ?? 0, created: false, dryRun: o.dryRun, changed: false };
      }
      source = encodedSource(next, o.encoding); // a TypeError for a value of the wrong type
    } catch (err) {
      throw new PassThrough(err);
    }
    const temp = await TempFile.open(target, o, made);
    try {
      await fill(temp, source, o, target.path);
    } catch (err) {
      await temp.discard();
      throw err;
    }
    const heldLock = lock;
    const result = await temp.commit(target.existing, () => heldLock.verify());
    landed = true;
    return { ...result, changed: true };
  } catch (err) {
    // fn's own error reaches the caller as it is; fs and lock failures as TxnErrors.
    throw err instanceof PassThrough ? err.error : fileError(err, abs, signal);
  } finally {
    await lock?.release().catch(() => undefined);
    // After the lock is gone, so its directory no longer keeps `.txnfs/` from being removed.
    if (home !== undefined) await removeHomeIfEmpty(home);
    if (!landed) await removeCreatedDirs(made.created);
  }
}

/**
 * Read-modify-write the file at `path` under a lock, so that concurrent update() calls (in this
 * process or others, on this host or sharing the directory over a network filesystem) never lose
 * each other's change. `fn` receives the current content (undefined when the file does not exist)
 * and returns the new content (anything `writeFile` takes), or `undefined` to leave the file as it
 * is. The new content is written atomically, as writeFile does.
 *
 * An error thrown by `fn` rejects update() as it is, and the file is untouched. Rejects with
 * `ELOCKED` when another process holds the lock for longer than `lockTimeout`, `ECOMPROMISED`
 * when the lock was taken over before the rename, and otherwise with the codes of writeFile.
 *
 * @example
 * ```ts
 * await update('state.json', (old) => {
 *   const state = old === undefined ? { runs: 0 } : JSON.parse(old.toString('utf8'));
 *   state.runs++;
 *   return JSON.stringify(state);
 * });
 * ```
 */
export async function update(path: string | URL, fn: UpdateFn, options?: UpdateOptions): Promise<UpdateResult> {
  refuseCallback('update', arguments, 3);
  const abs = checkFilePath(path);
  if (typeof fn !== 'function') throw badArgument('fn', 'a function', fn);
  const { resolved } = resolveFileOptions(options, updateKeys);
  return fileQueue.run(abs, () => updateInTurn(abs, fn, resolved));
}
