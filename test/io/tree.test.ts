import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { walk } from '../../src/io/tree.js';
import { tmpdir } from '../helpers/tmp.js';

describe('walk', () => {
  it('lists regular files depth first, sorted, and never follows a symlink', async () => {
    const dir = tmpdir();
    const outside = tmpdir();
    fs.writeFileSync(path.join(outside, 'secret'), 's');
    fs.mkdirSync(path.join(dir, 'b/c/empty'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'z'), '');
    fs.writeFileSync(path.join(dir, 'a'), '');
    fs.writeFileSync(path.join(dir, 'b/c/d'), '');
    fs.writeFileSync(path.join(dir, 'b/e'), '');
    fs.symlinkSync(outside, path.join(dir, 'b/dirlink'));
    fs.symlinkSync(path.join(outside, 'secret'), path.join(dir, 'filelink'));
    execFileSync('mkfifo', [path.join(dir, 'b/fifo')]);
    const tree = await walk(dir);
    expect(tree.files).toEqual(['a', 'b/c/d', 'b/e', 'z']);
    expect(tree.others).toEqual([
      { rel: 'b/dirlink', kind: 'symlink' },
      { rel: 'b/fifo', kind: 'other' },
      { rel: 'filelink', kind: 'symlink' },
    ]);
  });

  it('skips what `skip` names, with everything below it', async () => {
    const dir = tmpdir();
    fs.mkdirSync(path.join(dir, '.txnfs/x'), { recursive: true });
    fs.writeFileSync(path.join(dir, '.txnfs/x/journal'), '');
    fs.mkdirSync(path.join(dir, 'keep'));
    fs.writeFileSync(path.join(dir, 'keep/f'), '');
    expect((await walk(dir, { skip: (name) => name === '.txnfs' })).files).toEqual(['keep/f']);
    expect((await walk(dir)).files).toEqual(['.txnfs/x/journal', 'keep/f']);
  });

  it('lists directories parents first, an empty one included (tx.removeTree removes them children first)', async () => {
    const dir = tmpdir();
    fs.mkdirSync(path.join(dir, 'a/b/c'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'z'));
    fs.writeFileSync(path.join(dir, 'a/b/f.txt'), 'f');
    expect(await walk(dir)).toEqual({ files: ['a/b/f.txt'], dirs: ['a', 'a/b', 'a/b/c', 'z'], others: [] });
  });

  it('an empty directory yields nothing', async () => {
    expect(await walk(tmpdir())).toEqual({ files: [], dirs: [], others: [] });
  });
});
