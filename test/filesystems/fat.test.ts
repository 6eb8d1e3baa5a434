/**
 * FAT through FUSE (fusefat on an mkfs.vfat image; this kernel has no vfat driver): no hard links
 * (copy backups), inode numbers per spelling (`Foo` and `FOO` show two: the roll-forward compares
 * bytes with the copy instead), no permission bits (chmod fails with ENOSYS: none are set), 2 s mtimes, folds case, refuses
 * names outside ASCII, and loses the entries of a renamed directory, which txnfs's lock removal
 * relies on. doctor says all of that, with the verdict 'broken'; the tests below show each claim.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { begin, codes, writeFile } from '../../src/index.js';
import { files, filesystemSuite, localActions } from './suite.js';

const m = await filesystemSuite('fat', {
  fsType: /fusefat/,
  locality: 'fuse',
  verdict: 'broken',
  actions: { ...localActions, filesystem: 'warning', 'dir-rename': 'unusable', 'hard-links': 'fallback', inodes: 'fallback', modes: 'fallback', case: 'fallback', unicode: 'warning' },
  modes: false,
  caseInsensitive: true,
  warns: true,
  coreSkip: "doctor says broken on fusefat (a renamed lock directory loses its owner record, chmod is ENOSYS): its claims are tested below",
  noCommit: 'no commit succeeds on fusefat: locks are made by renaming a directory, which loses its owner record there (shown below)',
});

describe.skipIf(m === undefined)('fat: what doctor says, shown', () => {
  let n = 0;
  const fresh = (): string => {
    const dir = path.join(m?.root ?? '', `fat${n++}`);
    fs.mkdirSync(dir);
    return dir;
  };

  it('dir-rename: a lock is made complete under a private name and renamed into place, and the rename loses its owner record, so every commit fails ECOMPROMISED before its commit point; nothing changes', async () => {
    const dir = fresh();
    fs.writeFileSync(path.join(dir, 'a.txt'), 'old');
    const tx = begin({ dir, warnUnsafeFs: false });
    tx.write('a.txt', 'new');
    tx.write('d/b.txt', 'b');
    await expect(tx.commit()).rejects.toMatchObject({ code: codes.ECOMPROMISED });
    expect(files(dir)).toEqual({ 'a.txt': 'old' });
  });

  it('modes: chmod is ENOSYS, so a mode is not set (there are none): a single-file overwrite and a write with a mode work', async () => {
    const dir = fresh();
    fs.writeFileSync(path.join(dir, 'f.txt'), 'old');
    await writeFile(path.join(dir, 'f.txt'), 'new');
    await writeFile(path.join(dir, 'g.txt'), 'secret', { mode: 0o600 });
    expect(files(dir)).toEqual({ 'f.txt': 'new', 'g.txt': 'secret' });
  });
});
