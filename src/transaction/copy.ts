/**
 * copy.ts: what `tx.copy(from, to)` and `tx.rename(from, to)` stage.
 *
 * Both are ordinary journal entries, so they commit, roll back and recover exactly like
 * `write()` and `remove()` (no new journal op, nothing new for recovery to learn):
 *
 *   - copy(from, to) clones the file `from` of the root into the staging dir (`files/<n>`) with
 *     copyFile(COPYFILE_FICLONE): a copy-on-write clone where the filesystem makes one (btrfs,
 *     XFS, bcachefs: no byte is copied, whatever the size), a byte copy elsewhere. From then on it
 *     is a staged write of `to`: the content `from` had when it was staged.
 *   - rename(from, to) is that copy, plus the removal of `from` in the same commit, plus a
 *     precondition that `from` is, at commit time, still the very file that was cloned (inode,
 *     size, mtime): otherwise the commit fails with EPRECONDITION and nothing changes, since the
 *     removal would drop a newer `from` that `to` does not hold.
 *
 * Why a clone and not a hard link into staging for rename: the staged file of a replaced target
 * gets the target's mode (and owner, as root) before the commit point, and the apply renames it
 * over `to`; with a link that chmod would change `from` itself before the commit point (the root
 * must be untouched until then), and `from`'s other names would share every later change.
 *
 * The clone is taken with `from` unchanged across it (lstat before and after: same inode, size and
 * mtime), else ESTAGE: a file being rewritten in place while it is cloned can give a mix.
 */
import * as fs from '../io/fs.js';
import { codes, errnoOf, TxnError } from '../errors.js';

/** What a clone recorded: the staged copy and the source as it was cloned. */
export interface Cloned {
  readonly staged: fs.Info;
  readonly source: fs.Info;
}

const same = (a: fs.Info, b: fs.Info): boolean => a.ino === b.ino && a.dev === b.dev && a.size === b.size && a.mtimeNs === b.mtimeNs;

/**
 * Clone the regular file `source` (an absolute path through real directories) into the new file
 * `staged`. The caller fsyncs it: the journal will promise these bytes.
 */
export async function cloneInto(source: string, staged: string, rel: string, from: string): Promise<Cloned> {
  const refuse = (why: string, cause?: unknown): TxnError => new TxnError(codes.ESTAGE, `Cannot copy '${from}' to '${rel}': ${why}. Nothing was committed; pass a path to an existing regular file.`, { path: from, cause });
  let before: fs.Info;
  try {
    before = await fs.lstat(source);
  } catch (err) {
    if (errnoOf(err) === 'ENOENT' || errnoOf(err) === 'ENOTDIR') throw refuse('it does not exist', err);
    throw err;
  }
  if (before.kind !== 'file') throw refuse(`it is ${before.kind === 'dir' ? 'a directory (copy and rename take files)' : before.kind === 'symlink' ? 'a symlink' : 'not a regular file'}`);
  await fs.copyFile(source, staged);
  const after = await fs.lstat(source);
  if (!same(before, after)) throw refuse('it changed while it was being copied (another writer); retry once it is written');
  return { staged: await fs.lstat(staged), source: before };
}
