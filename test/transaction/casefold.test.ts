/**
 * Names that differ only by case. This machine's filesystems are case-sensitive (ext4 without the
 * casefold feature, tmpfs; no vfat module), so a case-folding one is modelled through the seam: an
 * FsImpl whose lstat() finds `README` when only `Readme` exists, as APFS, NTFS, vfat and ext4
 * casefold directories do. On a real case-sensitive filesystem the same calls run unmodelled.
 */
import * as nodeFs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { begin, codes } from '../../src/index.js';
import { caseCollisions } from '../../src/transaction/casefold.js';
import { nodeImpl, useFsImpl, type FsImpl } from '../../src/io/fs.js';
import { leftovers, snapshot, tmpdir } from '../helpers/tmp.js';

/** lstat() that folds case in the last component, like a case-insensitive filesystem. */
const caseFolding: FsImpl = {
  ...nodeImpl,
  lstat: async (p) => {
    try {
      return await nodeImpl.lstat(p);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      const dir = path.dirname(p);
      const want = path.basename(p).toLowerCase();
      const names = await nodeImpl.readdir(dir).catch(() => [] as string[]);
      const match = names.find((n) => n.toLowerCase() === want);
      if (match === undefined) throw err;
      return nodeImpl.lstat(path.join(dir, match));
    }
  },
};

afterEach(() => {
  useFsImpl();
});

describe('case collisions', () => {
  it('pairs names in one directory that are equal once case and Unicode form are folded', () => {
    const nfd = 'Cafe\u0301'; // "Café" decomposed
    expect(caseCollisions(['Readme', 'README', 'a/x', 'A/x', 'b/Y', 'b/y', 'c/café', `c/${nfd}`, 'same', 'same'])).toEqual([
      ['Readme', 'README'],
      ['a/x', 'A/x'],
      ['b/Y', 'b/y'],
      ['c/café', `c/${nfd}`],
    ]);
  });

  it('on a case-sensitive filesystem both spellings are committed as two files', async () => {
    const dir = tmpdir();
    nodeFs.writeFileSync(path.join(dir, 'Readme'), 'old');
    const tx = begin({ dir });
    tx.write('Readme', 'a');
    tx.write('README', 'b');
    tx.write('new', 'n');
    tx.write('NEW', 'N');
    await tx.commit();
    expect(snapshot(dir)).toEqual({ Readme: 'a', README: 'b', new: 'n', NEW: 'N' });
  });

  it('on a case-folding filesystem a pair naming an existing file is refused with ETARGET, nothing changed', async () => {
    const dir = tmpdir();
    nodeFs.writeFileSync(path.join(dir, 'Readme'), 'old');
    useFsImpl(caseFolding);
    const tx = begin({ dir });
    tx.write('Readme', 'a');
    tx.remove('README');
    tx.write('other', 'x');
    await expect(tx.commit()).rejects.toMatchObject({ code: codes.ETARGET, message: expect.stringMatching(/'Readme' and 'README' name the same file/) });
    useFsImpl();
    expect(snapshot(dir)).toEqual({ Readme: 'old' });
    expect(leftovers(dir)).toEqual([]);
  });

  it('on a case-folding filesystem a pair of new names is refused too (the root is probed through .TXNFS)', async () => {
    const dir = tmpdir();
    useFsImpl(caseFolding);
    const tx = begin({ dir });
    tx.write('sub/Out.json', '1');
    tx.write('sub/OUT.json', '2');
    await expect(tx.commit()).rejects.toMatchObject({ code: codes.ETARGET });
    useFsImpl();
    expect(snapshot(dir)).toEqual({});
    expect(leftovers(dir)).toEqual([]);
  });
});
