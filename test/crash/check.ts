/**
 * check.ts: what every crash and fault loop asserts about a root once it has been recovered.
 *
 *  - all or nothing (invariant 1): every file, byte for byte, is the workload's old state or its
 *    new state (workloads.ts `judge`), and so is the set of directories (a rollback must remove the
 *    directories the commit created; `judge` alone would not see an empty directory left behind);
 *  - clean (invariant 6): nothing is left in `<root>/.txnfs/` (no staging dir, journal, lock, tomb);
 *  - confined (invariant 3): the root lives in a sandbox directory next to a sentinel file; nothing
 *    else may appear there and the sentinel must not change.
 *
 * Problems are returned as strings, so a loop can collect every violation with its fault point
 * instead of stopping at the first.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, applyDirOps, judge, read, seed, type Workload } from './workloads.js';

export interface Sandbox {
  /** The directory that holds the root and the sentinel. */
  readonly parent: string;
  /** The transaction root. */
  readonly root: string;
}

const SENTINEL = 'outside.txt';
const SENTINEL_DATA = 'this file is outside the root; txnfs must never touch it\n';

/** A root inside `parent` (which must be empty), next to a sentinel file, seeded with `w.before`. */
export function sandbox(parent: string, w?: Workload): Sandbox {
  const root = path.join(parent, 'root');
  fs.mkdirSync(root);
  fs.writeFileSync(path.join(parent, SENTINEL), SENTINEL_DATA);
  if (w !== undefined) seed(root, w);
  return { parent, root };
}

/** Every directory under `root` except `.txnfs` (relative, '/'-joined, sorted). */
export function dirsOf(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const r = rel === '' ? e.name : `${rel}/${e.name}`;
      if (r === '.txnfs' || !e.isDirectory()) continue;
      out.push(r);
      walk(r);
    }
  };
  walk('');
  return out.sort();
}

function parents(files: Iterable<string>): Set<string> {
  const out = new Set<string>();
  for (const f of files) {
    const parts = f.split('/');
    for (let i = 1; i < parts.length; i++) out.add(parts.slice(0, i).join('/'));
  }
  return out;
}

/** Directories of the old state, and of the new state (only tx.removeTree/emptyDir remove one). */
export function expectedDirs(w: Workload): { old: string[]; new: string[] } {
  const old = parents(w.before.keys());
  const neu = new Set([...old, ...parents(after(w).keys())]);
  applyDirOps(after(w), neu, w.ops); // tx.mkdir/removeTree/emptyDir change directories too
  return { old: [...old].sort(), new: [...neu].sort() };
}

/** Names left in `<root>/.txnfs/` ([] when clean or when there is no home). */
export function homeEntries(root: string): string[] {
  try {
    return fs.readdirSync(path.join(root, '.txnfs')).sort();
  } catch {
    return [];
  }
}

/** Problems with the sandbox around the root: anything created, changed or removed outside it. */
export function confinementProblems(sb: Sandbox): string[] {
  const problems: string[] = [];
  const names = fs.readdirSync(sb.parent).sort();
  if (names.join(',') !== [SENTINEL, 'root'].join(',')) problems.push(`outside the root: ${names.join(', ')}`);
  let data = '';
  try {
    data = fs.readFileSync(path.join(sb.parent, SENTINEL), 'utf8');
  } catch {
    data = '<missing>';
  }
  if (data !== SENTINEL_DATA) problems.push('the sentinel outside the root changed');
  return problems;
}

export interface RootVerdict {
  /** 'old' or 'new' when the files and directories are exactly one of the two states. */
  readonly outcome: 'old' | 'new' | 'mixed';
  /** Every violation found (empty when the root is consistent, clean and confined). */
  readonly problems: string[];
}

/** Judge a recovered root against workload `w`. */
export function inspectRoot(w: Workload, sb: Sandbox, options: { clean?: boolean } = {}): RootVerdict {
  const problems: string[] = [];
  const files = judge(w, read(sb.root));
  let outcome: RootVerdict['outcome'] = files === 'old' || files === 'new' ? files : 'mixed';
  if (outcome === 'mixed') problems.push(files);
  else {
    const dirs = dirsOf(sb.root);
    const want = expectedDirs(w)[outcome];
    if (dirs.join(',') !== want.join(',')) {
      problems.push(`files are all-${outcome} but directories are [${dirs.join(', ')}], expected [${want.join(', ')}]`);
      outcome = 'mixed';
    }
  }
  if (options.clean !== false) {
    const left = homeEntries(sb.root);
    if (left.length > 0) problems.push(`left behind in .txnfs: ${left.join(', ')}`);
  }
  problems.push(...confinementProblems(sb));
  return { outcome, problems };
}

const LOCK_NAME = /^(?:lock|\.txn-[A-Za-z0-9_-]+\.lock|\.upd-[A-Za-z0-9_-]+\.lock|\.tomb-[A-Za-z0-9_-]+)$/;

/**
 * Lock directories (root lock, owner locks, update locks) in `<root>/.txnfs/` with no owner entry
 * in them, and tombs of an older txnfs. A crash between an acquirer's mkdir of the directory and of
 * its entry (or a releaser's two rmdirs) leaves an empty one, and nothing can tell it from a lock
 * another process is taking this instant except its age: recovery rightly waits the grace
 * (lock.ts, OWNERLESS_GRACE_MS) before it removes one. Loops age these (and only these) and recover
 * again, instead of sleeping.
 */
export function ownerlessLocks(root: string): string[] {
  return homeEntries(root).filter((name) => {
    if (!LOCK_NAME.test(name)) return false;
    const dir = path.join(root, '.txnfs', name);
    try {
      if (!fs.lstatSync(dir).isDirectory()) return false;
      return fs.readdirSync(dir).length === 0;
    } catch {
      return false;
    }
  });
}

/** Set the mtime of `<root>/.txnfs/<name>` `ms` into the past, as if that much time had passed. */
export function age(root: string, names: readonly string[], ms: number): void {
  const past = new Date(Date.now() - ms);
  for (const name of names) fs.utimesSync(path.join(root, '.txnfs', name), past, past);
}
