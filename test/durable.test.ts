import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { syncDir, syncDirs, writeAll, writeSmallFile } from '../src/durable.js';
import { errnoError, faults } from '../src/faults.js';
import type { Handle } from '../src/fs.js';
import { tmpdir } from './helpers/tmp.js';

afterEach(() => {
  faults.hook = undefined;
});

/** A handle that accepts at most `max` bytes per write, recording what it got. */
function shortWriter(max: number, got: number[] = []): Handle {
  return {
    write: async (buffer, offset, length) => {
      const n = Math.min(max, length);
      for (let i = 0; i < n; i++) got.push(buffer[offset + i] as number);
      return n;
    },
    sync: async () => undefined,
    stat: async () => { throw new Error('unused'); },
    chmod: async () => undefined,
    chown: async () => undefined,
    close: async () => undefined,
  };
}

describe('writeAll', () => {
  it('loops over short writes until every byte is written', async () => {
    const got: number[] = [];
    const data = Buffer.from('abcdefghijklmnopqrstuvwxyz');
    await writeAll(shortWriter(3, got), data);
    expect(Buffer.from(got).toString()).toBe('abcdefghijklmnopqrstuvwxyz');
  });

  it('fails with EIO instead of looping forever when a write makes no progress', async () => {
    await expect(writeAll(shortWriter(0), Buffer.from('x'))).rejects.toMatchObject({ code: 'EIO' });
  });
});

describe('syncDir', () => {
  it('ignores EINVAL/ENOTSUP (filesystems that cannot fsync a directory) but not EIO', async () => {
    const dir = tmpdir();
    for (const code of ['EINVAL', 'ENOTSUP']) {
      faults.hook = (e) => {
        if (e.kind === 'op' && e.op === 'fsyncDir') throw errnoError(code, e.op, e.path);
      };
      await expect(syncDir(dir)).resolves.toBeUndefined();
    }
    faults.hook = (e) => {
      if (e.kind === 'op' && e.op === 'fsyncDir') throw errnoError('EIO', e.op, e.path);
    };
    await expect(syncDir(dir)).rejects.toMatchObject({ code: 'EIO' });
  });

  it('syncDirs fsyncs each distinct directory once, and may skip vanished ones', async () => {
    const dir = tmpdir();
    const seen: string[] = [];
    faults.hook = (e) => {
      if (e.kind === 'op' && e.op === 'fsyncDir') seen.push(e.path);
    };
    await syncDirs([dir, dir, dir], 4);
    expect(seen).toEqual([dir]);
    await expect(syncDirs([path.join(dir, 'gone')], 4)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(syncDirs([path.join(dir, 'gone')], 4, true)).resolves.toBeUndefined();
  });
});

describe('writeSmallFile', () => {
  it('creates exclusively, writes, fsyncs when asked, and closes even when a step fails', async () => {
    const dir = tmpdir();
    const p = path.join(dir, 'f');
    const ops: string[] = [];
    faults.hook = (e) => {
      if (e.kind === 'op') ops.push(e.op);
    };
    await writeSmallFile(p, 'hello', true);
    expect(ops).toEqual(['create', 'write', 'fsync', 'close']);
    expect(fs.readFileSync(p, 'utf8')).toBe('hello');
    await expect(writeSmallFile(p, 'again', false)).rejects.toMatchObject({ code: 'EEXIST' });
    ops.length = 0;
    faults.hook = (e) => {
      if (e.kind === 'op') ops.push(e.op);
      if (e.kind === 'op' && e.op === 'fsync') throw errnoError('EIO', e.op, e.path);
    };
    await expect(writeSmallFile(path.join(dir, 'g'), 'x', true)).rejects.toMatchObject({ code: 'EIO' });
    expect(ops).toEqual(['create', 'write', 'fsync', 'close']);
  });
});
