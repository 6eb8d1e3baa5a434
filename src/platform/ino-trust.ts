/**
 * ino-trust.ts: whether inode numbers name files on the filesystem under a root, and how the
 * roll-forward recognises an original where they do not.
 *
 * The roll-forward replaces or removes a target only while it is still what it was at the commit
 * point (apply.ts, invariant 7). Its first witness is the inode number, pinned by a hard-link
 * backup. A FUSE filesystem that does not pass the server's numbers through numbers each file it
 * looks up instead: sshfs (SFTP has no inode numbers) gives a hard link another number than its
 * original, and fusefat gives one file a number per spelling (`Foo`, `FOO`); both hand out new
 * numbers once the kernel forgets a file (memory pressure, a remount). There the roll-forward would
 * take every original for someone else's newer file and drop the commit's change ("superseded").
 *
 * So, once per real root and process, the first backup link txnfs makes under a root is the probe
 * (`trustLink`): a link that reports another number than the original it was made from shows that
 * numbers do not name files there. Then:
 *   - backups are copies, never links (backup.ts): that link is removed and a copy made instead,
 *     and later backups under that root are copies at once. A link on such a filesystem cannot be
 *     told from the original by its number, and an in-place rewrite of the target changes it too;
 *   - an original whose number differs is still recognised when its size and mtime are the ones
 *     the journal recorded and its bytes are the copy's bytes (`sameAsCopy`, called by apply.ts
 *     for copy backups only). What this cannot tell apart is a later write of the very same bytes
 *     with the same mtime (at the filesystem's granularity: 1 s on sshfs, 2 s on FAT): the commit's
 *     change then replaces it, and nothing anyone wrote that differed from the original is lost.
 * Where links are refused (FAT) every backup is a copy anyway, and the comparison above is what
 * keeps a roll-forward working when fusefat renumbers a file. `probeInodeNumbers` is the fuller
 * experiment `txnfs doctor` reports (link, rename, another spelling), in its scratch directory:
 * it is not run by commits, whose every extra mutating call would be one more crash point.
 *
 * Cost: where numbers hold, one lstat per root and process. Where they do not, a copy per backup,
 * and reading the target and its copy once for a target whose number changed.
 */
import * as path from 'node:path';
import * as fs from '../io/fs.js';
import { lstatIfPresent, unlinkIfPresent } from '../io/if-present.js';
import { linkRefused } from '../io/links.js';

/** Per real root: whether a backup link shows its original's number. */
const linksTrusted = new Map<string, boolean>();

/**
 * The probe itself, in `dir` (which it leaves as it found it): `ok` false with what was seen when a
 * rename, a hard link or another spelling shows another number for one file.
 */
export async function probeInodeNumbers(dir: string): Promise<{ ok: boolean; detail: string }> {
  const tag = Math.random().toString(36).slice(2, 8);
  const made = path.join(dir, `.ino-${tag}-a`);
  const linked = path.join(dir, `.ino-${tag}-b`);
  const moved = path.join(dir, `.ino-${tag}-c`);
  let result: { ok: boolean; detail: string };
  try {
    result = await experiment(made, linked, moved, path.join(dir, `.INO-${tag.toUpperCase()}-A`));
  } catch (err) {
    for (const p of [made, linked, moved]) await fs.unlink(p).catch(() => undefined);
    throw err; // the probe's own error is the one to report
  }
  // ENOENT: that name was never made, or was renamed. Another errno (EIO) fails the commit,
  // before its commit point.
  for (const p of [made, linked, moved]) await unlinkIfPresent(p);
  return result;
}

async function experiment(made: string, linked: string, moved: string, upper: string): Promise<{ ok: boolean; detail: string }> {
  await (await fs.create(made, 0o600)).close();
  const first = (await fs.lstat(made)).ino;
  let links = true;
  try {
    await fs.link(made, linked);
  } catch (err) {
    // FAT: no hard links (backup.ts copies there anyway). Anything else (EIO) fails the commit.
    if (!linkRefused(err)) throw err;
    links = false;
  }
  if (links) {
    const other = (await fs.lstat(linked)).ino;
    if (other !== first) return { ok: false, detail: `a hard link reports another inode number than its original (${other}, ${first})` };
  }
  // The link (or, without links, the file itself, which is renamed back) under a new name.
  await fs.rename(links ? linked : made, moved);
  const after = (await fs.lstat(moved)).ino;
  if (!links) await fs.rename(moved, made);
  if (after !== first) return { ok: false, detail: `a rename changed the inode number (${first} to ${after})` };
  // A filesystem that folds case must show one number for one file under both spellings.
  const spelled = await lstatIfPresent(upper);
  const now = (await fs.lstat(made)).ino;
  if (spelled !== undefined && spelled.ino !== now) return { ok: false, detail: `one file shows another inode number under another spelling (${spelled.ino}, ${now})` };
  return { ok: true, detail: links ? 'kept by rename, shared by hard links' : 'kept by rename (no hard links to compare)' };
}

/**
 * Whether the backup link just made at `backup` from `original`, planned with inode number `ino`, can be
 * trusted, under `root` (a real root): decided by the first link per root and process (see the
 * header), cached both ways.
 */
export async function trustLink(root: string, original: string, backup: string, ino: bigint): Promise<boolean> {
  const known = linksTrusted.get(root);
  if (known !== undefined) return known;
  const linked = (await fs.lstat(backup)).ino;
  // Or the original now: a writer that replaced it since the plan is not the filesystem's fault
  // (the roll-forward's own checks catch that commit).
  const ok = linked === ino || linked === (await fs.lstat(original)).ino;
  linksTrusted.set(root, ok);
  return ok;
}

/** False once a link under `root` showed another number than its original (copy at once then). */
export function linksMayHold(root: string): boolean {
  return linksTrusted.get(root) !== false;
}

/** What a journal recorded about an original (the fields of JournalEntry this needs). */
export interface RecordedOriginal {
  readonly size?: number | null | undefined;
  readonly mtimeNs?: string | null | undefined;
}

/**
 * Whether `target` (at `targetPath`, lstat'ed as `info`) is still the original recorded as `was`
 * although its inode number changed: a regular file with the recorded size and mtime whose bytes
 * are those of its copy backup at `copyPath`. Only for a copy backup, which holds the original's
 * bytes as they were at the commit point (see the header for what this cannot tell apart).
 */
export async function sameAsCopy(was: RecordedOriginal, info: fs.Info | undefined, targetPath: string, copyPath: string): Promise<boolean> {
  if (info?.kind !== 'file' || was.size == null || was.mtimeNs == null) return false;
  if (info.size !== was.size || String(info.mtimeNs) !== was.mtimeNs) return false;
  const copy = await lstatIfPresent(copyPath);
  if (copy?.kind !== 'file' || copy.size !== was.size) return false;
  const [a, b] = await Promise.all([fs.readFile(targetPath), fs.readFile(copyPath)]);
  return a.equals(b);
}
