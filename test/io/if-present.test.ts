import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lstatIfPresent, lstatIfPresentStrict, readdirIfPresent, readFileIfPresent, rmdirIfPresent, unlinkIfPresent } from '../../src/io/if-present.js';
import { errnoOf } from '../../src/errors.js';
import { useFsImpl } from '../../src/io/fs.js';
import { failOnce } from '../helpers/hook.js';
import { tmpdir } from '../helpers/tmp.js';

// "ENOENT means absent" in one place (issue 13): what each helper reads as absent, and that every
// other errno still reaches the caller.
describe('if-present helpers', () => {
  it('read a missing entry, or one under a file (ENOTDIR), as absent', async () => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, 'file'), 'x');
    for (const missing of [path.join(dir, 'nope'), path.join(dir, 'file', 'below')]) {
      expect(await lstatIfPresent(missing), missing).toBeUndefined();
      expect(await readdirIfPresent(missing), missing).toBeUndefined();
      expect(await readFileIfPresent(missing), missing).toBeUndefined();
    }
    expect(await unlinkIfPresent(path.join(dir, 'nope'))).toBe(false);
    expect(await rmdirIfPresent(path.join(dir, 'nope'))).toBe(false);
  });

  it('the strict lstat of the journal code reads only ENOENT as absent: a file where a directory was is thrown (ENOTDIR)', async () => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, 'file'), 'x');
    expect(await lstatIfPresentStrict(path.join(dir, 'nope'))).toBeUndefined();
    expect((await lstatIfPresentStrict(path.join(dir, 'file')))?.kind).toBe('file');
    const err = await lstatIfPresentStrict(path.join(dir, 'file', 'below')).catch((e: unknown) => e);
    expect(errnoOf(err)).toBe('ENOTDIR');
  });

  it("read an entry removed through another mount (ESTALE, which Node names 'Unknown system error -116') as absent", async () => {
    const dir = tmpdir();
    fs.mkdirSync(path.join(dir, 'lock'));
    // As sshfs answered in CI for a lock directory another process had just removed.
    const stale = Object.assign(new Error('Unknown system error -116: Unknown system error -116, scandir'), { code: 'Unknown system error -116', errno: -116, syscall: 'scandir' });
    const real = useFsImpl();
    useFsImpl({ ...real, readdir: async () => Promise.reject(stale), lstat: async () => Promise.reject(stale) });
    try {
      expect(await readdirIfPresent(path.join(dir, 'lock'))).toBeUndefined();
      expect(await lstatIfPresent(path.join(dir, 'lock'))).toBeUndefined();
    } finally {
      useFsImpl(real);
    }
    expect(errnoOf(stale)).toBe('ESTALE');
    expect(errnoOf(Object.assign(new Error('x'), { code: 'EIO', errno: -5 }))).toBe('EIO');
  });

  it('act on an entry that is there', async () => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, 'file'), 'x');
    fs.mkdirSync(path.join(dir, 'sub'));
    expect((await lstatIfPresent(path.join(dir, 'file')))?.kind).toBe('file');
    expect(await readdirIfPresent(dir)).toEqual(expect.arrayContaining(['file', 'sub']));
    expect((await readFileIfPresent(path.join(dir, 'file')))?.toString()).toBe('x');
    expect(await unlinkIfPresent(path.join(dir, 'file'))).toBe(true);
    expect(await rmdirIfPresent(path.join(dir, 'sub'))).toBe(true);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('a removal of the wrong kind of entry is not "absent": rmdir of a file throws ENOTDIR', async () => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, 'file'), 'x');
    await expect(rmdirIfPresent(path.join(dir, 'file'))).rejects.toMatchObject({ code: 'ENOTDIR' });
    expect(fs.existsSync(path.join(dir, 'file'))).toBe(true);
  });

  it.each([
    ['lstat', (p: string) => lstatIfPresent(p)],
    ['readdir', (p: string) => readdirIfPresent(p)],
    ['readFile', (p: string) => readFileIfPresent(p)],
    ['unlink', (p: string) => unlinkIfPresent(p)],
    ['rmdir', (p: string) => rmdirIfPresent(p)],
  ])('%s: any other errno (EIO, EACCES) is thrown, not read as absent', async (op, call) => {
    const dir = tmpdir();
    for (const code of ['EIO', 'EACCES']) {
      const fault = failOnce(op, code, dir);
      await expect(call(path.join(dir, 'nope'))).rejects.toMatchObject({ code });
      expect(fault.fired()).toBe(true);
    }
  });
});
