/**
 * build.ts (generations): make the next generation share every unchanged file with the current one.
 *
 * One walk of the current generation: each directory is listed once (readdir with d_type, no stat
 * per file), recreated in the new tree, and each file in it that the commit does not replace or
 * remove is hard-linked: one link(2) per unchanged file, no byte copied. Directories and links run
 * through one queue drained by `concurrency` workers, so listing the next directory overlaps
 * linking the files of the last. Cost: for F unchanged files in D directories, F links, D readdirs,
 * D mkdirs and D lstats (a directory keeps its mode); nothing per file is kept but its path while
 * it waits in the queue.
 *
 * Symlinks and special files are linked too (link(2) on Linux does not follow a symlink), so they
 * carry over as they were. Hard links make the inode shared by both generations: that is safe only
 * because nothing ever writes into a published generation (a commit replaces a file by renaming a
 * new inode into the *next* generation). A person who edits `out/a` in place changes it in every
 * generation that shares it: docs/snapshots.md says so.
 */
import * as path from 'node:path';
import * as fs from '../fs.js';

export interface BuildResult {
  /** Every directory of the new tree (absolute), its root included: each needs an fsync. */
  readonly dirs: string[];
  /** Files linked. */
  readonly linked: number;
  /** Linked files (absolute, in the new tree), when the caller asked for them (`listFiles`). */
  readonly files: string[];
}

export interface BuildOptions {
  /** Paths (relative, '/'-joined) not to carry over: the commit's targets. */
  readonly skip: ReadonlySet<string>;
  /** Top-level names not to carry over (a converted directory's own `.txnfs`). */
  readonly skipTop?: ReadonlySet<string> | undefined;
  readonly concurrency: number;
  /** Collect the linked files' paths (a conversion fsyncs each one once). */
  readonly listFiles?: boolean | undefined;
}

/** Link the tree `from` into the existing, empty directory `to`, leaving out `options.skip`. */
export async function linkTree(from: string, to: string, options: BuildOptions): Promise<BuildResult> {
  const dirs: string[] = [to];
  const files: string[] = [];
  let linked = 0;
  // The queue holds relative paths: a directory to list (marked by a trailing '/'), or a file to
  // link. '' is the root, listed first.
  const queue: string[] = ['/'];
  let failed: unknown;
  let waiting: (() => void)[] = [];
  let busy = 0;
  const wake = (): void => {
    const w = waiting;
    waiting = [];
    for (const f of w) f();
  };
  const listDir = async (rel: string): Promise<void> => {
    const src = rel === '' ? from : path.join(from, rel);
    const dst = rel === '' ? to : path.join(to, rel);
    if (rel !== '') {
      await fs.mkdir(dst);
      dirs.push(dst);
      // A directory keeps its permission bits (mkdir applies the umask).
      const mode = (await fs.lstat(src)).mode;
      if (((await fs.lstat(dst)).mode) !== mode) await fs.chmod(dst, mode);
    }
    for (const e of await fs.readdirKinds(src)) {
      const child = rel === '' ? e.name : `${rel}/${e.name}`;
      if (rel === '' && options.skipTop?.has(e.name) === true) continue;
      if (e.kind === 'dir') queue.push(`${child}/`);
      else if (!options.skip.has(child)) queue.push(child);
    }
    wake();
  };
  const worker = async (): Promise<void> => {
    for (;;) {
      if (failed !== undefined) return;
      const item = queue.pop();
      if (item === undefined) {
        // Another worker may still be listing a directory that will fill the queue.
        if (busy === 0) return;
        await new Promise<void>((r) => waiting.push(r));
        continue;
      }
      busy++;
      try {
        if (item.endsWith('/')) await listDir(item.slice(0, -1));
        else {
          const dst = path.join(to, item);
          await fs.link(path.join(from, item), dst);
          linked++;
          if (options.listFiles === true) files.push(dst);
        }
      } catch (err) {
        failed ??= err;
      } finally {
        busy--;
        if (busy === 0 && queue.length === 0) wake();
      }
    }
  };
  const workers: Promise<void>[] = [];
  for (let w = 0; w < Math.max(1, options.concurrency); w++) workers.push(worker());
  await Promise.all(workers);
  if (failed !== undefined) throw failed;
  return { dirs, linked, files };
}
