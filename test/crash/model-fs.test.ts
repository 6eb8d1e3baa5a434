import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeImpl, type FsImpl } from '../../src/io/fs.js';
import { tmpdir } from '../helpers/tmp.js';
import { ModelFs, SnapshotBuilder, type Rec } from './model-fs.js';

const errCode = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'ok',
    (e: NodeJS.ErrnoException) => e.code ?? 'no code',
  );

/** A script of filesystem calls, each reported as 'ok' or its errno code. */
async function script(fs: FsImpl, r: string): Promise<string[]> {
  const p = (rel: string): string => path.join(r, rel);
  const out: string[] = [];
  const step = async (name: string, op: () => Promise<unknown>): Promise<void> => {
    out.push(`${name}: ${await errCode(op())}`);
  };
  await step('mkdir d', () => fs.mkdir(p('d')));
  await step('mkdir d again', () => fs.mkdir(p('d')));
  await step('mkdir in missing', () => fs.mkdir(p('nope/x')));
  await step('create d/f', async () => {
    const h = await fs.create(p('d/f'), 0o666);
    await h.write(Buffer.from('hello world'), 0, 11);
    await h.write(Buffer.from('HELLO'), 0, 5);
    await h.sync();
    await h.close();
  });
  await step('create d/f again', () => fs.create(p('d/f'), 0o666));
  await step('create under a file', () => fs.create(p('d/f/x'), 0o666));
  await step('link d/f d/g', () => fs.link(p('d/f'), p('d/g')));
  await step('link onto existing', () => fs.link(p('d/f'), p('d/g')));
  await step('link a directory', () => fs.link(p('d'), p('d2')));
  await step('rename f onto its own link g', () => fs.rename(p('d/f'), p('d/g')));
  await step('unlink a directory', () => fs.unlink(p('d')));
  await step('rmdir a file', () => fs.rmdir(p('d/f')));
  await step('rmdir non-empty', () => fs.rmdir(p('d')));
  await step('mkdir e', () => fs.mkdir(p('e')));
  await step('mkdir e/sub', () => fs.mkdir(p('e/sub')));
  await step('rename file onto dir', () => fs.rename(p('d/g'), p('e')));
  await step('rename dir onto non-empty dir', () => fs.rename(p('d'), p('e')));
  await step('rename dir into itself', () => fs.rename(p('e'), p('e/sub/x')));
  await step('rename dir onto file', () => fs.rename(p('e/sub'), p('d/g')));
  await step('rename missing', () => fs.rename(p('missing'), p('x')));
  await step('rename e/sub -> d/sub2', () => fs.rename(p('e/sub'), p('d/sub2')));
  await step('rename dir onto empty dir', () => fs.rename(p('e'), p('d/sub2')));
  await step('unlink d/f', () => fs.unlink(p('d/f')));
  await step('unlink d/f again', () => fs.unlink(p('d/f')));
  await step('readdir a file', () => fs.readdir(p('d/g')));
  await step('readFile a dir', () => fs.readFile(p('d')));
  await step('syncDir missing', () => fs.syncDir(p('missing')));
  await step('removeTree missing', () => fs.removeTree(p('missing')));
  await step('readlink a file', () => fs.readlink(p('d/g')));
  await step('readlink missing', () => fs.readlink(p('missing')));
  await step('chmod d/g', () => fs.chmod(p('d/g'), 0o600));
  const g = await fs.stat(p('d/g'));
  out.push(`d/g: ${g.kind} mode ${g.mode.toString(8)} size ${g.size} nlink ${g.nlink}`);
  out.push(`d/g content: ${(await fs.readFile(p('d/g'))).toString()}`);
  out.push(`readdir d: ${(await fs.readdir(p('d'))).sort().join(',')}`);
  const d = await fs.stat(p('d'));
  out.push(`d: ${d.kind} nlink ${d.nlink}`);
  // An unlinked file stays writable through its open descriptor.
  const h = await fs.create(p('tmp'), 0o666);
  await fs.unlink(p('tmp'));
  out.push(`write after unlink: ${await errCode(h.write(Buffer.from('x'), 0, 1))}`);
  await h.close();
  out.push(`write after close: ${await errCode(h.write(Buffer.from('x'), 0, 1))}`);
  await step('removeTree d', () => fs.removeTree(p('d')));
  out.push(`root after: ${(await fs.readdir(r)).sort().join(',')}`);
  return out;
}

describe('the model filesystem', () => {
  it('answers a script of calls exactly as the real filesystem does (results, errno codes, stats)', async () => {
    const real = tmpdir();
    const expected = await script(nodeImpl, real);
    const model = new ModelFs(new SnapshotBuilder().dir('/r').build());
    const actual = await script(model, '/r');
    expect(actual).toEqual(expected);
    // The script really exercised errors, not only successes.
    expect(expected.filter((l) => /: E[A-Z]+$/.test(l)).length).toBeGreaterThan(15);
  });

  it('follows symlinks in parent components and in stat/realpath, not in lstat/unlink', async () => {
    const m = new ModelFs(new SnapshotBuilder().file('/r/real/f', 'data').symlink('/r/link', 'real').symlink('/r/abs', '/r/real/f').build());
    expect(await m.realpath('/r/link/f')).toBe('/r/real/f');
    expect((await m.readFile('/r/link/f')).toString()).toBe('data');
    expect((await m.stat('/r/abs')).kind).toBe('file');
    expect((await m.lstat('/r/abs')).kind).toBe('symlink');
    expect(await m.readlink('/r/link')).toBe('real');
    await m.unlink('/r/abs');
    expect((await m.readFile('/r/real/f')).toString()).toBe('data');
    await m.symlink('loop', '/r/loop');
    await expect(m.stat('/r/loop')).rejects.toMatchObject({ code: 'ELOOP' });
  });

  it('logs a rename as one atomic record of two entry changes', async () => {
    const m = new ModelFs(new SnapshotBuilder().file('/a/x', '1').dir('/b').build());
    await m.rename('/a/x', '/b/y');
    const entries = m.log.filter((r): r is Extract<Rec, { t: 'entry' }> => r.t === 'entry');
    expect(entries).toHaveLength(1);
    expect(entries[0]?.changes.map((c) => c.name)).toEqual(['y', 'x']);
    expect(entries[0]?.changes.map((c) => c.to === null)).toEqual([false, true]);
  });

  it('logs rm -rf one entry at a time, children before their directory', async () => {
    const m = new ModelFs(new SnapshotBuilder().file('/t/a/b/c', '1').file('/t/a/d', '2').build());
    await m.removeTree('/t/a');
    expect(m.log.map((r) => r.what)).toEqual([
      'unlink /t/a/b/c (rm -rf)',
      'rmdir /t/a/b (rm -rf)',
      'unlink /t/a/d (rm -rf)',
      'rmdir /t/a (rm -rf)',
    ]);
  });

  it('never gives two inodes the same number within a run, and keeps numbers across a snapshot', async () => {
    const m = new ModelFs(new SnapshotBuilder().file('/f', '1').build());
    const before = (await m.stat('/f')).ino;
    const inos = new Set<bigint>();
    for (let i = 0; i < 5; i++) {
      const h = await m.create(`/n${i}`, 0o644);
      await h.close();
      inos.add((await m.stat(`/n${i}`)).ino);
      await m.unlink(`/n${i}`);
    }
    expect(inos.size).toBe(5);
    expect(inos.has(before)).toBe(false);
    expect((await new ModelFs(m.snapshot()).stat('/f')).ino).toBe(before);
  });

  it('records which files the caller observed (content or size), and nothing else', async () => {
    const m = new ModelFs(new SnapshotBuilder().file('/a', '1').file('/b', '2').file('/c', '3').dir('/d').build());
    await m.readFile('/a');
    await m.lstat('/b');
    await m.rename('/c', '/d/c');
    await m.lstat('/d');
    const id = (p: string): number => m.peek(p)?.id as number;
    expect([...m.observed].sort()).toEqual([id('/a'), id('/b')].sort());
  });
});
