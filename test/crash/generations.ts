/**
 * generations.ts: the crash harness's workload and check for the generations layout.
 *
 * Workload: a generation holding 9 files in nested directories (tagged g0), and a transaction that
 * replaces two, removes one, adds one in a new nested directory (tagged g1), so that "old" and
 * "new" differ in written, removed and created files and share six unchanged ones.
 *
 * The check, after a crash and recover(): the pointer is a txnfs pointer naming a complete
 * generation, whose files are exactly the old state or exactly the new one (the new one if the
 * commit had been acknowledged); the generation home holds nothing but generations (current and
 * previous only), an empty `pins/` and an empty txnfs home; nothing else appeared beside the
 * pointer. In the conversion variant, the old state may also still be the plain directory.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { begin } from '../../src/index.js';
import { content, readTree, same, type Op } from './workloads.js';

export const BEFORE_NAMES = ['a.txt', 'b.txt', 'gone.txt', 'd/c.txt', 'd/e/f.txt', 'd/e/g.txt', 's1', 's2', 's3'];

export function beforeState(): Map<string, Buffer> {
  return new Map(BEFORE_NAMES.map((n) => [n, content(0, n, 40)]));
}

export function genOps(): Op[] {
  return [
    { op: 'write', path: 'a.txt', data: content(1, 'a.txt', 50) },
    { op: 'write', path: 'd/e/f.txt', data: content(1, 'd/e/f.txt', 10) },
    { op: 'delete', path: 'gone.txt' },
    { op: 'write', path: 'new/deep/n.txt', data: content(1, 'new/deep/n.txt', 30) },
  ];
}

export function afterState(): Map<string, Buffer> {
  const m = beforeState();
  for (const o of genOps()) {
    if (o.op === 'write') m.set(o.path, o.data);
    else m.delete(o.path);
  }
  return m;
}

export function homeOfPointer(out: string): string {
  return path.join(path.dirname(out), `.${path.basename(out)}.txnfs`);
}

/** Seed `out` with the old state: as generation 1 (a commit), or as a plain directory. */
export async function seed(out: string, plain: boolean): Promise<void> {
  if (plain) {
    for (const [rel, data] of beforeState()) {
      fs.mkdirSync(path.dirname(path.join(out, rel)), { recursive: true });
      fs.writeFileSync(path.join(out, rel), data);
    }
    return;
  }
  const tx = begin({ dir: out, layout: 'generations', durability: 'none' });
  for (const [rel, data] of beforeState()) tx.write(rel, data);
  await tx.commit();
}

export type GenOutcome = 'old' | 'new' | 'broken';

/** Judge `out` after recovery (see the header). */
export function judge(out: string, acked: boolean): { outcome: GenOutcome; problems: string[] } {
  const problems: string[] = [];
  const home = homeOfPointer(out);
  const before = beforeState();
  const after = afterState();
  let outcome: GenOutcome = 'broken';
  let current: number | undefined;
  const info = fs.lstatSync(out, { throwIfNoEntry: false });
  if (info === undefined) problems.push('the pointer is missing');
  else if (info.isDirectory()) {
    // Conversion not done: the plain directory must be untouched.
    const files = readTree(out);
    files.delete('.txnfs');
    if (same(files, before)) outcome = 'old';
    else problems.push('the plain directory changed');
  } else if (info.isSymbolicLink()) {
    const m = /^\.out\.txnfs\/gen-(\d+)$/.exec(fs.readlinkSync(out));
    if (m === null) problems.push(`the pointer holds '${fs.readlinkSync(out)}'`);
    else {
      current = Number(m[1]);
      const files = readTree(path.join(home, `gen-${current}`));
      if (same(files, after)) outcome = 'new';
      else if (same(files, before)) outcome = 'old';
      else problems.push(`generation ${current} is neither old nor new: ${[...files.keys()].join(',')}`);
    }
  } else problems.push('the pointer is neither a symlink nor a directory');
  if (acked && outcome !== 'new') problems.push(`acknowledged, but the state is ${outcome}`);
  const homeNames = fs.existsSync(home) ? fs.readdirSync(home) : [];
  const gens = homeNames.filter((n) => /^gen-\d+$/.test(n)).map((n) => Number(n.slice(4)));
  for (const n of homeNames) if (!/^gen-\d+$/.test(n) && n !== '.txnfs' && n !== 'pins') problems.push(`debris in the generation home: ${n}`);
  for (const g of gens) {
    if (current === undefined || g > current || g < current - 1) problems.push(`generation ${g} kept (current ${current})`);
    else if (g === current - 1 && !same(readTree(path.join(home, `gen-${g}`)), before)) problems.push(`previous generation ${g} is not the old state`);
  }
  for (const sub of ['.txnfs', 'pins']) {
    const p = path.join(home, sub);
    const left = fs.existsSync(p) ? fs.readdirSync(p) : [];
    if (left.length > 0) problems.push(`left in ${sub}/: ${left.join(', ')}`);
  }
  const beside = fs.readdirSync(path.dirname(out)).filter((n) => n !== 'out' && n !== '.out.txnfs');
  if (beside.length > 0) problems.push(`created beside the pointer: ${beside.join(', ')}`);
  return { outcome, problems };
}
