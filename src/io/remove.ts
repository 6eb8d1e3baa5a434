/**
 * remove.ts: remove a directory whose contents are known, in two rounds of calls.
 *
 * txnfs removes two kinds of directories of its own on every commit (docs/protocol.md, commit step
 * 10): a staging dir (files/ and backup/ empty after the apply) and two lock tombs
 * (an `owner` file). A generic
 * rm -rf (fs.rm) walks each one: lstat, rmdir (fails), readdir, then each child, then rmdir again:
 * about five calls in a row, per directory. Knowing the names, `removeKnown` unlinks and rmdirs
 * them all at once and then the directory: two calls in a row (three with a directory of files
 * it knows, such as a staging dir's backup/). A name that is already gone is
 * fine; an entry it did not expect (a directory that is not empty, a file where a directory was
 * expected) makes it fall back to the generic removal, so the result is always that of rm -rf.
 */
import * as fs from './fs.js';
import { errnoOf } from '../errors.js';
import { rmdirIfPresent, unlinkIfPresent } from './if-present.js';
import { settleAll } from './limit.js';

/**
 * What a removal of the wrong kind of entry fails with: rmdir of a directory that is not empty
 * (ENOTEMPTY, or EEXIST on some systems) or of a file (ENOTDIR), unlink of a directory (EISDIR on
 * Linux, EPERM on macOS). These mean "not what was expected here", not "the filesystem failed".
 */
const UNEXPECTED = new Set(['ENOTEMPTY', 'EEXIST', 'ENOTDIR', 'EISDIR', 'EPERM']);

/**
 * rm -rf `dir`, expected to hold at most the files `files` and the empty directories `dirs` (paths
 * of entries of `dir`), and the directories `emptied`, which hold nothing but some of `files`
 * (removed in a round of their own, once those are gone). A real failure (EIO, ENOSPC, EACCES,
 * ...) is thrown, as rm -rf would.
 */
export async function removeKnown(dir: string, files: readonly string[], dirs: readonly string[], emptied: readonly string[] = []): Promise<void> {
  try {
    await settleAll([...files.map((f) => unlinkIfPresent(f)), ...dirs.map((d) => rmdirIfPresent(d))]);
    if (emptied.length > 0) await settleAll(emptied.map((d) => rmdirIfPresent(d)));
    await rmdirIfPresent(dir);
  } catch (err) {
    if (!UNEXPECTED.has(errnoOf(err) ?? '')) throw err;
    // Something it did not expect is there: the generic walk removes it.
    await fs.removeTree(dir);
  }
}
