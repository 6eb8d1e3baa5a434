/**
 * backup.ts: keep the original of a file a commit replaces or removes, in backup/<i>, until the
 * journal is gone. A rollback restores it from there; a roll-forward checks it is still there.
 *
 * First choice: a hard link. It costs one link(2), copies nothing, and pins the original's inode
 * number (a number in use is never handed to another file), which is what lets the roll-forward
 * trust "same inode number" to mean "same file" (apply.ts).
 *
 * Where link(2) is refused, a copy: the original's bytes, permission bits, owner (when this
 * process may set it: as root, or when it already is the owner) and mtime, written to a new
 * backup/<i> and fsynced before the commit point like every other record. Refusals that mean
 * "no hard link here" rather than "something is wrong":
 *   - EPERM: Linux with fs.protected_hardlinks = 1 (the default of most distributions) refuses a
 *     link to a file this user does not own and cannot write; FAT through FUSE refuses all links;
 *   - ENOTSUP / EOPNOTSUPP / ENOSYS: a filesystem without hard links (some FUSE filesystems);
 *   - EMLINK: the original already has the most links the filesystem allows.
 * The journal records that entry i's backup is a copy; as a copy pins no inode number, the
 * roll-forward then needs inode, size and mtime (ns) to match (docs/protocol.md, the residual risk).
 *
 * Cost of a copy: the file is read whole into memory and written once (plus an fsync under
 * durability 'full'), so only for files whose link is refused, which is the price of being able
 * to undo there at all.
 */
import * as fs from '../io/fs.js';
import { codes, errnoOf, TxnError } from '../errors.js';
import { linkRefused } from '../io/links.js';
import { writeAll } from '../io/durable.js';
import type { Original } from './entries.js';
import { setMode, setOwner } from '../platform/no-modes.js';
import { linksMayHold, trustLink } from '../platform/ino-trust.js';

/**
 * Keep `original` (whose identity the plan recorded as `was`) at `backup`. Resolves 'link' or
 * 'copy'. Rejects with EPRECONDITION when the original changed while it was being copied, and with
 * EFS (saying why) when neither a link nor a copy can be made.
 */
export async function backupOriginal(original: string, backup: string, was: Original, durable: boolean, root: string): Promise<'link' | 'copy'> {
  let linkError: unknown;
  // Where inode numbers do not name files (sshfs), a link cannot be told from its original: the
  // first link under a root shows it, and that root gets copies (ino-trust.ts).
  if (linksMayHold(root)) {
    let linked = false;
    try {
      await fs.link(original, backup);
      linked = true;
    } catch (err) {
      if (!linkRefused(err)) throw err; // no link here: copy instead
      linkError = err;
    }
    if (linked) {
      if (await trustLink(root, original, backup, was.ino)) return 'link';
      await fs.unlink(backup);
    }
  }
  try {
    await copyOriginal(original, backup, was, durable, root);
  } catch (err) {
    if (err instanceof TxnError) throw err;
    const why = linkError === undefined
      ? 'hard links cannot be trusted on this filesystem (inode numbers do not name files: txnfs doctor)'
      : errnoOf(linkError) === 'EPERM'
      ? 'hard links to it are refused (fs.protected_hardlinks = 1 refuses a link to a file of another user that you cannot write; a FAT or similar filesystem has none)'
      : `this filesystem has no hard links here (${errnoOf(linkError)})`;
    throw new TxnError(
      codes.EFS,
      `Cannot keep a backup of '${original}', which this commit replaces or removes: ${why}, and copying it failed too (${(err as Error).message}). Nothing was committed. Make the file readable to this user (or run as its owner), then retry.`,
      { path: original, cause: err },
    );
  }
  return 'copy';
}

async function copyOriginal(original: string, backup: string, was: Original, durable: boolean, root: string): Promise<void> {
  const data = await fs.readFile(original);
  const info = await fs.lstat(original);
  // Read after the plan: a writer may have changed it in between. A copy of another version would
  // restore the wrong bytes after a rollback, so the commit stops here (nothing is committed yet).
  if (info.kind !== 'file' || info.ino !== was.ino || info.size !== was.size || info.mtimeNs !== was.mtimeNs || data.length !== was.size) {
    throw new TxnError(codes.EPRECONDITION, `'${original}' changed while txnfs was copying it for its backup (another writer is at work on it). Nothing was committed; retry.`, { path: original });
  }
  const handle = await fs.create(backup, info.mode);
  try {
    await writeAll(handle, data);
    // create() applied the umask; the restored file must have exactly the original's bits.
    // (Skipped where the filesystem has no modes or owners, FAT: no-modes.ts.)
    await setMode(root, () => handle.chmod(info.mode));
    try {
      await setOwner(root, () => handle.chown(info.uid, info.gid));
      // chown clears setuid/setgid: set the bits again after it.
      if ((info.mode & 0o6000) !== 0) await setMode(root, () => handle.chmod(info.mode));
    } catch (err) {
      // Only root (or the owner, to its own groups) may give a file away. A non-owner's copy keeps
      // the bytes and mode; a rollback then restores a file this user owns (docs/protocol.md).
      if (errnoOf(err) !== 'EPERM') throw err;
    }
    // The backup pins no inode, so it is durable data of its own, needed before the commit point.
    if (durable) await handle.sync();
  } finally {
    await handle.close();
  }
  const mtime = new Date(Number(info.mtimeNs / 1_000_000n));
  await fs.utimes(backup, mtime, mtime);
}
