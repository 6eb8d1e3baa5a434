/**
 * tx.copy(), tx.rename() / tx.move() (src/transaction/copy.ts): staged as ordinary writes and removals, so
 * they land all-or-nothing with the rest of the transaction.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { begin, codes } from '../../src/index.js';
import { faults } from '../../src/io/faults.js';
import { snapshot, tmpdir } from '../helpers/tmp.js';

function seeded(files: Record<string, string>): string {
  const dir = tmpdir();
  for (const [rel, data] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), data);
  }
  return dir;
}

describe('tx.copy', () => {
  it('copies a file into a new or existing target, with the rest of the commit', async () => {
    const dir = seeded({ 'a.txt': 'A', 'old.txt': 'old', 'keep.txt': 'K' });
    fs.chmodSync(path.join(dir, 'a.txt'), 0o640);
    fs.chmodSync(path.join(dir, 'old.txt'), 0o600);
    const tx = begin({ dir });
    void tx.copy('a.txt', 'deep/new/b.txt');
    void tx.copy('a.txt', 'old.txt');
    tx.write('c.txt', 'C');
    const result = await tx.commit();
    expect(result.written).toBe(3);
    expect(snapshot(dir)).toEqual({ 'a.txt': 'A', 'deep/new/b.txt': 'A', 'old.txt': 'A', 'keep.txt': 'K', 'c.txt': 'C' });
    // A new target gets the source's mode; an existing one keeps its own (as write() does).
    expect(fs.statSync(path.join(dir, 'deep/new/b.txt')).mode & 0o777).toBe(0o640);
    expect(fs.statSync(path.join(dir, 'old.txt')).mode & 0o777).toBe(0o600);
    // The copy is a file of its own, not a second name of the source.
    expect(fs.statSync(path.join(dir, 'deep/new/b.txt')).ino).not.toBe(fs.statSync(path.join(dir, 'a.txt')).ino);
    expect(fs.readdirSync(dir).sort()).toEqual(['a.txt', 'c.txt', 'deep', 'keep.txt', 'old.txt']);
  });

  it('is a clone (copyFile with COPYFILE_FICLONE) through the fs seam, then an ordinary staged write', async () => {
    const dir = seeded({ 'a.txt': 'A' });
    const ops: string[] = [];
    faults.hook = (e) => {
      if (e.kind === 'op' && e.op === 'copyFile') ops.push(`${path.relative(dir, e.path)} -> ${path.relative(dir, e.dest ?? '')}`);
    };
    try {
      const tx = begin({ dir });
      void tx.copy('a.txt', 'b.txt');
      await tx.commit();
    } finally {
      faults.hook = undefined;
    }
    expect(ops).toHaveLength(1);
    expect(ops[0]).toMatch(/^a\.txt -> \.txnfs\/\.txn-[^/]+\/files\/0$/);
  });

  it('a failure anywhere fails the whole commit and nothing changes', async () => {
    const dir = seeded({ 'a.txt': 'A', 'b.txt': 'B' });
    const tx = begin({ dir });
    void tx.copy('a.txt', 'c.txt');
    void tx.copy('missing.txt', 'd.txt');
    tx.remove('b.txt');
    await expect(tx.commit()).rejects.toMatchObject({ code: codes.ESTAGE, message: expect.stringContaining("'missing.txt'") });
    expect(snapshot(dir)).toEqual({ 'a.txt': 'A', 'b.txt': 'B' });
    expect(fs.readdirSync(dir).sort()).toEqual(['a.txt', 'b.txt']);
  });

  it('a directory or symlink source fails the commit', async () => {
    const dir = seeded({ 'sub/x': 'x' });
    fs.symlinkSync('sub/x', path.join(dir, 'link'));
    const t1 = begin({ dir });
    void t1.copy('sub', 'y');
    await expect(t1.commit()).rejects.toMatchObject({ code: expect.stringMatching(/^(ESTAGE|ETARGET)$/) });
    const t2 = begin({ dir });
    void t2.copy('link', 'y');
    await expect(t2.commit()).rejects.toMatchObject({ code: expect.stringMatching(/^(ESTAGE|ETARGET)$/) });
    expect(snapshot(dir)).toEqual({ 'sub/x': 'x', link: 'x' });
  });

  it('bad calls throw at once and stage nothing', async () => {
    const dir = seeded({ 'a.txt': 'A' });
    const tx = begin({ dir });
    expect(() => tx.copy('a.txt', 'a.txt')).toThrow(expect.objectContaining({ code: codes.EBADPATH }));
    expect(() => tx.copy('../out', 'b')).toThrow(expect.objectContaining({ code: codes.EBADPATH }));
    expect(() => tx.copy('a.txt', '.txnfs/x')).toThrow(expect.objectContaining({ code: codes.EBADPATH }));
    expect(() => tx.copy('a.txt', 'b', { encoding: 'utf8' } as never)).toThrow(TypeError);
    expect(() => tx.copy('a.txt', 'b', { mode: 'x' } as never)).toThrow(TypeError);
    tx.write('a.txt', 'new');
    expect(() => tx.copy('a.txt', 'b')).toThrow(expect.objectContaining({ code: codes.EBADPATH, message: expect.stringContaining('already writes or removes') }));
    await tx.commit();
    expect(snapshot(dir)).toEqual({ 'a.txt': 'new' });
  });
});

describe('tx.rename / tx.move', () => {
  it('moves a file, with the rest of the commit', async () => {
    const dir = seeded({ 'a.txt': 'A', 'x.txt': 'X' });
    const tx = begin({ dir });
    void tx.rename('a.txt', 'moved/a.txt');
    void tx.move('x.txt', 'y.txt');
    tx.write('c.txt', 'C');
    const result = await tx.commit();
    expect(result).toMatchObject({ written: 3, removed: 2 });
    expect(snapshot(dir)).toEqual({ 'moved/a.txt': 'A', 'y.txt': 'X', 'c.txt': 'C' });
  });

  it('a rename over an existing target replaces it', async () => {
    const dir = seeded({ 'a.txt': 'A', 'b.txt': 'B' });
    const tx = begin({ dir });
    void tx.rename('a.txt', 'b.txt');
    await tx.commit();
    expect(snapshot(dir)).toEqual({ 'b.txt': 'A' });
  });

  it('a source changed by another writer after it was staged fails the commit: the newer source is not lost', async () => {
    const dir = seeded({ 'a.txt': 'A' });
    const tx = begin({ dir });
    await tx.rename('a.txt', 'b.txt');
    fs.writeFileSync(path.join(dir, 'a.txt'), 'newer, and longer');
    await expect(tx.commit()).rejects.toMatchObject({ code: codes.EPRECONDITION });
    expect(snapshot(dir)).toEqual({ 'a.txt': 'newer, and longer' });
  });

  it('a copy of a source changed after it was staged still commits the content it copied', async () => {
    const dir = seeded({ 'a.txt': 'A' });
    const tx = begin({ dir });
    await tx.copy('a.txt', 'b.txt');
    fs.writeFileSync(path.join(dir, 'a.txt'), 'newer');
    await tx.commit();
    expect(snapshot(dir)).toEqual({ 'a.txt': 'newer', 'b.txt': 'A' });
  });

  it('a later write to the source wins over the removal (the last operation on a path wins)', async () => {
    const dir = seeded({ 'a.txt': 'A' });
    const tx = begin({ dir });
    void tx.rename('a.txt', 'b.txt');
    tx.write('a.txt', 'fresh');
    await tx.commit();
    expect(snapshot(dir)).toEqual({ 'a.txt': 'fresh', 'b.txt': 'A' });
  });
});
