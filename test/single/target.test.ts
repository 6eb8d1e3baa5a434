import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { codes } from '../../src/errors.js';
import { checkFilePath, existingAncestor, makeDirs, makeHome, MAX_SYMLINK_HOPS, resolveTarget } from '../../src/single/target.js';
import { ops, record } from '../helpers/hook.js';
import { tmpdir } from '../helpers/tmp.js';

describe('checkFilePath', () => {
  it('makes a path absolute against the cwd and accepts file: URLs', () => {
    expect(checkFilePath('a/b.json')).toBe(path.resolve('a/b.json'));
    expect(checkFilePath(pathToFileURL('/tmp/x y.txt'))).toBe('/tmp/x y.txt');
  });

  it('refuses what cannot name a file, before any I/O', () => {
    const events = record();
    for (const bad of ['', 'a\0b', 'dir/', '/', 'x/.txnfs/y', '.TXNFS/y', `${'n'.repeat(256)}`]) {
      expect(() => checkFilePath(bad), JSON.stringify(bad)).toThrow(expect.objectContaining({ code: codes.EBADPATH }));
    }
    expect(() => checkFilePath(`${'é'.repeat(128)}`)).toThrow(expect.objectContaining({ code: codes.EBADPATH, cause: expect.objectContaining({ code: 'ENAMETOOLONG' }) }));
    expect(() => checkFilePath('n'.repeat(255))).not.toThrow();
    expect(() => checkFilePath(42)).toThrow(TypeError);
    expect(() => checkFilePath(Buffer.from('a'))).toThrow(/must be a string or a file: URL. Received/);
    expect(events).toEqual([]);
  });
});

describe('resolveTarget: the symlink policy is to write through links', () => {
  it('a plain path costs exactly one lstat', async () => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, 'f'), 'x');
    const events = record();
    const t = await resolveTarget(path.join(dir, 'f'));
    expect(t.path).toBe(path.join(dir, 'f'));
    expect(t.existing?.kind).toBe('file');
    expect(ops(events)).toEqual([`lstat ${path.join(dir, 'f')}`]);
    expect((await resolveTarget(path.join(dir, 'missing'))).existing).toBeUndefined();
  });

  it('follows a link, a relative link and a chain to the file they name', async () => {
    const dir = tmpdir();
    fs.mkdirSync(path.join(dir, 'real'));
    fs.writeFileSync(path.join(dir, 'real/f'), 'x');
    fs.symlinkSync(path.join(dir, 'real/f'), path.join(dir, 'abs'));
    fs.symlinkSync('real/f', path.join(dir, 'rel'));
    fs.symlinkSync('rel', path.join(dir, 'chain'));
    for (const name of ['abs', 'rel', 'chain']) {
      const t = await resolveTarget(path.join(dir, name));
      expect(t.path, name).toBe(path.join(dir, 'real/f'));
      expect(t.existing?.kind).toBe('file');
    }
  });

  it('follows a dangling link to the file it names, which does not exist yet', async () => {
    const dir = tmpdir();
    fs.symlinkSync('sub/new.json', path.join(dir, 'dangling'));
    const t = await resolveTarget(path.join(dir, 'dangling'));
    expect(t).toEqual({ path: path.join(dir, 'sub/new.json'), existing: undefined });
  });

  it('refuses a loop, a link into .txnfs, a directory, a special file and a file in the parent path', async () => {
    const dir = tmpdir();
    fs.symlinkSync('b', path.join(dir, 'a'));
    fs.symlinkSync('a', path.join(dir, 'b'));
    await expect(resolveTarget(path.join(dir, 'a'))).rejects.toMatchObject({ code: codes.EBADPATH, cause: { code: 'ELOOP' } });
    fs.symlinkSync('.txnfs/x', path.join(dir, 'sneaky'));
    await expect(resolveTarget(path.join(dir, 'sneaky'))).rejects.toMatchObject({ code: codes.EBADPATH });
    fs.mkdirSync(path.join(dir, 'd'));
    fs.symlinkSync('d', path.join(dir, 'to-dir'));
    await expect(resolveTarget(path.join(dir, 'd'))).rejects.toMatchObject({ code: codes.ETARGET });
    await expect(resolveTarget(path.join(dir, 'to-dir'))).rejects.toMatchObject({ code: codes.ETARGET });
    fs.writeFileSync(path.join(dir, 'file'), '');
    await expect(resolveTarget(path.join(dir, 'file/x'))).rejects.toMatchObject({ code: codes.ETARGET });
    const fifo = spawnSync('mkfifo', [path.join(dir, 'fifo')]);
    if (fifo.status === 0) await expect(resolveTarget(path.join(dir, 'fifo'))).rejects.toMatchObject({ code: codes.ETARGET });
  });

  it('gives up after MAX_SYMLINK_HOPS links in a row', async () => {
    const dir = tmpdir();
    for (let i = 0; i <= MAX_SYMLINK_HOPS; i++) fs.symlinkSync(`l${i + 1}`, path.join(dir, `l${i}`));
    fs.writeFileSync(path.join(dir, `l${MAX_SYMLINK_HOPS + 1}`), 'end');
    await expect(resolveTarget(path.join(dir, 'l0'))).rejects.toMatchObject({ code: codes.EBADPATH });
    await expect(resolveTarget(path.join(dir, 'l1'))).resolves.toMatchObject({ path: path.join(dir, `l${MAX_SYMLINK_HOPS + 1}`) });
  });
});

describe('makeDirs', () => {
  it('creates the missing chain top-down and names the directories to fsync', async () => {
    const dir = tmpdir();
    const made = await makeDirs(path.join(dir, 'a/b/c'));
    expect(made.created).toEqual([path.join(dir, 'a'), path.join(dir, 'a/b'), path.join(dir, 'a/b/c')]);
    expect([...made.parents].sort()).toEqual([dir, path.join(dir, 'a'), path.join(dir, 'a/b')]);
    expect(await makeDirs(path.join(dir, 'a/b/c'))).toEqual({ created: [], parents: [] });
  });

  it('refuses a file in the way', async () => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, 'f'), '');
    await expect(makeDirs(path.join(dir, 'f/x/y'))).rejects.toMatchObject({ code: codes.ETARGET });
  });

  it('existingAncestor finds the deepest directory that exists', async () => {
    const dir = tmpdir();
    fs.mkdirSync(path.join(dir, 'a'));
    expect(await existingAncestor(path.join(dir, 'a/b/c'))).toBe(path.join(dir, 'a'));
  });
});

describe('makeHome', () => {
  it("gives a new .txnfs the directory's mode, so every user who may write there may make temps (a sticky /tmp too)", async () => {
    const dir = tmpdir();
    fs.chmodSync(dir, 0o1777);
    const events = record();
    await makeHome(dir, true);
    expect(fs.statSync(path.join(dir, '.txnfs')).mode & 0o7777).toBe(0o1777);
    expect(ops(events)).toContain(`fsyncDir ${dir}`);
  });

  it.runIf(process.getuid?.() === 0)("and the directory's group", async () => {
    const dir = tmpdir();
    fs.chownSync(dir, 0, 4321);
    fs.chmodSync(dir, 0o775);
    await makeHome(dir, false);
    expect(fs.statSync(path.join(dir, '.txnfs'))).toMatchObject({ gid: 4321 });
    expect(fs.statSync(path.join(dir, '.txnfs')).mode & 0o7777).toBe(0o775);
  });

  it('leaves an existing one as it is, refuses a file in its place, and reports a missing directory', async () => {
    const dir = tmpdir();
    fs.mkdirSync(path.join(dir, '.txnfs'), { mode: 0o700 });
    await makeHome(dir, true);
    expect(fs.statSync(path.join(dir, '.txnfs')).mode & 0o777).toBe(0o700);
    const other = tmpdir();
    fs.writeFileSync(path.join(other, '.txnfs'), '');
    await expect(makeHome(other, true)).rejects.toMatchObject({ code: codes.ETARGET });
    await expect(makeHome(path.join(other, 'missing'), true)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
