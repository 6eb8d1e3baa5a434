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
 * path is a file, so nothing can exist at the path; and ESTALE, which NFS and sshfs return for an
 * entry removed through another mount or client meanwhile. A removal does not: rmdir of a file fails with
 * ENOTDIR, and that is an unexpected entry, not an absent one (remove.ts falls back on it).
 *
 * Cost: exactly the one call; nothing is retried.
 */
import * as fs from './fs.js';
import { errnoOf } from '../errors.js';

// ESTALE: NFS and sshfs answer so for an entry another mount or client has just removed.
const LOOKUP_ABSENT: ReadonlySet<string> = new Set(['ENOENT', 'ENOTDIR', 'ESTALE']);

// The two rejection handlers, made once: a lookup is made per target in a large commit, and an
// async function per call (its frame, its promise) was garbage in the young generation there.
function absentOnLookup(err: unknown): undefined {
  if (LOOKUP_ABSENT.has(errnoOf(err) ?? '')) return undefined;
  throw err;
}
function absentOnEnoent(err: unknown): undefined {
  if (errnoOf(err) === 'ENOENT') return undefined;
  throw err;
}

/** What `call` resolves with, or undefined when it fails with one of the absent errnos (see above). */
function orAbsent<T>(call: Promise<T>, strict = false): Promise<T | undefined> {
  return call.catch(strict ? absentOnEnoent : absentOnLookup);
}

/** Whether `call` removed the entry: false when it was already gone (ENOENT only; see above). */
async function removed(call: Promise<void>): Promise<boolean> {
  try {
    await call;
    return true;
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return false;
    throw err;
  }
}

/** lstat `p`, or undefined when nothing is there. */
export function lstatIfPresent(p: string): Promise<fs.Info | undefined> {
  return orAbsent(fs.lstat(p));
}

/**
 * lstat `p`, or undefined on ENOENT only. For the apply and the recovery of a journal: there,
 * ENOTDIR means something put a file where the journal's directory is, a conflict that must be
 * reported as it is, not read as "absent" and met again one call later with another errno.
 */
export function lstatIfPresentStrict(p: string): Promise<fs.Info | undefined> {
  return orAbsent(fs.lstat(p), true);
}

/** The names in the directory `p`, or undefined when there is no such directory. */
export function readdirIfPresent(p: string): Promise<string[] | undefined> {
  return orAbsent(fs.readdir(p));
}

/** The content of the file `p`, or undefined when there is no such file. */
export function readFileIfPresent(p: string): Promise<Buffer | undefined> {
  return orAbsent(fs.readFile(p));
}

/**
 * The content of the file `p`, or undefined on ENOENT only. For a journal: an ESTALE or ENOTDIR
 * there must not be read as "no journal", which would discard a committed transaction.
 */
export function readFileIfPresentStrict(p: string): Promise<Buffer | undefined> {
  return orAbsent(fs.readFile(p), true);
}

/** Unlink `p`; one already gone is fine. Resolves with whether this call removed it. */
export function unlinkIfPresent(p: string, mayFree?: number): Promise<boolean> {
  return removed(fs.unlink(p, mayFree));
}

/** rmdir the empty directory `p`; one already gone is fine. Resolves with whether this call removed it. */
export function rmdirIfPresent(p: string): Promise<boolean> {
  return removed(fs.rmdir(p));
}
