/**
 * FAT through FUSE (fusefat on an mkfs.vfat image; this kernel has no vfat driver): no hard links
 * (copy backups), inode numbers per spelling (`Foo` and `FOO` show two, and a forgotten file is
 * renumbered: the roll-forward compares bytes with the copy), no permission bits (chmod fails with
 * ENOSYS: none are set), 2 s mtimes, folds case, refuses names outside ASCII, and loses the entries
 * of a renamed directory (only the generations layout renames directories). doctor says all of
 * that, with the verdict 'conditional'; the suite and the tests below show each claim.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { begin, codes, writeFile } from '../../src/index.js';
import { faults } from '../../src/io/faults.js';
import { errnoError } from '../helpers/errno.mjs';
import { files, filesystemSuite, localActions } from './suite.js';

const m = await filesystemSuite('fat', {
  fsType: /fusefat/,
  locality: 'fuse',
  verdict: 'conditional',
  actions: { ...localActions, filesystem: 'warning', 'dir-rename': 'warning', 'hard-links': 'fallback', inodes: 'fallback', modes: 'fallback', case: 'fallback', unicode: 'warning' },
  modes: false,
  caseInsensitive: true,
  warns: true,
  // fusefat frees a replaced file's clusters while a reader still has it open: a tx.read() racing
  // another process's rename-over was handed directory-entry bytes of a new staging dir (seen in
  // 2 to 3 of 6 four-writer rounds, also with fusefat -s). The file on disk was exact in every
  // round (16 of 16 items after a remount), so the tear is the reader's only; and tx.read()'s
  // version is a hash of the bytes read, so a commit built on them fails with EPRECONDITION.
  tornReads: 'fusefat hands a reader of a file being replaced the bytes of whatever reuses its clusters',
});

describe.skipIf(m === undefined)('fat: what doctor says, shown', () => {
  let n = 0;
  const fresh = (): string => {
    const dir = path.join(m?.root ?? '', `fat${n++}`);
    fs.mkdirSync(dir);
    return dir;
  };

  it('hard links, modes, inodes: an overwrite and a removal commit with copy backups and no modes, and roll back from the copies', async () => {
    const dir = fresh();
    fs.writeFileSync(path.join(dir, 'a.txt'), 'old a');
    fs.writeFileSync(path.join(dir, 'c.txt'), 'old c');
    const tx = begin({ dir, warnUnsafeFs: false });
    tx.write('a.txt', 'new a', { mode: 0o600 });
    tx.write('d/b.txt', 'b');
    tx.remove('c.txt');
    expect((await tx.commit()).warnings).toEqual([]);
    expect(files(dir)).toEqual({ 'a.txt': 'new a', 'd/b.txt': 'b' });
    // EIO at the second rename of the apply: the copies are put back.
    const tx2 = begin({ dir, warnUnsafeFs: false });
    tx2.write('a.txt', 'newer a');
    tx2.write('d/b.txt', 'newer b');
    let renames = 0;
    faults.hook = (e) => {
      if (e.kind === 'op' && e.op === 'rename' && e.path.includes(`${path.sep}files${path.sep}`) && ++renames === 2) throw errnoError('EIO', 'rename', e.path);
    };
    try {
      await expect(tx2.commit()).rejects.toMatchObject({ code: codes.EAPPLY });
    } finally {
      faults.hook = undefined;
    }
    expect(files(dir)).toEqual({ 'a.txt': 'new a', 'd/b.txt': 'b' });
  });

  it('modes: chmod is ENOSYS, so a mode is not set (there are none): a single-file overwrite and a write with a mode work', async () => {
    const dir = fresh();
    fs.writeFileSync(path.join(dir, 'f.txt'), 'old');
    await writeFile(path.join(dir, 'f.txt'), 'new');
    await writeFile(path.join(dir, 'g.txt'), 'secret', { mode: 0o600 });
    expect(files(dir)).toEqual({ 'f.txt': 'new', 'g.txt': 'secret' });
  });
});
