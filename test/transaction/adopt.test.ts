/**
 * tx.tempDir() and tx.adopt(): files another program wrote are committed by rename, not copied.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { begin, codes, recover } from '../../src/index.js';
import { faults, type FaultEvent } from '../../src/io/faults.js';
import { errnoError } from '../helpers/errno.mjs';
import { leftovers, snapshot, tmpdir } from '../helpers/tmp.js';

afterEach(() => {
  faults.hook = undefined;
});

const ino = (p: string): bigint => fs.statSync(p, { bigint: true }).ino;

describe('tempDir', () => {
  it('is a directory inside the staging dir, the same on every call, gone after commit', async () => {
    const dir = tmpdir();
    const tx = begin({ dir });
    const tmp = await tx.tempDir();
    expect(await tx.tempDir()).toBe(tmp);
    expect(tmp).toBe(path.join(dir, '.txnfs', `.txn-${tx.id}`, 'tmp'));
    expect(fs.readdirSync(tmp)).toEqual([]);
    fs.writeFileSync(path.join(tmp, 'scratch'), 'not adopted');
    await tx.commit();
    expect(fs.existsSync(tmp)).toBe(false);
    expect(snapshot(dir)).toEqual({});
    expect(leftovers(dir)).toEqual([]);
  });

  it('goes away with an abort, and cannot be asked for afterwards', async () => {
    const dir = tmpdir();
    const tx = begin({ dir });
    const tmp = await tx.tempDir();
    fs.writeFileSync(path.join(tmp, 'x'), 'x');
    tx.adopt('x', path.join(tmp, 'x'));
    await tx.abort();
    expect(fs.existsSync(tmp)).toBe(false);
    expect(leftovers(dir)).toEqual([]);
    expect(() => tx.tempDir()).toThrow(expect.objectContaining({ code: codes.ESTATE }));
  });
});

describe('adopt', () => {
  it('commits files from tempDir by rename, nested targets included', async () => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, 'a.txt'), 'old a');
    const tx = begin({ dir });
    const tmp = await tx.tempDir();
    fs.mkdirSync(path.join(tmp, 'deep/er'), { recursive: true });
    fs.writeFileSync(path.join(tmp, 'a.txt'), 'new a');
    fs.writeFileSync(path.join(tmp, 'deep/er/b.bin'), Buffer.alloc(70_000, 7));
    const inodes = [ino(path.join(tmp, 'a.txt')), ino(path.join(tmp, 'deep/er/b.bin'))];
    tx.adopt('a.txt', path.join(tmp, 'a.txt'));
    tx.adopt('deep/er/b.bin', path.join(tmp, 'deep/er/b.bin'));
    const result = await tx.commit();
    expect(result).toMatchObject({ written: 2, bytes: 5 + 70_000 });
    expect(fs.readFileSync(path.join(dir, 'a.txt'), 'utf8')).toBe('new a');
    expect(fs.readFileSync(path.join(dir, 'deep/er/b.bin')).equals(Buffer.alloc(70_000, 7))).toBe(true);
    // The same inodes: moved, not copied.
    expect([ino(path.join(dir, 'a.txt')), ino(path.join(dir, 'deep/er/b.bin'))]).toEqual(inodes);
    expect(leftovers(dir)).toEqual([]);
  });

  it('adopts a file from outside the root (moved: it is gone from where it was)', async () => {
    const dir = tmpdir();
    const elsewhere = tmpdir();
    const src = path.join(elsewhere, 'report.csv');
    fs.writeFileSync(src, 'r');
    const before = ino(src);
    const tx = begin({ dir });
    tx.adopt('out/report.csv', src);
    await tx.commit();
    expect(snapshot(dir)).toEqual({ 'out/report.csv': 'r' });
    expect(ino(path.join(dir, 'out/report.csv'))).toBe(before);
    expect(fs.existsSync(src)).toBe(false);
  });

  it('mixes with write() and remove(); the last operation on a target wins', async () => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, 'gone'), 'g');
    const tx = begin({ dir });
    const tmp = await tx.tempDir();
    fs.writeFileSync(path.join(tmp, 'one'), 'adopted');
    tx.write('one', 'written first');
    tx.adopt('one', path.join(tmp, 'one'));
    tx.write('two', 'written');
    tx.remove('gone');
    await tx.commit();
    expect(snapshot(dir)).toEqual({ one: 'adopted', two: 'written' });
  });

  it('keeps an existing target mode, gives a new target the file own mode, and honours options.mode', async () => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, 'kept'), 'k');
    fs.chmodSync(path.join(dir, 'kept'), 0o600);
    const tx = begin({ dir });
    const tmp = await tx.tempDir();
    for (const n of ['kept', 'script', 'given']) {
      fs.writeFileSync(path.join(tmp, n), n);
      fs.chmodSync(path.join(tmp, n), 0o755);
    }
    tx.adopt('kept', path.join(tmp, 'kept'));
    tx.adopt('script', path.join(tmp, 'script'));
    tx.adopt('given', path.join(tmp, 'given'), { mode: 0o640 });
    await tx.commit();
    const mode = (n: string): number => fs.statSync(path.join(dir, n)).mode & 0o7777;
    expect([mode('kept'), mode('script'), mode('given')]).toEqual([0o600, 0o755, 0o640]);
  });

  it("fsyncs the adopted file under durability 'full' only", async () => {
    for (const durability of ['full', 'none'] as const) {
      const dir = tmpdir();
      const synced: string[] = [];
      faults.hook = (e: FaultEvent) => {
        if (e.kind === 'op' && e.op === 'fsync') synced.push(e.path);
      };
      const tx = begin({ dir, durability });
      const tmp = await tx.tempDir();
      fs.writeFileSync(path.join(tmp, 'f'), 'data');
      tx.adopt('f', path.join(tmp, 'f'));
      await tx.commit();
      faults.hook = undefined;
      const staged = path.join(dir, '.txnfs', `.txn-${tx.id}`, 'files', '0');
      expect(synced.includes(staged)).toBe(durability === 'full');
    }
  });

  it('refuses what it must not move, before moving it, and nothing lands', async () => {
    const dir = tmpdir();
    const outside = tmpdir();
    fs.writeFileSync(path.join(dir, 'keep'), 'old');
    fs.writeFileSync(path.join(dir, 'inside'), 'a file of the root');
    fs.writeFileSync(path.join(outside, 'real'), 'r');
    fs.symlinkSync(path.join(outside, 'real'), path.join(outside, 'link'));
    fs.mkdirSync(path.join(outside, 'adir'));
    execFileSync('mkfifo', [path.join(outside, 'fifo')]);
    fs.writeFileSync(path.join(outside, 'linked'), 'l');
    fs.linkSync(path.join(outside, 'linked'), path.join(outside, 'linked2'));
    const cases: [string, RegExp][] = [
      [path.join(outside, 'link'), /a symlink/],
      [path.join(outside, 'adir'), /a directory/],
      [path.join(outside, 'fifo'), /not a regular file/],
      [path.join(outside, 'linked'), /2 hard links/],
      [path.join(outside, 'missing'), /does not exist/],
      [path.join(dir, 'inside'), /inside the root/],
    ];
    for (const [file, why] of cases) {
      const tx = begin({ dir });
      tx.write('keep', 'new');
      tx.adopt('target', file);
      const err = await tx.commit().catch((e: unknown) => e);
      expect(err).toMatchObject({ code: codes.ESTAGE, message: expect.stringMatching(why) });
      expect(snapshot(dir)).toEqual({ keep: 'old', inside: 'a file of the root' });
      expect(leftovers(dir)).toEqual([]);
    }
    // Nothing was moved away.
    expect(fs.readdirSync(outside).sort()).toEqual(['adir', 'fifo', 'link', 'linked', 'linked2', 'real']);
  });

  it('refuses a file from another transaction staging dir (inside the root)', async () => {
    const dir = tmpdir();
    const other = begin({ dir });
    const otherTmp = await other.tempDir();
    fs.writeFileSync(path.join(otherTmp, 'x'), 'x');
    const tx = begin({ dir });
    tx.adopt('x', path.join(otherTmp, 'x'));
    await expect(tx.commit()).rejects.toMatchObject({ code: codes.ESTAGE, message: expect.stringMatching(/inside the root/) });
    expect(fs.existsSync(path.join(otherTmp, 'x'))).toBe(true);
    await other.abort();
  });

  it('refuses a file on another filesystem with ECROSSDEV', async (ctx) => {
    const shm = '/dev/shm';
    const dir = tmpdir();
    if (!fs.existsSync(shm) || fs.statSync(shm).dev === fs.statSync(dir).dev) {
      ctx.skip(`needs ${shm} on another filesystem than ${os.tmpdir()}`);
      return;
    }
    const other = fs.mkdtempSync(path.join(shm, 'txnfs-'));
    try {
      fs.writeFileSync(path.join(other, 'f'), 'f');
      const tx = begin({ dir });
      tx.adopt('f', path.join(other, 'f'));
      await expect(tx.commit()).rejects.toMatchObject({ code: codes.ECROSSDEV });
      expect(fs.existsSync(path.join(other, 'f'))).toBe(true);
      expect(snapshot(dir)).toEqual({});
    } finally {
      fs.rmSync(other, { recursive: true, force: true });
    }
  });

  it('a failure after the move (EIO at fsync) fails the commit; nothing lands, nothing is left', async () => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, 'a'), 'old');
    const tx = begin({ dir });
    const tmp = await tx.tempDir();
    fs.writeFileSync(path.join(tmp, 'a'), 'new');
    faults.hook = (e) => {
      if (e.kind === 'op' && e.op === 'fsync' && e.path.endsWith(`${path.sep}files${path.sep}0`)) throw errnoError('EIO', 'fsync', e.path);
    };
    tx.adopt('a', path.join(tmp, 'a'));
    await expect(tx.commit()).rejects.toMatchObject({ code: codes.ESTAGE, cause: { code: 'EIO' } });
    faults.hook = undefined;
    expect(snapshot(dir)).toEqual({ a: 'old' });
    await recover(dir);
    expect(leftovers(dir)).toEqual([]);
  });

  it('checks its arguments at once', () => {
    const dir = tmpdir();
    const tx = begin({ dir });
    expect(() => tx.adopt('a', '')).toThrow(TypeError);
    expect(() => tx.adopt('a', 42 as unknown as string)).toThrow(TypeError);
    expect(() => tx.adopt('../escape', '/tmp/x')).toThrow(expect.objectContaining({ code: codes.EBADPATH }));
    expect(() => tx.adopt('a', '/tmp/x', { mode: -1 })).toThrow();
  });
});
