import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lstat } from '../../src/io/fs.js';
import { probeInodeNumbers, sameAsCopy } from '../../src/platform/ino-trust.js';
import { tmpdir } from '../helpers/tmp.js';

describe('ino-trust', () => {
  it('the probe finds that numbers name files on the local disk, and leaves its directory empty', async () => {
    const dir = tmpdir();
    expect(await probeInodeNumbers(dir)).toEqual({ ok: true, detail: 'kept by rename, shared by hard links' });
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  describe('sameAsCopy: another number is the original only with its size, mtime and bytes', () => {
    const setup = async (copyData: string): Promise<boolean> => {
      const dir = tmpdir();
      const target = path.join(dir, 't');
      const copy = path.join(dir, 'c');
      fs.writeFileSync(target, 'original');
      const was = await lstat(target);
      fs.writeFileSync(copy, copyData);
      // The target replaced by another file (another number) with the same bytes and mtime.
      fs.writeFileSync(path.join(dir, 'n'), 'original');
      fs.utimesSync(path.join(dir, 'n'), new Date(1_700_000_000_000), new Date(1_700_000_000_000));
      fs.renameSync(path.join(dir, 'n'), target);
      const now = await lstat(target);
      expect(now.ino).not.toBe(was.ino);
      return sameAsCopy({ size: was.size, mtimeNs: String(now.mtimeNs) }, now, target, copy);
    };
    it('same bytes as the copy: the original', async () => expect(await setup('original')).toBe(true));
    it('other bytes than the copy (same size): not the original', async () => expect(await setup('ORIGINAL')).toBe(false));
    it('a missing copy: not the original', async () => {
      const dir = tmpdir();
      fs.writeFileSync(path.join(dir, 't'), 'x');
      const info = await lstat(path.join(dir, 't'));
      expect(await sameAsCopy({ size: 1, mtimeNs: String(info.mtimeNs) }, info, path.join(dir, 't'), path.join(dir, 'none'))).toBe(false);
    });
    it('another size or mtime than recorded: not the original, without reading', async () => {
      const dir = tmpdir();
      fs.writeFileSync(path.join(dir, 't'), 'x');
      fs.writeFileSync(path.join(dir, 'c'), 'x');
      const info = await lstat(path.join(dir, 't'));
      expect(await sameAsCopy({ size: 2, mtimeNs: String(info.mtimeNs) }, info, path.join(dir, 't'), path.join(dir, 'c'))).toBe(false);
      expect(await sameAsCopy({ size: 1, mtimeNs: String(info.mtimeNs + 1n) }, info, path.join(dir, 't'), path.join(dir, 'c'))).toBe(false);
      expect(await sameAsCopy({ size: 1, mtimeNs: null }, info, path.join(dir, 't'), path.join(dir, 'c'))).toBe(false);
    });
  });
});
