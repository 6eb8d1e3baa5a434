/**
 * The workloads every crash test runs, and the one check they share: after recovery, each
 * workload's targets are all in their old state or all in their new state.
 *
 * Data is generated from a seeded PRNG, so a failing case replays exactly. Every file's content
 * starts with a generation tag ("g0:" before, "g1:" after), which makes a mix visible at a glance.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
// mulberry32, the benchmarks' deterministic PRNG: one copy for both.
import { prng } from '../../benchmarks/stats.js';

export type Op = { readonly op: 'write'; readonly path: string; readonly data: Buffer } | { readonly op: 'delete'; readonly path: string } | TreeOp | DirOp;
/** tx.mkdir / tx.removeTree / tx.emptyDir (issue 18): in {@link dirWorkloads}. */
export type DirOp = { readonly op: 'mkdir' | 'removeTree' | 'emptyDir'; readonly path: string };

const isUnder = (rel: string, dir: string): boolean => rel.startsWith(`${dir}/`);
const prefixes = (rel: string): string[] => rel.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/'));

/**
 * What the directory operations of `ops` do to `files` (removed) and `dirs` (created, removed),
 * as documented on tx.emptyDir: the files a transaction writes under an emptied directory stay,
 * whatever the order of the calls. Then every remaining file's parents exist.
 */
export function applyDirOps(files: Map<string, unknown>, dirs: Set<string>, ops: readonly Op[]): void {
  const written = new Set(ops.filter((o) => o.op === 'write' || o.op === 'copy' || o.op === 'rename').map((o) => o.path));
  for (const o of ops) {
    if (o.op !== 'removeTree' && o.op !== 'emptyDir') continue;
    for (const f of [...files.keys()]) if (isUnder(f, o.path) && (o.op === 'removeTree' || !written.has(f))) files.delete(f);
    for (const d of [...dirs]) if (isUnder(d, o.path) || (o.op === 'removeTree' && d === o.path)) dirs.delete(d);
  }
  for (const o of ops) if (o.op === 'mkdir' || o.op === 'emptyDir') for (const d of prefixes(o.path)) dirs.add(d);
  for (const f of files.keys()) for (const d of prefixes(f).slice(0, -1)) dirs.add(d);
}
/** tx.copy(from, path) / tx.rename(from, path): in {@link treeWorkloads} (the kill loop and the power-loss model). */
export type TreeOp = { readonly op: 'copy' | 'rename'; readonly from: string; readonly path: string };

export interface Workload {
  readonly name: string;
  /** Files present before the transaction (relative path → content). */
  readonly before: ReadonlyMap<string, Buffer>;
  /** What the transaction does, in order. */
  readonly ops: readonly Op[];
}


/** Content of `size` bytes tagged with its generation and path. */
export function content(gen: number, rel: string, size: number, rand: () => number = prng(size + rel.length)): Buffer {
  const tag = Buffer.from(`g${gen}:${rel}:`);
  const buf = Buffer.alloc(Math.max(size, tag.length));
  tag.copy(buf);
  for (let i = tag.length; i < buf.length; i++) buf[i] = 97 + Math.floor(rand() * 26);
  return size === 0 ? Buffer.alloc(0) : buf.subarray(0, Math.max(size, tag.length));
}

function files(gen: number, names: readonly string[], size = 64): Map<string, Buffer> {
  return new Map(names.map((n) => [n, content(gen, n, size)]));
}

const writes = (m: ReadonlyMap<string, Buffer>): Op[] => [...m].map(([p, data]) => ({ op: 'write', path: p, data }));

/**
 * Workloads of the tree operations (issue 18): copies and renames (a clone staged as a write, plus
 * a removal for a rename) mixed with writes and removals, into new and existing targets.
 */
export function treeWorkloads(): Workload[] {
  return [
    {
      name: 'copy and rename with writes and a removal',
      before: files(0, ['src/a.txt', 'src/b.txt', 'old.txt', 'gone.txt', 'over.txt']),
      ops: [
        { op: 'copy', from: 'src/a.txt', path: 'dst/deep/a.txt' },
        { op: 'rename', from: 'src/b.txt', path: 'over.txt' },
        { op: 'rename', from: 'old.txt', path: 'moved/old.txt' },
        { op: 'write', path: 'new.txt', data: content(1, 'new.txt', 80) },
        { op: 'delete', path: 'gone.txt' },
      ],
    },
    // A clone alone: what breaks when the clone's own durability is skipped shows here, not
    // hidden behind a written file's.
    { name: 'copy only', before: files(0, ['src/a.txt']), ops: [{ op: 'copy', from: 'src/a.txt', path: 'b.txt' }] },
  ];
}

/**
 * Workloads of tx.mkdir, tx.removeTree and tx.emptyDir (issue 18), small enough for the power-loss
 * model's exhaustive enumeration: a tree removed (files two levels deep) next to a write, a
 * directory emptied to exactly the files written into it, and a new directory with no file.
 */
export function dirWorkloads(): Workload[] {
  return [
    {
      name: 'removeTree + mkdir + write',
      before: files(0, ['old/a.txt', 'old/sub/b.txt', 'keep.txt']),
      ops: [{ op: 'removeTree', path: 'old' }, { op: 'mkdir', path: 'made/empty' }, { op: 'write', path: 'keep.txt', data: content(1, 'keep.txt', 64) }],
    },
    {
      name: 'emptyDir: exactly the written files',
      before: files(0, ['site/index.html', 'site/stale.html', 'site/gone/x.html', 'top.txt']),
      ops: [{ op: 'emptyDir', path: 'site' }, { op: 'write', path: 'site/index.html', data: content(1, 'site/index.html', 64) }, { op: 'write', path: 'site/new/y.html', data: content(1, 'site/new/y.html', 64) }],
    },
  ];
}

/** The standard workloads (issue #3). */
export function workloads(): Workload[] {
  const mixedSizes = (() => {
    const rand = prng(50);
    const before = new Map<string, Buffer>();
    const ops: Op[] = [];
    const sizes = [0, 1, 100, 4096, 65536, 1024 * 1024];
    for (let i = 0; i < 50; i++) {
      const name = `part-${String(i).padStart(2, '0')}.bin`;
      const size = sizes[i % sizes.length] === 1024 * 1024 && i > 6 ? Math.floor(rand() * 8192) : (sizes[i % sizes.length] as number);
      if (i % 3 !== 0) before.set(name, content(0, name, Math.floor(rand() * 2048) + 8, rand));
      if (i % 10 === 9) ops.push({ op: 'delete', path: name });
      else ops.push({ op: 'write', path: name, data: content(1, name, size, rand) });
    }
    return { name: '50 files, 0 B to 1 MiB', before, ops };
  })();
  return [
    { name: 'single file', before: new Map(), ops: writes(files(1, ['only.json'])) },
    { name: 'create only', before: new Map(), ops: writes(files(1, ['a.json', 'b.csv', 'c.txt'])) },
    { name: 'overwrite only', before: files(0, ['a.json', 'b.csv', 'c.txt']), ops: writes(files(1, ['a.json', 'b.csv', 'c.txt'])) },
    { name: 'delete only', before: files(0, ['a.json', 'b.csv', 'c.txt']), ops: ['a.json', 'b.csv', 'c.txt'].map((p) => ({ op: 'delete' as const, path: p })) },
    {
      name: 'mixed with new nested dirs',
      before: files(0, ['keep.txt', 'replace.txt', 'gone.txt']),
      ops: [
        { op: 'write', path: 'replace.txt', data: content(1, 'replace.txt', 300) },
        { op: 'write', path: 'new/deep/er/x.json', data: content(1, 'new/deep/er/x.json', 50) },
        { op: 'delete', path: 'gone.txt' },
        { op: 'write', path: 'new/y.txt', data: content(1, 'new/y.txt', 0) },
      ],
    },
    mixedSizes,
  ];
}

/** The state after the transaction (relative path → content). */
export function after(w: Workload): Map<string, Buffer> {
  const m = new Map(w.before);
  for (const op of w.ops) {
    if (op.op === 'write') m.set(op.path, op.data);
    else if (op.op === 'copy' || op.op === 'rename') {
      m.set(op.path, m.get(op.from) as Buffer);
      if (op.op === 'rename') m.delete(op.from);
    } else if (op.op === 'delete') m.delete(op.path);
  }
  applyDirOps(m, new Set(), w.ops);
  return m;
}

/** Write the workload's `before` state into `dir`. */
export function seed(dir: string, w: Workload): void {
  for (const [rel, data] of w.before) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), data);
  }
}

/** Read every file under `dir` (relative path → content), leaving out the paths in `skip`. */
export function readTree(dir: string, skip: readonly string[] = []): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (rel: string): void => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel === '' ? e.name : `${rel}/${e.name}`;
      if (skip.includes(r)) continue;
      if (e.isDirectory()) walk(r);
      else out.set(r, fs.readFileSync(path.join(dir, r)));
    }
  };
  walk('');
  return out;
}

/** Read every file under `dir` except `.txnfs/` (relative path → content). */
export function read(dir: string): Map<string, Buffer> {
  return readTree(dir, ['.txnfs']);
}

/** Whether two trees (as `readTree` returns them) hold the same files with the same bytes. */
export function same(a: ReadonlyMap<string, Buffer>, b: ReadonlyMap<string, Buffer>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) {
    const w = b.get(k);
    if (w === undefined || !w.equals(v)) return false;
  }
  return true;
}

/**
 * 'old' or 'new' when `state` equals the workload's before or after state; otherwise a
 * description of the mix (which is an invariant violation).
 */
export function judge(w: Workload, state: ReadonlyMap<string, Buffer>): 'old' | 'new' | string {
  if (same(state, w.before)) return 'old';
  if (same(state, after(w))) return 'new';
  const lines: string[] = [];
  const all = new Set([...state.keys(), ...w.before.keys(), ...after(w).keys()]);
  for (const k of [...all].sort()) {
    const s = state.get(k);
    const tag = s === undefined ? 'absent' : s.length === 0 ? 'empty' : s.subarray(0, 3).toString();
    lines.push(`${k}=${tag}`);
  }
  return `mixed: ${lines.join(' ')}`;
}

export { prng };
