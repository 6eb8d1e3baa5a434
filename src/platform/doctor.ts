/**
 * doctor.ts: what txnfs relies on, probed on the filesystem under a root, and what txnfs does
 * where it does not hold (`txnfs doctor`).
 *
 * The probes (probes.ts) run in a scratch directory `<root>/.txnfs/.doctor-<random>/`, which is
 * removed afterwards, also when a probe throws; the root's own files are never opened. A `.txnfs/`
 * the doctor had to create is removed again when it is left empty. The scratch name matches no
 * pattern of layout.ts, so a concurrent recover() leaves it alone.
 *
 * Each check says what txnfs relies on, what was found, and what txnfs does about it:
 *   - 'none': it holds;
 *   - 'fallback': txnfs does something else that keeps its guarantees (copy backups, fold checks);
 *   - 'refusal': txnfs refuses the affected targets up front (ECROSSDEV), before the commit point;
 *   - 'warning': the guarantees hold only under a condition the probe cannot check (one writer
 *     host, power-loss durability through the filesystem's own journal, enough space);
 *   - 'unusable': a guarantee does not hold at all here.
 * The verdict (and the CLI's exit code) is the worst of these: 'holds', 'conditional', 'broken'.
 */
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import * as fs from '../io/fs.js';
import { codes, errnoOf, TxnError } from '../errors.js';
import { HOME_NAME } from '../protocol/layout.js';
import { checkOptionsObject, lockStaleOption, resolveDir } from '../options/options.js';
import { openRootDir } from '../protocol/root.js';
import { ensureHome } from '../protocol/staging.js';
import { mountPointsInside } from './mounts.js';
import { mountFactsOf, type FsLocality } from './fstype.js';
import { probeCaseFolding, probeChmod, probeDirRename, probeDirSync, probeExclusive, probeHardLink, probeMtimeGranularity, probeNormalisation, probeReadsAfterRename, probeRenameOver, protectedHardlinks } from './probes.js';
import { formatBytes } from './bytes.js';
import { probeInodeNumbers } from './ino-trust.js';

/** What txnfs does about a check. */
export type DoctorAction = 'none' | 'fallback' | 'refusal' | 'warning' | 'unusable';

/** The checks, in report order. */
export type DoctorCheckId =
  | 'filesystem'
  | 'rename'
  | 'reads'
  | 'dir-rename'
  | 'dir-fsync'
  | 'hard-links'
  | 'protected-hardlinks'
  | 'inodes'
  | 'modes'
  | 'exclusive-create'
  | 'mtime'
  | 'case'
  | 'unicode'
  | 'mounts'
  | 'space';

/** One line of the report. */
export interface DoctorCheck {
  /** Which check this is (docs/filesystems.md lists each). */
  readonly id: DoctorCheckId;
  /** What txnfs relies on. */
  readonly relies: string;
  /** Whether it holds here. */
  readonly holds: boolean;
  /** What the probe found. */
  readonly found: string;
  /** What kind of answer txnfs gives: none needed, a fallback, a refusal, a warning, or unusable. */
  readonly action: DoctorAction;
  /** What txnfs does about it, in a sentence. */
  readonly does: string;
}

/** The report of {@link doctor}. */
export interface DoctorReport {
  /** The root's real path. */
  readonly dir: string;
  /** The filesystem type as the kernel names it (`ext4`, `overlay`, `fuse.sshfs`); 'unknown' without procfs. */
  readonly fsType: string;
  /** Where that filesystem is mounted; undefined without procfs. */
  readonly mountPoint: string | undefined;
  /** Local disk, FUSE or network filesystem (judged from the type), or unknown. */
  readonly locality: FsLocality;
  /** One line per check, in the order of docs/filesystems.md. */
  readonly checks: readonly DoctorCheck[];
  /**
   * `'holds'`: every guarantee holds (some by a fallback or a refusal); `'conditional'`: they
   * hold only under the conditions the warnings name; `'broken'`: at least one does not hold.
   */
  readonly verdict: 'holds' | 'conditional' | 'broken';
}

/** Options of {@link doctor}. */
export interface DoctorOptions {
  /**
   * The lock stale time the root's writers use, to judge the mtime granularity against.
   * @default 10000
   */
  readonly lockStale?: number | undefined;
}

const MIN_FREE_BYTES = 64 * 1024 * 1024;
const MIN_FREE_INODES = 1000;

function fmtMs(ms: number): string {
  return ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`;
}

async function runProbes(root: string, home: string, scratch: string, lockStale: number): Promise<{ checks: DoctorCheck[]; fsType: string; mountPoint: string | undefined; locality: FsLocality }> {
  const checks: DoctorCheck[] = [];
  const add = (c: DoctorCheck): void => void checks.push(c);
  const mount = mountFactsOf(root);
  const locality: FsLocality = mount?.locality ?? 'unknown';
  const fsType = mount?.fsType ?? 'unknown';
  const remote = locality === 'network' || locality === 'fuse';
  add({
    id: 'filesystem',
    relies: 'a local filesystem: mkdir + mtime locks are exclusive across every writer',
    holds: !remote,
    found: mount === undefined ? 'unknown (no /proc/self/mountinfo)' : `${fsType} (${locality}) at ${mount.mountPoint}`,
    action: remote ? 'warning' : 'none',
    does: remote
      ? 'safe with writers on one host and one mount only; begin() warns (TXNFS_UNSAFE_FS). For several hosts use the object-store commit (docs/s3.md)'
      : 'nothing to do',
  });

  const rename = await probeRenameOver(scratch);
  add({ id: 'rename', relies: 'rename(2) over an existing file replaces it atomically (the commit and every apply)', holds: rename.ok, found: rename.detail, action: rename.ok ? 'none' : 'unusable', does: rename.ok ? 'nothing to do' : 'nothing can make commits atomic here: do not use txnfs on this filesystem' });

  const reads = await probeReadsAfterRename(scratch);
  add({
    id: 'reads',
    relies: 'a file renamed into place reads as its bytes, to every reader (tx.read() and the check of ifUnchanged read it so)',
    holds: reads.ok,
    found: reads.detail,
    action: reads.ok ? 'none' : 'warning',
    does: reads.ok
      ? 'nothing to do'
      : "a reader may be handed bytes a file never held while another process renames files here, and so may txnfs's own reads: the check of ifUnchanged, and (where inode numbers do not name files) a roll-forward's comparison with the backup copy. Run one writer process at a time here",
  });

  const drename = await probeDirRename(scratch);
  // The in-place layout renames files only (locks are owner entries made with mkdir: lock.ts);
  // the generations layout renames a built generation directory into place.
  add({ id: 'dir-rename', relies: "rename(2) of a non-empty directory keeps its entries (only layout 'generations' renames directories: a built generation into place)", holds: drename.ok, found: drename.detail, action: drename.ok ? 'none' : 'warning', does: drename.ok ? 'nothing to do' : "the default in-place layout is not affected; do not use layout 'generations' here" });

  const dsync = await probeDirSync(scratch);
  add({ id: 'dir-fsync', relies: 'fsync(2) of a directory makes a rename or create durable', holds: dsync.ok, found: dsync.detail, action: dsync.ok ? 'none' : 'warning', does: dsync.ok ? 'nothing to do' : "ignores the refusal (there is nothing stronger); a commit survives a crash of the process, but a power loss only as far as the filesystem's own ordering goes" });

  const link = await probeHardLink(scratch);
  add({ id: 'hard-links', relies: 'link(2): a backup of a replaced or removed file costs one link and pins its inode', holds: link.ok, found: link.detail, action: link.ok ? 'none' : 'fallback', does: link.ok ? 'nothing to do' : 'backups are copies (bytes, mode, owner, mtime; fsynced before the commit point), recorded in the journal; a rollback restores from them' });

  const ph = protectedHardlinks();
  const phOn = ph.value !== undefined && ph.value !== '0';
  add({
    id: 'protected-hardlinks',
    relies: 'a link to a target owned by another user is allowed',
    holds: !phOn || ph.bypassed,
    found: ph.value === undefined ? 'not applicable (no /proc/sys/fs/protected_hardlinks)' : `fs.protected_hardlinks = ${ph.value}${phOn && ph.bypassed ? ' (this process is root: bypassed)' : ''}`,
    action: phOn && !ph.bypassed ? 'fallback' : 'none',
    does: phOn && !ph.bypassed ? 'a target owned by another user that this user cannot write gets a copy backup' : 'nothing to do',
  });

  const ino = await probeInodeNumbers(scratch);
  add({ id: 'inodes', relies: 'an inode number names one file: kept by rename, shared by a hard link (what a roll-forward checks before it replaces a target)', holds: ino.ok, found: ino.detail, action: ino.ok ? 'none' : 'fallback', does: ino.ok ? 'nothing to do' : 'backups are copies, and a roll-forward recognises an original whose number changed by its size, its mtime and its bytes (compared with the copy)' });

  const chmod = await probeChmod(scratch);
  // ENOSYS and friends: no permission bits at all (no-modes.ts skips chmod). Accepted but not
  // kept, or EPERM: txnfs would fail setting a mode, before its commit point.
  const noModes = !chmod.ok && /ENOSYS|ENOTSUP|EOPNOTSUPP/.test(chmod.detail);
  add({ id: 'modes', relies: "chmod(2): a staged file gets the target's permission bits", holds: chmod.ok, found: chmod.detail, action: chmod.ok ? 'none' : noModes ? 'fallback' : 'refusal', does: chmod.ok ? 'nothing to do' : noModes ? 'this filesystem has no permission bits: txnfs sets none (a mode option is ignored; files show what the mount shows)' : 'a commit that replaces or removes an existing file, or sets a mode, fails before its commit point (ESTAGE or EFS) and changes nothing; only new files without a mode can be written here' });

  const excl = await probeExclusive(scratch);
  const exclOk = excl.create && excl.mkdir;
  add({ id: 'exclusive-create', relies: 'O_CREAT|O_EXCL and mkdir(2) fail with EEXIST on an existing name (staged files, locks, exclusive writes)', holds: exclOk, found: excl.detail, action: exclOk ? 'none' : 'unusable', does: exclOk ? 'nothing to do' : 'locks and exclusive writes are not exclusive here: do not use txnfs on this filesystem' });

  const gran = await probeMtimeGranularity(scratch);
  const update = Math.max(1000, lockStale / 2);
  const mtimeOk = gran < update;
  add({ id: 'mtime', relies: `mtime granularity finer than the lock refresh interval (lockStale ${fmtMs(lockStale)}, refreshed every ${fmtMs(update)})`, holds: mtimeOk, found: gran <= 1 ? '1 ms or finer' : fmtMs(gran), action: mtimeOk ? 'none' : 'warning', does: mtimeOk ? 'nothing to do' : `raise lockStale to at least ${fmtMs(gran * 4)}` });

  const folds = await probeCaseFolding(scratch);
  if (typeof folds === 'object') {
    add({ id: 'case', relies: 'names that differ by case are different files', holds: false, found: `mixed-case names refused (${folds.refused})`, action: 'warning', does: 'a target whose name the filesystem refuses fails the commit: before the commit point nothing changes, after it the commit is rolled back (EAPPLY)' });
  } else {
    add({ id: 'case', relies: 'names that differ by case are different files', holds: !folds, found: folds ? 'case-insensitive' : 'case-sensitive', action: folds ? 'fallback' : 'none', does: folds ? 'two targets of one transaction that name one file (Readme, README) are refused with ETARGET before the commit point' : 'nothing to do' });
  }

  const norm = await probeNormalisation(scratch);
  if (typeof norm === 'object') {
    add({ id: 'unicode', relies: 'any UTF-8 name can be created', holds: false, found: `names outside ASCII refused (${norm.refused})`, action: 'warning', does: 'a target with such a name fails the commit: before the commit point nothing changes, after it the commit is rolled back (EAPPLY); use ASCII names here' });
  } else {
    add({ id: 'unicode', relies: 'names that differ by Unicode normalisation (NFC/NFD) are different files', holds: !norm, found: norm ? 'normalisation-insensitive' : 'names kept byte for byte', action: norm ? 'fallback' : 'none', does: norm ? 'two targets that name one file are refused with ETARGET before the commit point' : 'nothing to do' });
  }

  const mounts = mountPointsInside(root);
  const homeDev = (await fs.stat(home)).dev;
  const rootDev = (await fs.stat(root)).dev;
  const sameDev = homeDev === rootDev;
  add({
    id: 'mounts',
    relies: `'${HOME_NAME}/' and every target are on one mount (rename cannot cross mounts, not even bind mounts)`,
    holds: mounts.length === 0 && sameDev,
    found: mounts.length === 0 ? (sameDev ? 'no mount point inside the root' : `'${HOME_NAME}/' is on another device than the root`) : `mount points inside the root: ${mounts.map((m) => path.relative(root, m)).join(', ')}`,
    action: mounts.length === 0 && sameDev ? 'none' : 'refusal',
    does: mounts.length === 0 && sameDev ? 'nothing to do' : 'targets at or below those mount points are refused with ECROSSDEV before the commit point; use a separate root for each mount',
  });

  const st = await fs.statfs(home);
  const freeBytes = st.blocksAvailable * st.blockSize;
  // files === 0: the filesystem has no fixed inode table (btrfs, FAT through FUSE): nothing to count.
  const inodesLow = st.files > 0 && st.filesFree < MIN_FREE_INODES;
  const spaceLow = freeBytes < MIN_FREE_BYTES || inodesLow;
  add({
    id: 'space',
    relies: 'room for a second copy of every file a commit writes, and an inode for each',
    holds: !spaceLow,
    found: `${formatBytes(freeBytes)} free, ${st.files > 0 ? `${st.filesFree} inodes free` : 'inodes not counted'}`,
    action: spaceLow ? 'warning' : 'none',
    does: spaceLow ? 'a commit that runs out fails before its commit point (ESTAGE) and changes nothing; free some space' : 'nothing to do',
  });
  return { checks, fsType, mountPoint: mount?.mountPoint, locality };
}

/**
 * Probe the filesystem under `dir` for what txnfs relies on, and say what txnfs does where it
 * does not hold. Runs its experiments in a scratch directory inside `<dir>/.txnfs/` and removes it;
 * never opens the root's other files. Rejects with a TxnError `EFS` when the root is missing or
 * the scratch directory cannot be made (a read-only filesystem, no permission).
 *
 * @example
 * ```ts
 * const report = await doctor('/data/out');
 * if (report.verdict !== 'holds') {
 *   for (const c of report.checks) if (!c.holds) console.warn(`${c.id}: ${c.found}; ${c.does}`);
 * }
 * ```
 */
export async function doctor(dir?: string, options?: DoctorOptions): Promise<DoctorReport> {
  const o = checkOptionsObject(options, 'options', ['lockStale']);
  const lockStale = lockStaleOption(o);
  const root = await openRootDir(resolveDir(dir, 'dir'));
  const homePath = path.join(root, HOME_NAME);
  const hadHome = await fs.lstat(homePath).then(() => true, () => false);
  let home: string;
  const scratch = (h: string): string => path.join(h, `.doctor-${suffix}`);
  const suffix = randomBytes(6).toString('hex');
  try {
    home = (await ensureHome(root, false)).home;
    await fs.mkdir(scratch(home), 0o700);
  } catch (err) {
    if (err instanceof TxnError) throw err;
    throw new TxnError(codes.EFS, `Cannot probe '${root}': making a scratch directory in '${homePath}' failed (${(err as Error).message}). txnfs needs to create files there too; check that the filesystem is writable by this user.`, { cause: err, path: root });
  }
  try {
    const { checks, fsType, mountPoint, locality } = await runProbes(root, home, scratch(home), lockStale);
    const worst = checks.some((c) => c.action === 'unusable') ? 'broken' : checks.some((c) => c.action === 'warning') ? 'conditional' : 'holds';
    return { dir: root, fsType, mountPoint, locality, checks, verdict: worst };
  } finally {
    await fs.removeTree(scratch(home));
    if (!hadHome) {
      await fs.rmdir(home).catch((err: unknown) => {
        // Another process began a transaction meanwhile: its home stays.
        if (errnoOf(err) !== 'ENOTEMPTY' && errnoOf(err) !== 'EEXIST' && errnoOf(err) !== 'ENOENT') throw err;
      });
    }
  }
}
