/**
 * lock/judge.ts: removing an owner entry by its name (`unlinkEntry`, `removeEntry`), whatever
 * build made it: an empty file (this one), an empty directory (an older one).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as fsSeam from '../../../src/io/fs.js';
import { removeEntry, unlinkEntry } from '../../../src/protocol/lock/judge.js';
import { tmpdir } from '../../helpers/tmp.js';

const NAME = 'o.ElsewhereElsewhe.1.1.0.10000.someoneelse1';

describe('unlinkEntry', () => {
  it('removes an entry that is an empty file, and one an older build made as an empty directory', async () => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, 'file-entry'), '');
    fs.mkdirSync(path.join(dir, 'dir-entry'));
    await unlinkEntry(path.join(dir, 'file-entry'));
    await unlinkEntry(path.join(dir, 'dir-entry'));
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('reports an unlink refused on a file (EPERM: another user\'s entry in a sticky directory) as that EPERM, not as the rmdir it then tried', async () => {
    const dir = tmpdir();
    const entry = path.join(dir, 'file-entry');
    fs.writeFileSync(entry, '');
    const real = fsSeam.useFsImpl();
    fsSeam.useFsImpl({
      ...real,
      unlink: async (p) => {
        if (p === entry) throw Object.assign(new Error(`EPERM: operation not permitted, unlink '${p}'`), { code: 'EPERM' });
        return real.unlink(p);
      },
    });
    try {
      await expect(unlinkEntry(entry)).rejects.toMatchObject({ code: 'EPERM' });
    } finally {
      fsSeam.useFsImpl(real);
    }
    expect(fs.existsSync(entry)).toBe(true);
  });
});

describe('removeEntry', () => {
  it('removes a dead owner by its exact name, file or directory; gone already is fine; a directory with something in it (not an entry txnfs made) stays', async () => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, NAME), '');
    await removeEntry(dir, NAME);
    expect(fs.readdirSync(dir)).toEqual([]);
    await removeEntry(dir, NAME);
    fs.mkdirSync(path.join(dir, NAME));
    fs.writeFileSync(path.join(dir, NAME, 'keep'), 'x');
    await removeEntry(dir, NAME);
    expect(fs.readdirSync(path.join(dir, NAME))).toEqual(['keep']);
  });
});
