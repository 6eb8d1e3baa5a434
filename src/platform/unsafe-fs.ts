/**
 * unsafe-fs.ts: the warning at begin() for a root on a network or FUSE filesystem.
 *
 * txnfs's locks are directories made with mkdir(2) and kept alive by their mtime
 * (proper-lockfile). On one local filesystem mkdir is atomic and the mtime is the kernel's own.
 * Through a network or FUSE client, two hosts (or two mounts of one export) can each see their
 * mkdir succeed, attributes are cached for seconds and mtimes are rounded, so two writers can hold
 * one lock and a reader can see a renamed file's new name with the old size. One writer host is
 * still all-or-nothing; several are not. That cannot be probed from one host, so the warning is
 * decided by the mount's type (fstype.ts), once per real root per process, and can be turned off
 * with `warnUnsafeFs: false` by a caller who knows there is one writer host.
 */
import { rootMountOf, type MountFacts } from './fstype.js';

/** The code of the process warning (`process.on('warning', w => w.code)`). */
const UNSAFE_FS_WARNING = 'TXNFS_UNSAFE_FS';

/** The mount of `realRoot` when it is network or FUSE, else undefined. Cached per real root. */
function unsafeMountOf(realRoot: string): MountFacts | undefined {
  const facts = rootMountOf(realRoot);
  return facts !== undefined && (facts.locality === 'network' || facts.locality === 'fuse') ? facts : undefined;
}

const warned = new Set<string>();

/** The warning's text for a root on `facts` (shared with doctor's line). */
function unsafeFsMessage(realRoot: string, facts: MountFacts): string {
  return `The txnfs root '${realRoot}' is on a ${facts.locality === 'network' ? 'network' : 'FUSE'} filesystem (${facts.fsType} at '${facts.mountPoint}'). Its locks (mkdir + mtime) are not safe with writers on several hosts or mounts: two may hold one lock. Keep to one writer host, or use the object-store commit for multi-host use (docs/s3.md). Silence with { warnUnsafeFs: false }.`;
}

/** Emit the warning once per real root per process, when the root is on a network or FUSE mount. */
export function warnUnsafeFsOnce(realRoot: string): void {
  if (warned.has(realRoot)) return;
  const facts = unsafeMountOf(realRoot);
  if (facts === undefined) return;
  warned.add(realRoot);
  process.emitWarning(unsafeFsMessage(realRoot, facts), { code: UNSAFE_FS_WARNING });
}
