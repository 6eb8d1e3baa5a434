/**
 * if-present.ts: filesystem calls for which "nothing there" is an answer, not a failure.
 *
 * txnfs looks at and removes entries that another process may remove at the same moment: a commit
 * finishing and removing its staging dir, a writer renaming its temp into place, a second
 * recover() taking the same orphan, a user deleting an output. For these calls ENOENT means the
 * entry is absent, which is what the caller wanted to know or to reach; every other errno (EACCES,
 * EIO, ENOSPC, ...) is a real failure and is thrown as it came from the seam (fs.ts).
 *
 * A lookup (lstat, readdir, readFile) also reads ENOTDIR as absent: it means a component of the
 * path is a file, so nothing can exist at the path. A removal does not: rmdir of a file fails with
 * ENOTDIR, and that is an unexpected entry, not an absent one (remove.ts falls back on it).
 *
 * Cost: exactly the one call; nothing is retried.
 */
import * as fs from './fs.js';
import { errnoOf } from './errors.js';

function isAbsent(err: unknown): boolean {
  const code = errnoOf(err);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** lstat `p`, or undefined when nothing is there. */
export async function lstatIfPresent(p: string): Promise<fs.Info | undefined> {
  try {
    return await fs.lstat(p);
  } catch (err) {
    if (isAbsent(err)) return undefined;
    throw err;
  }
}

/** The names in the directory `p`, or undefined when there is no such directory. */
export async function readdirIfPresent(p: string): Promise<string[] | undefined> {
  try {
    return await fs.readdir(p);
  } catch (err) {
    if (isAbsent(err)) return undefined;
    throw err;
  }
}

/** The content of the file `p`, or undefined when there is no such file. */
export async function readFileIfPresent(p: string): Promise<Buffer | undefined> {
  try {
    return await fs.readFile(p);
  } catch (err) {
    if (isAbsent(err)) return undefined;
    throw err;
  }
}

/** Unlink `p`; one already gone is fine. Resolves with whether this call removed it. */
export async function unlinkIfPresent(p: string): Promise<boolean> {
  try {
    await fs.unlink(p);
    return true;
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return false;
    throw err;
  }
}

/** rmdir the empty directory `p`; one already gone is fine. Resolves with whether this call removed it. */
export async function rmdirIfPresent(p: string): Promise<boolean> {
  try {
    await fs.rmdir(p);
    return true;
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return false;
    throw err;
  }
}
