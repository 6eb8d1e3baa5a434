/**
 * target.ts: which file a single-file write replaces, and the directories it may create.
 *
 * Symlink policy: a write goes *through* a symlink to the file it names, as `fs.writeFile`, Python's
 * safer and write-file-atomic do. The link itself stays a link; the file it points to is replaced
 * atomically in its own directory (that is where the temp file is made, so the rename never
 * crosses a filesystem). A dangling link is followed too: the file it names is created, exactly as
 * `fs.writeFile` would (write-file-atomic instead replaces such a link with a regular file, because
 * its realpath fails). A chain of links is followed up to 40 hops (Linux's limit), then `EBADPATH`.
 *
 * `checkFilePath` is lexical and synchronous: empty paths, NUL bytes, a trailing separator, a
 * `.txnfs` component (txnfs's own records) and names longer than 255 bytes are refused before any
 * I/O. `resolveTarget` then costs one lstat for a plain path, plus an lstat and a readlink per
 * symlink hop. Parent directories are not resolved: the kernel resolves them the same way for the
 * temp file and the rename, so resolving them here would only cost syscalls.
 *
 * `makeDirs` creates missing parents for `mkdirs`, top-down, and reports which directories must be
 * fsynced for the new entries to be durable (the parent of each one it found missing).
 *
 * `makeHome` creates `<dir>/.txnfs/` for temp files with the permission bits and group of `<dir>`
 * itself: whoever may create a file in `<dir>` may create its temp there (a home made with the
 * first writer's umask would lock other users of a shared or sticky directory such as /tmp out).
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as fs from '../io/fs.js';
import type { Info } from '../io/fs.js';
import { badArgument, codes, errnoOf, TxnError } from '../errors.js';
import { syncDir } from '../io/durable.js';
import { HOME_NAME } from '../protocol/layout.js';
import { hasLoneSurrogate, isReserved, NAME_MAX, PATH_MAX } from '../transaction/paths.js';
import { ensureHome } from '../protocol/staging.js';
import { setMode } from '../platform/no-modes.js';
import { holdWriteDir, noteWriteDir } from '../platform/local-root.js';
import { HOME_RETRIES, isDir, usedHome } from '../protocol/home.js';

/** The file a write replaces. */
export interface Target {
  /** Absolute path of the file, after following symlinks at its last component. */
  readonly path: string;
  /** The file as it is now; undefined when it does not exist (yet). */
  readonly existing: Info | undefined;
}

/** Most symlinks followed before giving up (Linux's MAXSYMLINKS). */
export const MAX_SYMLINK_HOPS = 40;

function bad(message: string, p: string, cause?: unknown): TxnError {
  return new TxnError(codes.EBADPATH, message, cause === undefined ? { path: p } : { path: p, cause });
}

function errno(code: string, p: string): NodeJS.ErrnoException {
  const err = new Error(`${code}: '${p}'`) as NodeJS.ErrnoException;
  err.code = code;
  err.path = p;
  return err;
}

/** Lexical checks of an absolute path that is to be a file (no I/O). */
function checkAbsolute(abs: string, shown: string): void {
  const base = path.basename(abs);
  if (base === '' || path.dirname(abs) === abs) throw bad(`The path '${shown}' names a root directory, not a file. Pass the path of a file.`, shown);
  for (const part of abs.split(path.sep)) {
    if (isReserved(part)) {
      throw bad(`The path '${shown}' is inside a '${HOME_NAME}' directory, which txnfs reserves for its own records. Pick another name.`, shown);
    }
  }
  if (Buffer.byteLength(base) > NAME_MAX) {
    throw bad(`The file name in '${shown}' is longer than ${NAME_MAX} bytes. Use a shorter name.`, shown, errno('ENAMETOOLONG', abs));
  }
  if (Buffer.byteLength(abs) > PATH_MAX) {
    throw bad(`The path '${shown}' is longer than ${PATH_MAX} bytes once resolved. Use a shorter path.`, shown, errno('ENAMETOOLONG', abs));
  }
}

/**
 * Check a path argument (a string or a `file:` URL) and make it absolute, against the current
 * directory. TypeError for another type; TxnError `EBADPATH` for a path that cannot name a file.
 */
export function checkFilePath(input: unknown, argName = 'path'): string {
  let text: string;
  if (typeof input === 'string') text = input;
  else if (input instanceof URL) text = fileURLToPath(input);
  else throw badArgument(argName, 'a string or a file: URL', input);
  if (text.length === 0) throw bad('The path is empty. Pass the name of the file to write.', text);
  if (text.includes('\0')) throw bad(`The path ${JSON.stringify(text)} contains a NUL byte. Pass a path without one.`, text);
  if (hasLoneSurrogate(text)) throw bad(`The path ${JSON.stringify(text)} contains a lone UTF-16 surrogate, which the filesystem would store as U+FFFD (so two different strings would name one file). Pass a well-formed string (String.prototype.toWellFormed() replaces them).`, text);
  if (text.endsWith('/') || text.endsWith(path.sep)) {
    throw bad(`The path '${text}' ends with a separator, so it names a directory; pass a file name.`, text);
  }
  const abs = path.resolve(text);
  checkAbsolute(abs, text);
  return abs;
}

/** Follow symlinks at the last component of `abs` and describe the file found (or its absence). */
export async function resolveTarget(abs: string): Promise<Target> {
  let p = abs;
  for (let hops = 0; ; hops++) {
    // The seam may make this write's small calls in the directory inline once its filesystem is
    // known to be local (platform/local-root.ts); until then they stay in the thread pool.
    holdWriteDir(path.dirname(p));
    let info: Info;
    try {
      info = await fs.lstat(p);
    } catch (err) {
      const code = errnoOf(err);
      // Missing file, or missing parent: which one is found out when the temp file is created.
      if (code === 'ENOENT') return { path: p, existing: undefined };
      if (code === 'ENOTDIR') {
        throw new TxnError(codes.ETARGET, `Cannot write '${p}': a part of its directory path is a file. Remove or rename that file, or pick another path.`, { path: p, cause: err });
      }
      if (code === 'ELOOP') throw bad(`Cannot write '${p}': its directory path has a symlink loop. Fix or remove the looping symlink.`, p, err);
      if (code === 'ENAMETOOLONG') throw bad(`The path '${p}' is too long for this filesystem. Use a shorter name.`, p, err);
      throw err;
    }
    if (info.kind === 'file') {
      noteWriteDir(path.dirname(p), info.dev);
      return { path: p, existing: info };
    }
    if (info.kind === 'dir') {
      throw new TxnError(codes.ETARGET, `Cannot write '${p}': it is a directory. Pass the path of a file.`, { path: p });
    }
    if (info.kind !== 'symlink') {
      throw new TxnError(codes.ETARGET, `Cannot write '${p}': it is not a regular file (a FIFO, socket or device), which an atomic write would replace. Remove it, or pick another path.`, { path: p });
    }
    if (hops >= MAX_SYMLINK_HOPS) {
      throw bad(`Cannot write '${abs}': more than ${MAX_SYMLINK_HOPS} symlinks in a row (a loop?). Check the symlinks on the way to it.`, abs, errno('ELOOP', abs));
    }
    const link = await fs.readlink(p);
    const next = path.resolve(path.dirname(p), link);
    checkAbsolute(next, `${abs} -> ${next}`);
    p = next;
  }
}

/** What `makeDirs` did. */
export interface MadeDirs {
  /** The directories this call created, parents first. */
  readonly created: readonly string[];
  /** The directories whose entries changed: fsync each for the new directories to be durable. */
  readonly parents: readonly string[];
}

/** Create `dir` and its missing ancestors (mkdir -p), recording what changed. */
export async function makeDirs(dir: string): Promise<MadeDirs> {
  const missing: string[] = [];
  const created: string[] = [];
  let d = dir;
  for (;;) {
    try {
      await fs.mkdir(d);
      created.push(d);
      break;
    } catch (err) {
      const code = errnoOf(err);
      if (code === 'EEXIST') break;
      if (code === 'ENOTDIR') {
        throw new TxnError(codes.ETARGET, `Cannot create the directory '${dir}': a part of its path is a file. Remove or rename that file, or pick another path.`, { path: dir, cause: err });
      }
      const up = path.dirname(d);
      if (code !== 'ENOENT' || up === d) throw err;
      missing.push(d);
      d = up;
    }
  }
  for (const m of missing.reverse()) {
    try {
      await fs.mkdir(m);
      created.push(m);
    } catch (err) {
      // Another writer made it meanwhile; it is theirs, but its entry is fsynced below all the same.
      if (errnoOf(err) !== 'EEXIST') throw err;
    }
  }
  const changed = created.length > 0 ? [created[0] as string, ...missing] : missing;
  return { created, parents: [...new Set(changed.map((c) => path.dirname(c)))] };
}

/** The deepest ancestor of `dir` that exists (for a dry run, which creates no directory). */
export async function existingAncestor(dir: string): Promise<string> {
  let d = dir;
  for (;;) {
    try {
      const info = await fs.stat(d);
      if (info.kind === 'dir') return d;
      throw new TxnError(codes.ETARGET, `Cannot write below '${d}': it is a file, not a directory. Remove or rename it, or pick another path.`, { path: d });
    } catch (err) {
      const up = path.dirname(d);
      if (errnoOf(err) !== 'ENOENT' || up === d) throw err;
      d = up;
    }
  }
}

/**
 * Make sure `<dir>/.txnfs/` exists and is a directory. One this call creates gets the mode bits
 * and group of `<dir>` (best effort for the group: a writer outside it cannot give it away), and
 * with `durable` its entry in `<dir>` is fsynced. An existing one is checked as the core checks it.
 * Errors are the fs errors (ENOENT when `<dir>` is missing), or ETARGET for a `.txnfs` that is not
 * a directory.
 */
export async function makeHome(dir: string, durable: boolean): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await makeHomeOnce(dir, durable);
      return;
    } catch (err) {
      // ENOENT while `dir` is still there: another writer removed the (empty) home between this
      // mkdir and the calls after it (home.ts). Make it again; ENOENT for a missing `dir` stands.
      if (errnoOf(err) !== 'ENOENT' || attempt >= HOME_RETRIES || !(await isDir(dir))) throw err;
    }
  }
}

async function makeHomeOnce(dir: string, durable: boolean): Promise<void> {
  const home = path.join(dir, HOME_NAME);
  try {
    await fs.mkdir(home);
  } catch (err) {
    if (errnoOf(err) !== 'EEXIST') throw err;
    await ensureHome(dir, durable); // someone else made it: only check that it is a directory
    usedHome(home);
    return;
  }
  usedHome(home);
  const info = await fs.stat(dir);
  noteWriteDir(dir, info.dev);
  // mkdir applied our umask; a setgid directory already passed on its group (and the bit).
  await setMode(dir, () => fs.chmod(home, info.mode)); // none to copy on FAT: no-modes.ts
  if (info.gid !== (process.getgid?.() ?? info.gid)) await fs.chown(home, -1, info.gid).catch(() => undefined);
  if (durable) await syncDir(dir);
}
