/**
 * transaction/tree.ts: what `tx.mkdir`, `tx.removeTree` and `tx.emptyDir` stage, and how a commit
 * turns them into journal content (issue 18).
 *
 * None of them adds a new kind of entry. At commit, under the root lock, before the plan:
 *
 *   - mkdir(dir): every missing component of `dir` joins the journal's `dirs` (the directories a
 *     commit creates: created at apply before any rename, removed by a rollback, as for the parents
 *     of a new file). An existing directory is left as it is; a file or symlink there is ETARGET.
 *   - removeTree(dir): the tree is walked (never following a symlink); every regular file becomes
 *     an ordinary delete entry (backed up before the commit point, restored by a rollback, exactly
 *     like tx.remove), and every directory of it, `dir` included, joins the journal's `rmdirs`
 *     (deepest first). The roll-forward removes them after every entry is applied; a rollback
 *     re-creates any that are missing before it puts files back (src/protocol/tree-apply.ts).
 *   - emptyDir(dir): the same, except that `dir` stays (it is created when missing, as fs-extra's
 *     emptyDir does), and that files this transaction writes under `dir` are kept, whatever the
 *     order of the calls: `dir` then holds exactly the transaction's files under it. A directory
 *     on the way to a written file (or a mkdir) is kept too.
 *
 * Refused with ETARGET (nothing committed): a removeTree/emptyDir of a file; a symlink on the path
 * or anywhere in the tree, or a FIFO, socket or device in it (txnfs never removes what it would
 * not write); a removeTree of a tree this transaction also writes or mkdirs into. In the
 * generations layout these operations are refused at the call (ETARGET): a generation is built
 * from the files a transaction writes, so "remove a tree" has no meaning there yet.
 */
import * as path from 'node:path';
import { codes, TxnError } from '../errors.js';
import { lstatIfPresent } from '../io/if-present.js';
import { looseKey } from './casefold.js';
import { isReserved } from './paths.js';
import { walk } from '../io/tree.js';

/** One staged tree operation, in call order. */
export type TreeOp = { readonly op: 'mkdir' | 'removeTree' | 'emptyDir'; readonly rel: string };

/** What the tree operations add to a plan. */
export interface TreePlan {
  /** Files to remove (real, relative, '/'-joined): delete entries. */
  readonly deletes: string[];
  /** Directories to create (parents first): appended to the journal's `dirs`. */
  readonly mkdirs: string[];
  /** Directories to remove after the apply (children first): the journal's `rmdirs`. */
  readonly rmdirs: string[];
}

/** A directory argument: one trailing separator is allowed ('site/'), as fs-extra users write it. */
export function dirArgument(input: unknown): unknown {
  return typeof input === 'string' && input.length > 1 && input.endsWith('/') ? input.slice(0, -1) : input;
}

/**
 * Look at `rel` under `root` through real directories: 'dir', 'missing' (with the first missing
 * component's index), or ETARGET for a file, symlink or special file on the way.
 */
async function lookDir(root: string, rel: string, op: string, txnId: string): Promise<{ kind: 'dir' } | { kind: 'missing'; from: number }> {
  const parts = rel.split('/');
  for (let i = 0; i < parts.length; i++) {
    const sub = parts.slice(0, i + 1).join('/');
    const info = await lstatIfPresent(path.join(root, ...sub.split('/')));
    if (info === undefined) return { kind: 'missing', from: i };
    if (info.kind !== 'dir') {
      const what = info.kind === 'file' ? 'a file' : info.kind === 'symlink' ? 'a symlink' : 'a special file';
      throw new TxnError(codes.ETARGET, `Cannot ${op}('${rel}'): '${sub}' is ${what}, not a directory (txnfs never follows a symlink here). Remove or rename '${sub}' first, or use tx.remove() if you meant that file. Nothing was committed.`, { path: sub, txnId });
    }
  }
  return { kind: 'dir' };
}

/**
 * Turn the staged tree operations into plan content. `written`: every target of a write (or
 * copy/rename destination) in this transaction, as given. Runs under the root lock, so the walk
 * sees the files the commit resolves.
 */
export async function planTree(root: string, ops: readonly TreeOp[], written: readonly string[], txnId: string): Promise<TreePlan> {
  const deletes: string[] = [];
  const mkdirs: string[] = [];
  const rmdirs: string[] = [];
  const seenDirs = new Set<string>();
  const addMkdirs = (rel: string, from: number): void => {
    const parts = rel.split('/');
    for (let i = from; i < parts.length; i++) {
      const d = parts.slice(0, i + 1).join('/');
      if (!seenDirs.has(d)) {
        seenDirs.add(d);
        mkdirs.push(d);
      }
    }
  };
  const writtenKeys = new Set(written.map(looseKey));
  const mkdirRels = ops.filter((o) => o.op === 'mkdir').map((o) => o.rel);
  // Directories a write or a mkdir needs (loose keys: on a case-folding filesystem 'Site/a' lives in 'site').
  const neededKeys = new Set<string>();
  for (const rel of [...written, ...mkdirRels]) {
    const parts = rel.split('/');
    for (let i = 1; i <= parts.length; i++) neededKeys.add(looseKey(parts.slice(0, i).join('/')));
  }
  const deleted = new Set<string>();
  for (const o of ops) {
    if (o.op === 'mkdir') {
      const r = await lookDir(root, o.rel, 'mkdir', txnId);
      if (r.kind === 'missing') addMkdirs(o.rel, r.from);
      continue;
    }
    const r = await lookDir(root, o.rel, o.op, txnId);
    if (o.op === 'removeTree') {
      const key = looseKey(o.rel);
      const clash = [...written, ...mkdirRels].find((w) => looseKey(w) === key || looseKey(w).startsWith(`${key}/`));
      if (clash !== undefined) {
        throw new TxnError(codes.ETARGET, `Cannot removeTree('${o.rel}'): this transaction also ${written.includes(clash) ? 'writes' : 'creates'} '${clash}' inside it. Use emptyDir('${o.rel}') with the writes to replace the tree's content. Nothing was committed.`, { path: clash, txnId });
      }
    }
    if (r.kind === 'missing') {
      if (o.op === 'emptyDir') addMkdirs(o.rel, r.from);
      continue; // removeTree of nothing: rm -rf
    }
    const tree = await walk(path.join(root, ...o.rel.split('/')), { skip: (name) => isReserved(name) });
    if (tree.others.length > 0) {
      const first = tree.others[0] as (typeof tree.others)[number];
      throw new TxnError(codes.ETARGET, `Cannot ${o.op}('${o.rel}'): it holds '${o.rel}/${first.rel}', ${first.kind === 'symlink' ? 'a symlink' : 'a special file'} (${tree.others.length} such entr${tree.others.length === 1 ? 'y' : 'ies'}); txnfs removes regular files and directories only. Remove them first. Nothing was committed.`, { path: `${o.rel}/${first.rel}`, txnId });
    }
    for (const f of tree.files) {
      const rel = `${o.rel}/${f}`;
      if (writtenKeys.has(looseKey(rel)) || deleted.has(rel)) continue;
      deleted.add(rel);
      deletes.push(rel);
    }
    const dirs = tree.dirs.map((d) => `${o.rel}/${d}`);
    if (o.op === 'removeTree') dirs.unshift(o.rel);
    // Children first: walk() lists parents before children, so the reverse order rmdirs cleanly.
    for (const d of dirs.reverse()) {
      if (neededKeys.has(looseKey(d)) || rmdirs.includes(d)) continue;
      rmdirs.push(d);
    }
  }
  // Two removals of overlapping trees: keep children before parents across them too.
  rmdirs.sort((a, b) => b.split('/').length - a.split('/').length);
  return { deletes, mkdirs, rmdirs };
}
