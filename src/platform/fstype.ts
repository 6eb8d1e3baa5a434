/**
 * fstype.ts: which filesystem a directory is on, and whether it is local, FUSE or network.
 *
 * txnfs decides its fallbacks by probing (doctor.ts, backup.ts, casefold.ts), never by a
 * filesystem's name. The one thing a probe cannot show is what other hosts see: a network or FUSE
 * mount may accept fsync and still reorder, cache attributes for seconds, and let two hosts each
 * believe they created the same lock directory. So the type is read from /proc/self/mountinfo (the
 * mount whose point is the longest prefix of the path; the last listed wins when mounts are
 * stacked on one point) and only used to warn (unsafe-fs.ts) and to report (doctor.ts).
 *
 * Cost: one read of /proc/self/mountinfo per call; callers cache per real root.
 *
 * `deviceLocality` answers the same question for a device number (a `stat`'s `dev`), without the
 * path's real form: every line of mountinfo names its filesystem's device (`major:minor`, the
 * `st_dev` of the files on it). A device no line names (a btrfs subvolume that is not mounted on
 * its own) is 'unknown'.
 */
import * as path from 'node:path';
import { readProcFile } from '../io/fs.js';

/** Where a filesystem's data lives, as far as the kernel tells. */
export type FsLocality = 'local' | 'fuse' | 'network' | 'unknown';

/** The mount a path is on. */
export interface MountFacts {
  /** The mount point (absolute path). */
  readonly mountPoint: string;
  /** The type as mountinfo names it: `ext4`, `overlay`, `fuse.sshfs`, `nfs4`, ... */
  readonly fsType: string;
  /** The mount source: a device, `server:/export`, `user@host:dir`, ... */
  readonly source: string;
  readonly locality: FsLocality;
}

/** Kernel filesystem types whose data lives on another machine (the client caches and guesses). */
const NETWORK = new Set(['nfs', 'nfs4', 'cifs', 'smb3', 'smbfs', 'ncpfs', 'afs', 'ceph', 'glusterfs', 'lustre', 'gpfs', 'ocfs2', 'gfs2', '9p', 'orangefs', 'beegfs']);
/** FUSE subtypes that are network clients (every other FUSE type is reported as 'fuse'). */
const FUSE_NETWORK = new Set(['sshfs', 's3fs', 'rclone', 'gcsfuse', 'goofys', 'davfs', 'glusterfs', 'cephfs', 'juicefs', 'mountpoint-s3']);

function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Classify a mountinfo type. `fuse.sshfs` and friends are network; other FUSE types are 'fuse'. */
export function localityOf(fsType: string): FsLocality {
  if (NETWORK.has(fsType)) return 'network';
  if (fsType === 'fuse' || fsType === 'fuseblk' || fsType.startsWith('fuse.') || fsType.startsWith('fuseblk.')) {
    const sub = fsType.slice(fsType.indexOf('.') + 1);
    return FUSE_NETWORK.has(sub) ? 'network' : 'fuse';
  }
  return 'local';
}

/** Parse mountinfo text (proc(5)) and return the mount `realPath` is on, if any line matches. */
export function mountFactsIn(text: string, realPath: string): MountFacts | undefined {
  let best: MountFacts | undefined;
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const point = fields[4];
    const dash = fields.indexOf('-', 6);
    if (point === undefined || dash < 0 || !point.startsWith('/')) continue;
    const mountPoint = unescape(point);
    const inside = realPath === mountPoint || mountPoint === '/' || realPath.startsWith(mountPoint + path.sep);
    // `>=`: a later line with the same point was mounted on top of the earlier one.
    if (!inside || (best !== undefined && mountPoint.length < best.mountPoint.length)) continue;
    const fsType = fields[dash + 1] ?? 'unknown';
    best = { mountPoint, fsType, source: unescape(fields[dash + 2] ?? ''), locality: localityOf(fsType) };
  }
  return best;
}

/** The device's `major:minor`, as mountinfo writes it (glibc's `major()` and `minor()`). */
export function deviceNumbers(dev: bigint): string {
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & 0xfffff000n);
  const minor = (dev & 0xffn) | ((dev >> 12n) & 0xffffff00n);
  return `${major}:${minor}`;
}

/** Parse mountinfo text and classify the filesystem whose device is `dev`: 'unknown' when no line names it. */
export function deviceLocalityIn(text: string, dev: bigint): FsLocality {
  const numbers = deviceNumbers(dev);
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-', 6);
    // Bind mounts of one filesystem name the same device and type: the first line decides.
    if (fields[2] === numbers && dash >= 0) return localityOf(fields[dash + 1] ?? 'unknown');
  }
  return 'unknown';
}

/** The locality of the filesystem with device `dev` (one read of mountinfo); 'unknown' without procfs. */
export function deviceLocality(dev: bigint): FsLocality {
  const text = readProcFile('/proc/self/mountinfo');
  return text === undefined ? 'unknown' : deviceLocalityIn(text, dev);
}

/** The mount `realPath` (absolute, resolved) is on; undefined where there is no procfs. */
export function mountFactsOf(realPath: string): MountFacts | undefined {
  const text = readProcFile('/proc/self/mountinfo');
  return text === undefined ? undefined : mountFactsIn(text, realPath);
}

const rootMounts = new Map<string, MountFacts | undefined>();

/**
 * `mountFactsOf(realRoot)`, read once per real root per process: begin() asks on every
 * transaction (unsafe-fs.ts, local-root.ts), and a mount does not change under a root in use.
 */
export function rootMountOf(realRoot: string): MountFacts | undefined {
  if (!rootMounts.has(realRoot)) rootMounts.set(realRoot, mountFactsOf(realRoot));
  return rootMounts.get(realRoot);
}
