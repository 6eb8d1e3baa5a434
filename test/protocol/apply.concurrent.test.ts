import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { rollBack, rollForward, type ApplyContext } from '../../src/protocol/apply.js';
import { nodeImpl, useFsImpl } from '../../src/io/fs.js';
import type { DecodedJournal as Journal, JournalEntry } from '../../src/protocol/journal.js';
import { begin } from '../../src/index.js';
import { snapshot, tmpdir } from '../helpers/tmp.js';

afterEach(() => {
  useFsImpl(nodeImpl);
});

/**
 * Count renames in flight (each held for a few ms, so overlap is visible) and their order; only
 * those onto a path `onto` accepts (a commit also renames its locks away, two at once).
 */
function trackRenames(onto: (to: string) => boolean = () => true): { maxInFlight: () => number; order: string[] } {
  let inFlight = 0;
  let max = 0;
  const order: string[] = [];
  useFsImpl({
    ...nodeImpl,
    rename: async (from, to) => {
      if (!onto(to)) return nodeImpl.rename(from, to);
      inFlight++;
      max = Math.max(max, inFlight);
      try {
        await sleep(3);
        await nodeImpl.rename(from, to);
        order.push(path.basename(from));
      } finally {
        inFlight--;
      }
    },
  });
  return { maxInFlight: () => max, order };
}

/**
 * A root holding old0..old(n-1) for even i, plus a staging dir as commit leaves it at its commit
 * point: files/<i> with the new content, backup/<i> linked to every original.
 */
function committedRoot(n: number): { root: string; staging: string; journal: Journal } {
  const root = tmpdir();
  const staging = path.join(root, '.txnfs', '.txn-test');
  fs.mkdirSync(path.join(staging, 'files'), { recursive: true });
  fs.mkdirSync(path.join(staging, 'backup'));
  const entries: JournalEntry[] = [];
  for (let i = 0; i < n; i++) {
    const target = `t${i}`;
    const existed = i % 2 === 0;
    let ino: string | null = null;
    if (existed) {
      fs.writeFileSync(path.join(root, target), `old${i}`);
      fs.linkSync(path.join(root, target), path.join(staging, 'backup', String(i)));
      ino = String(fs.statSync(path.join(root, target), { bigint: true }).ino);
    }
    fs.writeFileSync(path.join(staging, 'files', String(i)), `new${i}`);
    const stagedIno = String(fs.statSync(path.join(staging, 'files', String(i)), { bigint: true }).ino);
    entries.push({ op: 'write', target, staged: i, existed, ino, stagedIno, mode: 0o644 });
  }
  return { root, staging, journal: { id: 'test', created: 1, dirs: [], entries } };
}

const ctxOf = (c: { root: string; staging: string; journal: Journal }, concurrency = 8): ApplyContext => ({ ...c, durable: true, concurrency });

const targets = (root: string): Record<string, string> => {
  const s = snapshot(root);
  return Object.fromEntries(Object.entries(s).filter(([k]) => k.startsWith('t')));
};

describe('rollForward', () => {
  it('overlaps the renames of distinct targets, at most `concurrency` at a time', async () => {
    const c = committedRoot(24);
    const track = trackRenames();
    const outcome = await rollForward(ctxOf(c, 6));
    expect(outcome).toEqual({ changed: 24, unchanged: 0, superseded: [] });
    expect(track.maxInFlight()).toBeGreaterThan(1);
    expect(track.maxInFlight()).toBeLessThanOrEqual(6);
    expect(targets(c.root)).toEqual(Object.fromEntries(c.journal.entries.map((e, i) => [e.target, `new${i}`])));
  });

  it('finishes a journal of which any subset (not only a prefix) was applied before a crash', async () => {
    for (const subset of [[1, 3], [0, 5, 6], [7], [2, 4, 6]]) {
      const c = committedRoot(8);
      for (const i of subset) fs.renameSync(path.join(c.staging, 'files', String(i)), path.join(c.root, `t${i}`));
      const outcome = await rollForward(ctxOf(c));
      expect(outcome).toEqual({ changed: 8 - subset.length, unchanged: subset.length, superseded: [] });
      expect(targets(c.root)).toEqual(Object.fromEntries(c.journal.entries.map((e, i) => [e.target, `new${i}`])));
    }
  });

  it('applies a journal that names one file twice one entry at a time, in order: the later entry finds it changed and leaves it', async () => {
    // Only a forged journal can do this (the planner names each file once). Before the roll-forward
    // rule (a target is replaced only while it is what it was at the commit point), the last entry
    // won; now the second entry sees the first one's file, not the absent target it recorded.
    const c = committedRoot(4);
    const entries = c.journal.entries.map((e, i) => (i === 3 ? { ...e, target: 't1', existed: false, ino: null } : e));
    const track = trackRenames();
    const outcome = await rollForward(ctxOf({ ...c, journal: { ...c.journal, entries } }));
    expect(track.maxInFlight()).toBe(1);
    expect(track.order).toEqual(['0', '1', '2']);
    expect(outcome.superseded).toEqual(['t1']);
    expect(fs.readFileSync(path.join(c.root, 't1'), 'utf8')).toBe('new1');
  });

  it('treats two spellings that a case-insensitive filesystem would merge as the same file', async () => {
    const c = committedRoot(2);
    const entries = c.journal.entries.map((e, i) => (i === 1 ? { ...e, target: 'T0', existed: false, ino: null } : e));
    const track = trackRenames();
    await rollForward(ctxOf({ ...c, journal: { ...c.journal, entries } }));
    expect(track.maxInFlight()).toBe(1);
    expect(track.order).toEqual(['0', '1']);
  });
});

describe('a live commit', () => {
  it('overlaps its renames when every target is its own case fold (ApplyContext.distinct)', async () => {
    const root = tmpdir();
    const tx = begin({ dir: root, concurrency: 6 });
    for (let i = 0; i < 24; i++) void tx.write(`out/t${i}.txt`, `v${i}`);
    const track = trackRenames((to) => to.startsWith(path.join(root, 'out')));
    await tx.commit();
    expect(track.maxInFlight()).toBeGreaterThan(1);
    expect(track.maxInFlight()).toBeLessThanOrEqual(6);
  });

  it('applies one entry at a time when two targets differ only by case (one file on a case-folding filesystem)', async () => {
    const root = tmpdir();
    const tx = begin({ dir: root, concurrency: 6 });
    for (let i = 0; i < 24; i++) void tx.write(`out/t${i}.txt`, `v${i}`);
    void tx.write('out/README', 'upper');
    void tx.write('out/readme', 'lower');
    const track = trackRenames((to) => to.startsWith(path.join(root, 'out')));
    await tx.commit();
    // ext4 is case-sensitive, so both land; on a case-folding filesystem the later would win.
    expect(track.maxInFlight()).toBe(1);
    expect(fs.readFileSync(path.join(root, 'out', 'README'), 'utf8')).toBe('upper');
  });
});

describe('rollBack', () => {
  it('undoes a journal of which any subset was applied', async () => {
    for (const subset of [[1, 3], [0, 5, 6], [], [0, 1, 2, 3, 4, 5, 6, 7]]) {
      const c = committedRoot(8);
      const before = targets(c.root);
      for (const i of subset) fs.renameSync(path.join(c.staging, 'files', String(i)), path.join(c.root, `t${i}`));
      const outcome = await rollBack(ctxOf(c));
      expect(outcome.changed).toBe(subset.length);
      expect(targets(c.root)).toEqual(before);
    }
  });
});

describe('commit applies through the concurrent rollForward', () => {
  it('a 40-file commit overlaps its renames and lands every file', async () => {
    const dir = tmpdir();
    const track = trackRenames();
    const tx = begin({ dir, concurrency: 8 });
    for (let i = 0; i < 40; i++) void tx.write(`d/f${i}`, `v${i}`);
    await tx.commit();
    expect(track.maxInFlight()).toBeGreaterThan(1);
    const s = snapshot(dir);
    expect(Object.keys(s)).toHaveLength(40);
    for (let i = 0; i < 40; i++) expect(s[`d/f${i}`]).toBe(`v${i}`);
  });
});
