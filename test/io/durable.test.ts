import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { syncDir, syncDirs, writeAll, writeChunks, writeSmallFile } from '../../src/io/durable.js';
import { faults } from '../../src/io/faults.js';
import { errnoError } from '../helpers/errno.mjs';
import type { Handle } from '../../src/io/fs.js';
import { tmpdir } from '../helpers/tmp.js';

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

/** A handle whose writev takes at most `max` bytes and at most `maxBuffers` buffers per call. */
function shortVectorWriter(max: number, got: number[], calls: number[][]): Handle {
  return {
    ...shortWriter(max, got),
    writev: async (buffers) => {
      calls.push(buffers.map((b) => b.length));
      if (buffers.length > 1024) throw Object.assign(new Error('EINVAL: too many buffers'), { code: 'EINVAL' });
      let n = 0;
      for (const b of buffers) {
        for (const byte of b) {
          if (n === max) return n;
          got.push(byte);
          n++;
        }
      }
      return n;
    },
  };
}

describe('writeChunks', () => {
  it('writes every chunk in order through writev, resuming inside a chunk after a short write', async () => {
    const got: number[] = [];
    const calls: number[][] = [];
    const chunks = [Buffer.from([1, 2, 3]), Buffer.alloc(0), Buffer.from([4, 5]), Buffer.from([6, 7, 8, 9])];
    await writeChunks(shortVectorWriter(4, got, calls), chunks);
    expect(got).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(calls).toEqual([[3, 2, 4], [1, 4], [1]]);
  });

  it('never passes more than IOV_MAX buffers to one call', async () => {
    const got: number[] = [];
    const calls: number[][] = [];
    const chunks = Array.from({ length: 2500 }, (_, i) => Buffer.from([i % 256]));
    await writeChunks(shortVectorWriter(1_000_000, got, calls), chunks);
    expect(got).toEqual(chunks.map((c) => c[0]));
    expect(calls.map((c) => c.length)).toEqual([1024, 1024, 452]);
  });

  it('falls back to write() on a handle without writev, and fails with EIO when nothing is written', async () => {
    const got: number[] = [];
    await writeChunks(shortWriter(2, got), [Buffer.from([1, 2, 3]), Buffer.from([4])]);
    expect(got).toEqual([1, 2, 3, 4]);
    await expect(writeChunks(shortWriter(0), [Buffer.from([1])])).rejects.toMatchObject({ code: 'EIO' });
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
