/**
 * links.ts: which link(2) failures mean "no hard link here", so that the caller takes its way
 * without one (a copy for a backup, a rename for the journal's name, the journaled commit for a
 * lone file), and which are real failures to report.
 *
 * One list, because four callers (backup.ts, journal.ts, direct.ts, ino-trust.ts) had drifted
 * apart: the journal's copy lacked EMLINK, so a `journal.tmp` on a filesystem out of link slots
 * failed a commit that the fallback rename would have finished.
 */
import { errnoOf } from '../errors.js';

// EPERM: FAT and several FUSE filesystems refuse link(2) outright. ENOTSUP/EOPNOTSUPP/ENOSYS:
// a filesystem or kernel without the operation. EMLINK: the file already has as many names as
// the filesystem allows. Anything else (EACCES, EIO, ENOSPC, ...) is a real failure.
const REFUSED: ReadonlySet<string> = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EMLINK']);

/** Whether a link(2) failure means the filesystem gives no hard link here (not a real error). */
export function linkRefused(err: unknown): boolean {
  return REFUSED.has(errnoOf(err) ?? '');
}
