/**
 * FAT through FUSE (fusefat on an mkfs.vfat image; this kernel has no vfat driver): no hard links
 * (copy backups), no permission bits (chmod fails with ENOSYS), 2 s mtimes, folds case, refuses
 * names outside ASCII, and loses the entries of a renamed directory, which txnfs's lock removal
 * relies on. doctor says all of that, with the verdict 'broken'; the tests below show each claim.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { begin, codes } from '../../src/index.js';
import { files, filesystemSuite, localActions } from './suite.js';

const m = await filesystemSuite('fat', {
  fsType: /fusefat/,
  locality: 'fuse',
  verdict: 'broken',
  actions: { ...localActions, filesystem: 'warning', 'dir-rename': 'unusable', 'hard-links': 'fallback', modes: 'refusal', case: 'fallback', unicode: 'warning' },
  modes: false,
  caseInsensitive: true,
  warns: true,
  coreSkip: "doctor says broken on fusefat (a renamed lock directory loses its owner record, chmod is ENOSYS): its claims are tested below",
});

describe.skipIf(m === undefined)('fat: what doctor says, shown', () => {
  let n = 0;
  const fresh = (): string => {
    const dir = path.join(m?.root ?? '', `fat${n++}`);
    fs.mkdirSync(dir);
    return dir;
  };

  it('new files land together (copy-free: nothing to back up), in a fresh root', async () => {
    const dir = fresh();
    const tx = begin({ dir, warnUnsafeFs: false });
    tx.write('a.txt', 'a');
    tx.write('d/b.txt', 'b');
    await tx.commit();
    expect(files(dir)).toEqual({ 'a.txt': 'a', 'd/b.txt': 'b' });
  });

  it('modes: an overwrite needs chmod and is refused before the commit point; nothing changes', async () => {
    const dir = fresh();
    fs.writeFileSync(path.join(dir, 'a.txt'), 'old');
    const tx = begin({ dir, warnUnsafeFs: false });
    tx.write('a.txt', 'new');
    tx.write('b.txt', 'new too');
    const err = await tx.commit().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: expect.stringMatching(/^(ESTAGE|EFS)$/) });
    expect(String((err as Error).message) + String(((err as Error).cause as Error | undefined)?.message)).toMatch(/ENOSYS/);
    expect(files(dir)).toEqual({ 'a.txt': 'old' });
  });

  it('dir-rename: the first commit leaves its root lock behind, so the next waits and fails with ELOCKED', async () => {
    const dir = fresh();
    const tx = begin({ dir, warnUnsafeFs: false });
    tx.write('a.txt', 'a');
    await tx.commit();
    expect(fs.readdirSync(path.join(dir, '.txnfs'))).toContain('lock');
    const tx2 = begin({ dir, warnUnsafeFs: false, lockTimeout: 500 });
    tx2.write('b.txt', 'b');
    await expect(tx2.commit()).rejects.toMatchObject({ code: codes.ELOCKED });
    expect(files(dir)).toEqual({ 'a.txt': 'a' });
  });
});
