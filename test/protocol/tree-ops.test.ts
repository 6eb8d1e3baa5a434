/**
 * tx.mkdir, tx.removeTree and tx.emptyDir (issue 18): what they do, what they refuse, and that a
 * failure after the commit point puts the whole tree back (live rollback).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { begin, codes } from '../../src/index.js';
import { faults } from '../../src/io/faults.js';
import { errnoError } from '../helpers/errno.mjs';
import { decodeJournal, encodeJournal } from '../../src/protocol/journal.js';
import { PackedEntries } from '../../src/protocol/entries.js';
import { leftovers, snapshot, tmpdir } from '../helpers/tmp.js';

afterEach(() => {
  faults.hook = undefined;
});

function put(dir: string, files: Record<string, string>): void {
  for (const [rel, data] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), data);
  }
}

/** Every directory under `dir` (relative), excluding .txnfs. */
function dirs(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel === '' ? e.name : `${rel}/${e.name}`;
    if (r === '.txnfs' || !e.isDirectory()) continue;
    out.push(r, ...dirs(dir, r));
  }
  return out.sort();
}

describe('tx.mkdir', () => {
  it('creates the directory and its parents at commit, and leaves an existing one alone', async () => {
    const dir = tmpdir();
    put(dir, { 'have/x.txt': 'x' });
    const tx = begin({ dir });
    tx.mkdir('a/b/c');
    tx.mkdir('have');
    expect(fs.existsSync(path.join(dir, 'a'))).toBe(false); // nothing before the commit
    await tx.commit();
    expect(dirs(dir)).toEqual(['a', 'a/b', 'a/b/c', 'have']);
    expect(snapshot(dir)).toEqual({ 'have/x.txt': 'x' });
    expect(leftovers(dir)).toEqual([]);
  });

  it('refuses a file in the way (ETARGET), and nothing is committed', async () => {
    const dir = tmpdir();
    put(dir, { 'f.txt': 'f' });
    const tx = begin({ dir });
    tx.mkdir('f.txt/sub');
    void tx.write('other.txt', 'o');
    await expect(tx.commit()).rejects.toMatchObject({ code: codes.ETARGET, path: 'f.txt' });
    expect(snapshot(dir)).toEqual({ 'f.txt': 'f' });
  });

  it('refuses a file target at a mkdir path (ETARGET)', async () => {
    const dir = tmpdir();
    const tx = begin({ dir });
    tx.mkdir('d');
    void tx.write('d', 'file');
    await expect(tx.commit()).rejects.toMatchObject({ code: codes.ETARGET });
    expect(fs.existsSync(path.join(dir, 'd'))).toBe(false);
  });

  it('a rollback after the commit point removes only the directories it created', async () => {
    const dir = tmpdir();
    put(dir, { 'have/x.txt': 'x' });
    faults.hook = (e) => {
      if (e.kind === 'op' && e.op === 'rename' && e.dest === path.join(dir, 'new.txt')) throw errnoError('EIO', 'rename', e.path);
    };
    const tx = begin({ dir, concurrency: 1 });
    tx.mkdir('made/deep');
    tx.mkdir('have');
    void tx.write('new.txt', 'n');
    await expect(tx.commit()).rejects.toMatchObject({ code: codes.EAPPLY });
    expect(dirs(dir)).toEqual(['have']);
    expect(leftovers(dir)).toEqual([]);
  });
});

describe('tx.removeTree', () => {
  it('removes the files and the directories of the tree together with the other changes', async () => {
    const dir = tmpdir();
    put(dir, { 'old/a.txt': 'a', 'old/sub/b.txt': 'b', 'old/sub/deeper/c.txt': 'c', 'keep.txt': 'k' });
    fs.mkdirSync(path.join(dir, 'old/empty'));
    const tx = begin({ dir });
    tx.removeTree('old/'); // a trailing separator is fine for a directory
    void tx.write('new.txt', 'n');
    const r = await tx.commit();
    expect(r.removed).toBe(3);
    expect(snapshot(dir)).toEqual({ 'keep.txt': 'k', 'new.txt': 'n' });
    expect(dirs(dir)).toEqual([]);
    expect(leftovers(dir)).toEqual([]);
  });

  it('is rm -rf for a missing tree', async () => {
    const dir = tmpdir();
    const tx = begin({ dir });
    tx.removeTree('nothing/here');
    await tx.commit();
    expect(snapshot(dir)).toEqual({});
  });

  it('refuses a file, a symlink in the tree, and writes into the tree (ETARGET), committing nothing', async () => {
    const dir = tmpdir();
    put(dir, { 'f.txt': 'f', 't/a.txt': 'a', 'l/a.txt': 'a' });
    fs.symlinkSync('../f.txt', path.join(dir, 'l/link'));
    for (const [name, stage] of [
      ['a file', (tx: ReturnType<typeof begin>) => tx.removeTree('f.txt')],
      ['a symlink inside', (tx: ReturnType<typeof begin>) => tx.removeTree('l')],
      ['a write inside', (tx: ReturnType<typeof begin>) => {
        tx.removeTree('t');
        void tx.write('t/new.txt', 'n');
      }],
      ['a mkdir inside', (tx: ReturnType<typeof begin>) => {
        tx.mkdir('t/x');
        tx.removeTree('t');
      }],
    ] as const) {
      const tx = begin({ dir });
      stage(tx);
      await expect(tx.commit(), name).rejects.toMatchObject({ code: codes.ETARGET });
      expect(snapshot(dir)).toEqual({ 'f.txt': 'f', 't/a.txt': 'a', 'l/a.txt': 'a', 'l/link': 'f' });
    }
  });

  it('refuses a symlink on the way to the tree (never removes outside through it)', async () => {
    const dir = tmpdir();
    const outside = tmpdir();
    put(outside, { 'x/a.txt': 'a' });
    fs.symlinkSync(outside, path.join(dir, 'out'));
    const tx = begin({ dir });
    tx.removeTree('out/x');
    await expect(tx.commit()).rejects.toMatchObject({ code: codes.ETARGET, path: 'out' });
    expect(snapshot(outside)).toEqual({ 'x/a.txt': 'a' });
  });

  it('a failure after the commit point puts every file and directory back (EAPPLY)', async () => {
    const dir = tmpdir();
    put(dir, { 'old/a.txt': 'a', 'old/sub/b.txt': 'b', 'x.txt': 'x0' });
    fs.mkdirSync(path.join(dir, 'old/empty'));
    // Fail the last step of the apply: the tree's directories are removed by then.
    let rmdirs = 0;
    faults.hook = (e) => {
      if (e.kind === 'op' && e.op === 'rmdir' && e.path === path.join(dir, 'old')) {
        rmdirs++;
        throw errnoError('EIO', 'rmdir', e.path);
      }
    };
    const tx = begin({ dir, concurrency: 1 });
    tx.removeTree('old');
    void tx.write('x.txt', 'x1');
    await expect(tx.commit()).rejects.toMatchObject({ code: codes.EAPPLY });
    expect(rmdirs).toBe(1);
    expect(snapshot(dir)).toEqual({ 'old/a.txt': 'a', 'old/sub/b.txt': 'b', 'x.txt': 'x0' });
    expect(dirs(dir)).toEqual(['old', 'old/empty', 'old/sub']);
    expect(leftovers(dir)).toEqual([]);
  });
});

describe('tx.emptyDir', () => {
  it('leaves the directory holding exactly the files written under it, in any call order', async () => {
    const dir = tmpdir();
    put(dir, { 'site/index.html': 'old', 'site/stale.html': 's', 'site/old/deep.html': 'd', 'site/keep/x.html': 'x0', 'other.txt': 'o' });
    const tx = begin({ dir });
    void tx.write('site/index.html', 'new');
    tx.emptyDir('site');
    void tx.write('site/keep/x.html', 'x1');
    void tx.write('site/fresh/y.html', 'y');
    const r = await tx.commit();
    expect(r.removed).toBe(2);
    expect(snapshot(dir)).toEqual({ 'site/index.html': 'new', 'site/keep/x.html': 'x1', 'site/fresh/y.html': 'y', 'other.txt': 'o' });
    expect(dirs(dir)).toEqual(['site', 'site/fresh', 'site/keep']);
    expect(leftovers(dir)).toEqual([]);
  });

  it('creates a missing directory, keeps a mkdir inside it, and empties it when nothing is written', async () => {
    const dir = tmpdir();
    put(dir, { 'b/x.txt': 'x' });
    const tx = begin({ dir });
    tx.emptyDir('a');
    tx.emptyDir('b');
    tx.mkdir('b/kept');
    await tx.commit();
    expect(snapshot(dir)).toEqual({});
    expect(dirs(dir)).toEqual(['a', 'b', 'b/kept']);
  });

  it('a file removed by remove() after its write is not kept', async () => {
    const dir = tmpdir();
    put(dir, { 's/a.txt': 'a' });
    const tx = begin({ dir });
    void tx.write('s/a.txt', 'a1');
    tx.remove('s/a.txt');
    tx.emptyDir('s');
    await tx.commit();
    expect(snapshot(dir)).toEqual({});
  });
});

describe('refused where they cannot be honoured', () => {
  it('the generations layout refuses them at the call (ETARGET)', () => {
    const dir = tmpdir();
    const tx = begin({ dir, layout: 'generations' });
    for (const call of [() => tx.mkdir('a'), () => tx.removeTree('a'), () => tx.emptyDir('a')]) {
      expect(call).toThrow(expect.objectContaining({ code: codes.ETARGET }));
    }
    return tx.abort();
  });

  it('bad paths are EBADPATH, as for writes', async () => {
    const dir = tmpdir();
    const tx = begin({ dir });
    expect(() => tx.removeTree('../x')).toThrow(expect.objectContaining({ code: codes.EBADPATH }));
    expect(() => tx.emptyDir('.txnfs')).toThrow(expect.objectContaining({ code: codes.EBADPATH }));
    expect(() => tx.mkdir('')).toThrow(expect.objectContaining({ code: codes.EBADPATH }));
    await tx.abort();
  });
});

describe('journal: rmdirs', () => {
  it('round-trips, is absent when empty, and a bad path in it is corrupt', () => {
    const base = { id: 'abc', created: 1, dirs: [] as string[], entries: new PackedEntries(0) };
    expect(encodeJournal(base).toString()).not.toContain('rmdirs');
    const withDirs = decodeJournal(encodeJournal({ ...base, rmdirs: ['old/sub', 'old'] }));
    expect(withDirs.rmdirs).toEqual(['old/sub', 'old']);
    const forged = encodeJournal({ ...base, rmdirs: ['../etc'] });
    expect(() => decodeJournal(forged)).toThrow(expect.objectContaining({ code: codes.ECORRUPT }));
  });
});
