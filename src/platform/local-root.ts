/**
 * local-root.ts: tell the filesystem seam which roots are on a local filesystem, where it may make
 * small calls inline (src/io/inline.ts: why, and what keeps that from holding up the process).
 *
 * Decided by the mount's type (fstype.ts), once per real root per process: ext4, XFS, btrfs,
 * tmpfs, overlayfs and every other kernel filesystem that is not a network client are local. A
 * network client (NFS, SMB, CephFS, ...) and every FUSE mount (sshfs, fusefat, ...) are not: there
 * a call waits for a server or a daemon, so it stays in the thread pool. Without /proc/self/mountinfo
 * (not Linux) nothing is inline.
 *
 * Single-file writes (writeFile, update, ...) do not resolve their directory's real path (one call
 * more each), so their directory is decided by its device instead, from a `stat` they make anyway
 * (the target's, or the directory's when its home is made): `holdWriteDir` before the write's first
 * call there, `noteWriteDir` once a `stat` in it is known. Until then its calls stay in the pool.
 */
import { holdInline, inlinePending, inlineUnder } from '../io/inline.js';
import { deviceLocality, rootMountOf } from './fstype.js';

/** Let the seam make small calls inline below `realRoot` when it is on a local filesystem. */
export function noteRoot(realRoot: string): void {
  inlineUnder(realRoot, rootMountOf(realRoot)?.locality === 'local');
}

/**
 * Before a single-file write's first call in `dir` (absolute, as the write names it): its calls
 * stay in the thread pool until `noteWriteDir` decides it, whatever a root above it says (a FUSE
 * mount inside a local root). Once per directory per process (inline.ts bounds how many).
 */
export function holdWriteDir(dir: string): void {
  holdInline(dir);
}

/**
 * A `stat` of `dir` or of a file in it showed device `dev`: decide whether the seam may make calls
 * in `dir` inline (its filesystem is local), if `holdWriteDir` held it and nothing decided it yet.
 * One read of /proc/self/mountinfo, once per directory per process.
 */
export function noteWriteDir(dir: string, dev: bigint): void {
  if (inlinePending(dir)) inlineUnder(dir, deviceLocality(dev) === 'local');
}
