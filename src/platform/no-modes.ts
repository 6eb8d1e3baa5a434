/**
 * no-modes.ts: permission bits and owners where the filesystem has none (FAT through FUSE:
 * chmod(2) and chown(2) fail with ENOSYS; fusefat shows every file as 0700, owned by the mounter).
 *
 * txnfs sets the mode of a staged file (an explicit `mode`, or the mode of the file it replaces),
 * and the mode and owner of a copy backup. Where the filesystem stores no permission bits there is
 * nothing to keep, and failing instead would make every overwrite, every removal (its copy backup)
 * and every `mode` fail there. So the call is skipped, and the file shows what the mount shows.
 *
 * Decided by probing, once per root, not by the filesystem's name: the first chmod (or chown)
 * txnfs makes under a root is the probe, always on txnfs's own staged file, temp file or backup,
 * never on a caller's file. ENOSYS, ENOTSUP or EOPNOTSUPP from it mean "this filesystem has none":
 * the root is remembered and that call and every later one under it are skipped. Any other errno
 * (EPERM, EIO, ...) is an error as before, and once a call succeeded under a root, a later
 * refusal is an error too (a filesystem does not lose its modes halfway through).
 *
 * Cost: one Map lookup per call; nothing extra where modes exist.
 */
import { errnoOf } from '../errors.js';

/** The errnos that mean "this filesystem has no such attribute", not "you may not". */
const NONE_HERE = new Set(['ENOSYS', 'ENOTSUP', 'EOPNOTSUPP']);

/** Per real root (or a single-file write's directory): true once a call worked, false when the probe found none. */
const modes = new Map<string, boolean>();
const owners = new Map<string, boolean>();

async function probed(known: Map<string, boolean>, root: string, call: () => Promise<void>): Promise<void> {
  const was = known.get(root);
  if (was === false) return;
  try {
    await call();
  } catch (err) {
    if (was === true || !NONE_HERE.has(errnoOf(err) ?? '')) throw err;
    known.set(root, false);
    return;
  }
  known.set(root, true);
}

/** Run `chmod` (on txnfs's own file under `root`), unless the filesystem under `root` has no modes. */
export function setMode(root: string, chmod: () => Promise<void>): Promise<void> {
  return probed(modes, root, chmod);
}

/** Run `chown` (on txnfs's own file under `root`), unless the filesystem under `root` has no owners. */
export function setOwner(root: string, chown: () => Promise<void>): Promise<void> {
  return probed(owners, root, chown);
}

/** What the probe found under `root`: true (modes kept), false (none), undefined (not probed yet). */
export function modesUnder(root: string): boolean | undefined {
  return modes.get(root);
}
