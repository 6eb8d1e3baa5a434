/**
 * protocol/tree-apply.ts: the journal's `rmdirs` (directories tx.removeTree / tx.emptyDir remove;
 * src/transaction/tree.ts) at roll-forward and at rollback.
 * docs/protocol.md: step 9 (Apply) of "Commit", and its rollback.
 *
 * Roll-forward: after every entry is applied (the files inside are gone), each directory is
 * removed, children first. Idempotent: a directory already gone is skipped, so a recovery after a
 * crash anywhere in the apply simply runs it again. One that is not empty (another writer, not a
 * transaction, put something there after the commit point) is left, like a superseded target: the
 * newer data stands. The parents are fsynced with the applied directories, before the journal goes.
 *
 * Rollback (a live apply that failed after the commit point, or recovery finding the marker):
 * before any file is put back, every missing directory of `rmdirs` is re-created, parents first,
 * so each backup has a place to go back to. Nothing is removed before the commit point, so a crash
 * there leaves the tree untouched (recovery drops the staging dir).
 *
 * Every path goes through real directories only (lstat each component): rmdir and mkdir follow a
 * symlink in the parent chain, and a forged or stale journal must not reach outside the root.
 */
import * as path from 'node:path';
import * as fs from '../io/fs.js';
import { errnoOf } from '../errors.js';
import { lstatIfPresent } from '../io/if-present.js';

function absOf(root: string, rel: string): string {
  return path.join(root, ...rel.split('/'));
}

function parentOf(rel: string): string {
  const slash = rel.lastIndexOf('/');
  return slash === -1 ? '' : rel.slice(0, slash);
}

/** True when every component of `rel` (possibly '') is a real directory now. */
async function realDir(root: string, rel: string): Promise<boolean> {
  if (rel === '') return true;
  const parts = rel.split('/');
  for (let i = 1; i <= parts.length; i++) {
    if ((await lstatIfPresent(absOf(root, parts.slice(0, i).join('/'))))?.kind !== 'dir') return false;
  }
  return true;
}

/** Remove the journal's `rmdirs`, children first. Returns the parents whose entries changed (to fsync). */
export async function removeDirs(root: string, rmdirs: readonly string[] | undefined): Promise<string[]> {
  const parents: string[] = [];
  for (const d of rmdirs ?? []) {
    if (!(await realDir(root, d))) continue; // gone already (a re-run), or no longer ours to touch
    try {
      await fs.rmdir(absOf(root, d));
      parents.push(absOf(root, parentOf(d)));
    } catch (err) {
      const code = errnoOf(err);
      if (code !== 'ENOENT' && code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOTDIR') throw err;
    }
  }
  return parents;
}

/** Re-create the missing directories of `rmdirs`, parents first. Returns the parents to fsync. */
export async function restoreDirs(root: string, rmdirs: readonly string[] | undefined): Promise<string[]> {
  const parents: string[] = [];
  for (const d of [...(rmdirs ?? [])].reverse()) {
    if (!(await realDir(root, parentOf(d)))) continue;
    if ((await lstatIfPresent(absOf(root, d))) !== undefined) continue;
    try {
      await fs.mkdir(absOf(root, d));
      parents.push(absOf(root, parentOf(d)));
    } catch (err) {
      if (errnoOf(err) !== 'EEXIST') throw err;
    }
  }
  return parents;
}
