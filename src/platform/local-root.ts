/**
 * local-root.ts: tell the filesystem seam which roots are on a local filesystem, where it may make
 * small calls inline (src/io/inline.ts: why, and what keeps that from holding up the process).
 *
 * Decided by the mount's type (fstype.ts), once per real root per process: ext4, XFS, btrfs,
 * tmpfs, overlayfs and every other kernel filesystem that is not a network client are local. A
 * network client (NFS, SMB, CephFS, ...) and every FUSE mount (sshfs, fusefat, ...) are not: there
 * a call waits for a server or a daemon, so it stays in the thread pool. Without /proc/self/mountinfo
 * (not Linux) nothing is inline.
 */
import { inlineUnder } from '../io/inline.js';
import { rootMountOf } from './fstype.js';

/** Let the seam make small calls inline below `realRoot` when it is on a local filesystem. */
export function noteRoot(realRoot: string): void {
  inlineUnder(realRoot, rootMountOf(realRoot)?.locality === 'local');
}
