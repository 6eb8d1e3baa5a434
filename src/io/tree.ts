/**
 * tree.ts: list the regular files of a directory tree, never following a symlink.
 *
 * Used by tx.removeTree/tx.emptyDir at commit, and by `txnfs exec` twice: on the command's output tree (every regular file becomes a target;
 * anything else is refused), and with `--delete-missing` on the root's subtree (every regular file
 * not produced is removed). Depth-first, one readdir per directory and one lstat per entry, at most
 * `concurrency` lstats in flight; results are sorted so output and journals are deterministic.
 * Directories are listed too (parents first): tx.removeTree and tx.emptyDir remove them, children
 * first, once their files are gone (src/transaction/tree.ts).
 */
import * as path from 'node:path';
import * as fs from './fs.js';
import type { EntryKind } from './fs.js';
import { lstatIfPresent } from './if-present.js';
import { mapLimit } from './limit.js';

/** What a walk found. Paths are relative to the walked directory, '/'-joined. */
export interface Tree {
  /** Regular files. */
  readonly files: string[];
  /** Directories below the walked one, parents before children (tx.removeTree/emptyDir remove them). */
  readonly dirs: string[];
  /** Symlinks, FIFOs, sockets and devices (never followed or opened). */
  readonly others: { readonly rel: string; readonly kind: Exclude<EntryKind, 'file' | 'dir'> }[];
}

export interface WalkOptions {
  /** Skip an entry (and, for a directory, everything below it) when this returns true. */
  readonly skip?: ((name: string, rel: string) => boolean) | undefined;
  /** lstats in flight at once. @default 16 */
  readonly concurrency?: number | undefined;
}

/** Walk `dir` (which must be a directory). */
export async function walk(dir: string, options: WalkOptions = {}): Promise<Tree> {
  const files: string[] = [];
  const dirs: string[] = [];
  const others: Tree['others'] = [];
  const concurrency = options.concurrency ?? 16;
  const visit = async (rel: string): Promise<void> => {
    const names = (await fs.readdir(rel === '' ? dir : path.join(dir, rel))).sort();
    const entries = names
      .map((name) => ({ name, rel: rel === '' ? name : `${rel}/${name}` }))
      .filter((e) => options.skip?.(e.name, e.rel) !== true);
    // An entry removed since the readdir (a concurrent commit in the root) is simply not there.
    const infos = await mapLimit(entries, concurrency, (e) => lstatIfPresent(path.join(dir, e.rel)));
    for (const [i, e] of entries.entries()) {
      const kind = infos[i]?.kind;
      if (kind === undefined) continue;
      if (kind === 'dir') {
        dirs.push(e.rel);
        await visit(e.rel);
      }
      else if (kind === 'file') files.push(e.rel);
      else others.push({ rel: e.rel, kind });
    }
  };
  await visit('');
  return { files, dirs, others };
}
