/**
 * probes.ts: small experiments on a filesystem, each asking one thing txnfs relies on, run by
 * `doctor()` inside its scratch directory (never on the caller's files).
 *
 * Each probe does the operation txnfs does and looks at what the filesystem answered: a probe
 * decides by behaviour, not by the filesystem's name. Errors that mean "this filesystem cannot"
 * become a `false` answer with the errno; any other error (EIO, EACCES) is thrown, as the doctor
 * must not report a guarantee it could not test.
 */
import * as path from 'node:path';
import * as fs from '../io/fs.js';
import { lstatIfPresent } from '../io/if-present.js';
import { errnoOf } from '../errors.js';
import { writeAll } from '../io/durable.js';

async function writeNew(p: string, data: string): Promise<void> {
  const h = await fs.create(p, 0o644);
  try {
    await writeAll(h, Buffer.from(data));
  } finally {
    await h.close();
  }
}

/** rename(2) of a file over an existing one replaces it whole: the new bytes, the old name gone. */
export async function probeRenameOver(dir: string): Promise<{ ok: boolean; detail: string }> {
  const from = path.join(dir, 'rename-new');
  const to = path.join(dir, 'rename-old');
  await writeNew(to, 'old contents, longer than the new');
  // Read first, as a reader of the target would have: a client that caches contents or sizes
  // (sshfs by default) then shows the old bytes, or the new ones cut to the old size.
  await fs.readFile(to);
  await writeNew(from, 'new');
  try {
    await fs.rename(from, to);
  } catch (err) {
    return { ok: false, detail: `rename over an existing file failed: ${errnoOf(err) ?? (err as Error).message}` };
  }
  const got = (await fs.readFile(to)).toString();
  if (got !== 'new') return { ok: false, detail: `after rename the target reads ${JSON.stringify(got)}, not the new bytes` };
  if ((await lstatIfPresent(from)) !== undefined) return { ok: false, detail: 'after rename the source name still exists' };
  return { ok: true, detail: 'replaces the target whole' };
}

/**
 * A file renamed into place reads as the bytes of a file that was renamed there, to every reader,
 * also while the next one is renamed over it. `tx.read()` and the check of `ifUnchanged` read the
 * target as any reader does: a filesystem that hands out other bytes (fusefat hands out zeros for
 * a moment after a rename) makes a read-modify-write inexact. A race, so it is tried `renames`
 * times against two readers, and stops at the first read of bytes no file held. Seeing none does
 * not prove there are none; seeing one proves the filesystem does it.
 */
export async function probeReadsAfterRename(dir: string, renames = 150): Promise<{ ok: boolean; detail: string }> {
  const base = path.join(dir, 'reads');
  await fs.mkdir(base);
  const target = path.join(base, 'target');
  const held = new Set<string>();
  let reads = 0;
  let bad: string | undefined;
  let done = false;
  const reader = async (): Promise<void> => {
    while (!done && bad === undefined) {
      let got: Buffer;
      try {
        got = await fs.readFile(target);
      } catch (err) {
        if (errnoOf(err) === 'ENOENT') continue; // before the first rename
        throw err;
      }
      reads++;
      // Every content is added to `held` before its file is written, so a read of any of them,
      // however late, is in it.
      if (!held.has(got.toString('latin1'))) bad = describeBytes(got);
    }
  };
  // A reader's unexpected error (EIO) is the doctor's to throw, once the writer has stopped.
  let failure: { readonly err: unknown } | undefined;
  const readers = [reader(), reader()].map((r) => r.catch((err: unknown) => {
    failure ??= { err };
  }));
  let n = 0;
  try {
    for (; n < renames && bad === undefined && failure === undefined; n++) {
      const data = JSON.stringify({ probe: 'reads', n, pad: '-'.repeat(64 + (n % 64)) });
      held.add(data);
      const temp = path.join(base, `t${n}`);
      await writeNew(temp, data);
      await fs.rename(temp, target);
    }
  } finally {
    done = true;
    await Promise.all(readers);
  }
  if (failure !== undefined) throw failure.err;
  if (bad !== undefined) return { ok: false, detail: `after ${n} renames, a read returned bytes no file held: ${bad}` };
  return { ok: true, detail: `${reads} reads racing ${n} renames each read a whole file renamed in` };
}

function describeBytes(b: Buffer): string {
  if (b.length > 0 && b.every((x) => x === 0)) return `${b.length} NUL bytes`;
  return `${b.length} bytes starting ${JSON.stringify(b.subarray(0, 16).toString('latin1'))}`;
}

/** fsync(2) of a directory: accepted, or refused with the errno durable.ts ignores. */
export async function probeDirSync(dir: string): Promise<{ ok: boolean; detail: string }> {
  try {
    await fs.syncDir(dir);
    return { ok: true, detail: 'accepted' };
  } catch (err) {
    const code = errnoOf(err);
    if (code === 'EINVAL' || code === 'ENOTSUP' || code === 'EPERM' || code === 'EISDIR') return { ok: false, detail: `refused (${code})` };
    throw err;
  }
}

/** link(2) of a file this process owns; the errno when refused. */
export async function probeHardLink(dir: string): Promise<{ ok: boolean; detail: string }> {
  const file = path.join(dir, 'link-src');
  await writeNew(file, 'x');
  try {
    await fs.link(file, path.join(dir, 'link-dst'));
  } catch (err) {
    const code = errnoOf(err);
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS' || code === 'EMLINK') return { ok: false, detail: `refused (${code})` };
    throw err;
  }
  // backup.ts uses a link whenever link(2) succeeds; whether it shares the inode number is the
  // 'inodes' check (sshfs makes the link but reports one link and another number).
  const n = (await fs.lstat(file)).nlink;
  return { ok: true, detail: n === 2 ? 'supported' : `supported (the file reports ${n} link${n === 1 ? '' : 's'})` };
}

/** chmod(2): accepted, or refused with the errno (fusefat: ENOSYS, FAT has no permission bits). */
export async function probeChmod(dir: string): Promise<{ ok: boolean; detail: string }> {
  const file = path.join(dir, 'mode');
  await writeNew(file, 'x');
  try {
    await fs.chmod(file, 0o600);
  } catch (err) {
    const code = errnoOf(err);
    if (code === 'ENOSYS' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'EPERM') return { ok: false, detail: `refused (${code})` };
    throw err;
  }
  const mode = (await fs.lstat(file)).mode & 0o777;
  return mode === 0o600 ? { ok: true, detail: 'kept' } : { ok: false, detail: `accepted but not kept (0o${mode.toString(8)})` };
}

/** fs.protected_hardlinks, and whether it applies to this process (root bypasses it). */
export function protectedHardlinks(): { value: string | undefined; bypassed: boolean } {
  const value = fs.readProcFile('/proc/sys/fs/protected_hardlinks')?.trim();
  return { value, bypassed: fs.effectiveUid() === 0 };
}

/** A second O_CREAT|O_EXCL and a second mkdir(2) of one name both fail with EEXIST. */
export async function probeExclusive(dir: string): Promise<{ create: boolean; mkdir: boolean; detail: string }> {
  const file = path.join(dir, 'excl');
  await writeNew(file, 'x');
  let create = false;
  try {
    await (await fs.create(file, 0o644)).close();
  } catch (err) {
    if (errnoOf(err) !== 'EEXIST') throw err;
    create = true;
  }
  const sub = path.join(dir, 'excl-dir');
  await fs.mkdir(sub);
  let mkdir = false;
  try {
    await fs.mkdir(sub);
  } catch (err) {
    if (errnoOf(err) !== 'EEXIST') throw err;
    mkdir = true;
  }
  const parts = [create ? 'O_EXCL: EEXIST' : 'O_EXCL: a second create succeeded', mkdir ? 'mkdir: EEXIST' : 'mkdir: a second mkdir succeeded'];
  return { create, mkdir, detail: parts.join('; ') };
}

/**
 * The mtime granularity in ms: set an mtime of an odd second plus 123.456 ms and read it back.
 * 0.001 or finer stays; 1000 when the fraction is dropped; 2000 when the odd second is rounded too
 * (FAT).
 */
export async function probeMtimeGranularity(dir: string): Promise<number> {
  const file = path.join(dir, 'mtime');
  await writeNew(file, 'x');
  const set = 1_700_000_001_123.456;
  await fs.utimes(file, new Date(set), new Date(set));
  const ns = (await fs.lstat(file)).mtimeNs;
  const ms = Number(ns / 1_000_000n);
  if (ms % 1000 !== 0) {
    if (ns % 1_000_000n !== 0n) return 0.001;
    return ms % 10 !== 0 ? 1 : ms % 100 !== 0 ? 10 : 100;
  }
  return (ms / 1000) % 2 === 1 ? 1000 : 2000;
}

/**
 * Whether a name looked up with another spelling finds the file made under the first; 'refused'
 * with the errno when the filesystem will not create the first name at all (fusefat refuses
 * names outside ASCII with EPERM). The scratch dir holds nothing else of that name, so finding
 * anything is the answer; inode numbers are not compared, as FUSE hands out one per spelling
 * looked up (fusefat: `Foo`, `FOO` and `foo` are three inode numbers for one file).
 */
async function sameFileUnder(dir: string, made: string, other: string): Promise<boolean | { refused: string }> {
  try {
    await writeNew(path.join(dir, made), 'x');
  } catch (err) {
    const code = errnoOf(err);
    if (code === 'EPERM' || code === 'EINVAL' || code === 'EILSEQ' || code === 'ENAMETOOLONG') return { refused: code };
    throw err;
  }
  return (await lstatIfPresent(path.join(dir, other))) !== undefined;
}

/** Does the filesystem fold case (`Probe-Case` found as `PROBE-CASE`)? */
export function probeCaseFolding(dir: string): Promise<boolean | { refused: string }> {
  return sameFileUnder(dir, 'Case-Probe', 'CASE-PROBE');
}

/** Does it normalise Unicode (NFC `é` found under its NFD spelling `e` + U+0301)? */
export function probeNormalisation(dir: string): Promise<boolean | { refused: string }> {
  return sameFileUnder(dir, 'nf-\u00e9', 'nf-e\u0301');
}

/**
 * rename(2) of a non-empty directory keeps what is inside: the generations layout renames a built
 * generation directory into place. fusefat loses the entries.
 */
export async function probeDirRename(dir: string): Promise<{ ok: boolean; detail: string }> {
  const from = path.join(dir, 'dir-from');
  const to = path.join(dir, 'dir-to');
  await fs.mkdir(from);
  await writeNew(path.join(from, 'inside'), 'x');
  try {
    await fs.rename(from, to);
  } catch (err) {
    return { ok: false, detail: `refused (${errnoOf(err) ?? (err as Error).message})` };
  }
  if ((await lstatIfPresent(path.join(to, 'inside'))) === undefined) return { ok: false, detail: 'the renamed directory lost its entries' };
  return { ok: true, detail: 'keeps its entries' };
}
