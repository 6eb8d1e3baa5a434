/**
 * layout.ts: where txnfs keeps its own files inside a root. Names only; no I/O.
 * docs/protocol.md: "On disk".
 *
 *   <root>/.txnfs/                 home: one folder, so recovery scans O(pending), never the root;
 *                                  made 0755 by a transaction; staging dirs 0700 (staging.ts)
 *   <root>/.txnfs/lock.o.<owner>   root lock `<root>/.txnfs/lock`: its owner entries, flat in the
 *                                  home (lock/owners.ts); an older build's lock/ directory of
 *                                  `o.<owner>` entries is swept by recover()
 *   <root>/.txnfs/.txn-<id>.lock   owner lock of transaction <id>, taken *before* its staging dir
 *                                  exists, so recovery never sees a staging dir without its lock
 *   <root>/.txnfs/.txn-<id>/       staging dir
 *       files/<n>                  staged data, flat, named by staging sequence number
 *       tmp/                       tx.tempDir(): where other tools write files for tx.adopt()
 *       backup/<i>                 hard link to the original entry i replaces or deletes (a copy
 *                                  where hard links are refused: backup.ts)
 *       journal.tmp, journal       the journal; `journal` existing and valid = committed. The
 *                                  commit point links `journal` to `journal.tmp`, which stays as
 *                                  the inode a rollback marker is renamed from (allocates nothing)
 *       rollback                   marker: a rollback is in progress, finish it, never roll forward
 *       rollback.tmp               the marker's inode where hard links are refused (and in staging
 *                                  dirs of an older txnfs, which made one with every staging dir)
 *       undo                       a one-file commit (no journal): a hard link to the file it
 *                                  replaces, so that a failure after its rename can put it back
 *   <root>/.txnfs/.tomb-<rand>     left only by an older txnfs (a lock directory it was removing)
 *   <root>/.txnfs/.tmp-<writer>    a single-file write's temp file, renamed over its target; the
 *                                  name encodes its writer's identity (tempname.ts)
 *   <root>/.txnfs/.upd-<hash>.lock the lock `update()` holds on one file of <root>
 */
import * as path from 'node:path';

export const HOME_NAME = '.txnfs';
const STAGING_PREFIX = '.txn-';
const LOCK_SUFFIX = '.lock';
export const TOMB_PREFIX = '.tomb-';
export const OWNER_FILE = 'owner';
export const TEMP_PREFIX = '.tmp-';
export const UPDATE_LOCK_PREFIX = '.upd-';

/** Matches a staging dir name and captures the id. */
export const STAGING_RE = /^\.txn-([A-Za-z0-9_-]{1,64})$/;
/** Matches an owner lock name and captures the id. */
export const OWNER_LOCK_RE = /^\.txn-([A-Za-z0-9_-]{1,64})\.lock$/;

export function homeOf(root: string): string {
  return path.join(root, HOME_NAME);
}
export function rootLockPath(home: string): string {
  return path.join(home, 'lock');
}
export function stagingDirOf(home: string, id: string): string {
  return path.join(home, `${STAGING_PREFIX}${id}`);
}
export function ownerLockOf(home: string, id: string): string {
  return path.join(home, `${STAGING_PREFIX}${id}${LOCK_SUFFIX}`);
}
export function filesDir(staging: string): string {
  return path.join(staging, 'files');
}
export function stagedFile(staging: string, n: number): string {
  return under(staging, 'files', n);
}
export function tempDirOf(staging: string): string {
  return path.join(staging, 'tmp');
}
export function backupDir(staging: string): string {
  return path.join(staging, 'backup');
}
export function backupFile(staging: string, i: number): string {
  return under(staging, 'backup', i);
}

/**
 * `path.join(staging, dir, String(n))` for a normalised staging path, without path.join's
 * normalisation: a commit names one of these per entry, several times.
 */
function under(staging: string, dir: string, n: number): string {
  if (staging.length > 1 && !staging.endsWith(path.sep) && Number.isSafeInteger(n)) return `${staging}${path.sep}${dir}${path.sep}${n}`;
  return path.join(staging, dir, String(n));
}
/** The second name of the file a one-file commit replaces, for its undo (protocol/direct.ts). */
export function undoPath(staging: string): string {
  return path.join(staging, 'undo');
}
export function journalPath(staging: string): string {
  return path.join(staging, 'journal');
}
export function journalTmpPath(staging: string): string {
  return path.join(staging, 'journal.tmp');
}
export function rollbackMarkerPath(staging: string): string {
  return path.join(staging, 'rollback');
}
export function rollbackReadyPath(staging: string): string {
  return path.join(staging, 'rollback.tmp');
}
