/**
 * src/io/fs.ts, the open-file half of the seam: the real Handle (a descriptor driven through the
 * callback API) and the reporting wrapper every caller gets.
 */
import * as nodeFs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import * as fs from '../../src/io/fs.js';
import { faults } from '../../src/io/faults.js';
import { errnoError } from '../helpers/errno.mjs';
import { tmpdir } from '../helpers/tmp.js';

afterEach(() => {
  faults.hook = undefined;
  fs.useFsImpl();
});

/** The ops the hook sees while `run` runs. */
async function seen(run: () => Promise<unknown>): Promise<string[]> {
  const ops: string[] = [];
  faults.hook = (e) => {
    if (e.kind === 'op') ops.push(e.op);
  };
  try {
    await run();
  } finally {
    faults.hook = undefined;
  }
  return ops;
}

describe('Handle', () => {
  it('writes, writes several buffers in one writev, fsyncs, stats and closes', async () => {
    const p = path.join(tmpdir(), 'f');
    const h = await fs.create(p, 0o600);
    expect(await h.write(Buffer.from('head:'), 0, 5)).toBe(5);
    const ops = await seen(async () => {
      expect(await h.writev?.([Buffer.from('one,'), new Uint8Array(0), Buffer.from('two')])).toBe(7);
    });
    expect(ops).toEqual(['write']); // one call, one fault point
    await h.sync();
    const info = await h.stat();
    expect(info).toMatchObject({ kind: 'file', size: 12, mode: 0o600, nlink: 1 });
    expect(info.ino).toBe(BigInt(nodeFs.statSync(p).ino));
    await h.close();
    expect(nodeFs.readFileSync(p, 'utf8')).toBe('head:one,two');
  });

  it('close is idempotent, and a call after close fails with EBADF instead of reaching a reused descriptor', async () => {
    const h = await fs.create(path.join(tmpdir(), 'f'), 0o600);
    await h.close();
    await h.close();
    // Whatever descriptor number the kernel hands out next must not be written through the old handle.
    const other = nodeFs.openSync(path.join(tmpdir(), 'other'), 'w');
    try {
      await expect(h.write(Buffer.from('x'), 0, 1)).rejects.toMatchObject({ code: 'EBADF' });
      await expect(h.sync()).rejects.toMatchObject({ code: 'EBADF' });
      await expect(h.stat()).rejects.toMatchObject({ code: 'EBADF' });
    } finally {
      nodeFs.closeSync(other);
    }
  });

  it('an implementation without writev gets a short write of the first buffer (callers loop)', async () => {
    fs.useFsImpl({
      ...fs.nodeImpl,
      create: async (p, mode) => {
        const real = await fs.nodeImpl.create(p, mode);
        return { write: (b, o, l) => real.write(b, o, l), sync: () => real.sync(), stat: () => real.stat(), chmod: (m) => real.chmod(m), chown: (u, g) => real.chown(u, g), close: () => real.close() };
      },
    });
    const p = path.join(tmpdir(), 'f');
    const h = await fs.create(p, 0o600);
    expect(await h.writev?.([Buffer.from('ab'), Buffer.from('cd')])).toBe(2);
    await h.close();
    expect(nodeFs.readFileSync(p, 'utf8')).toBe('ab');
  });

  it('a hook that throws rejects the call (never a synchronous throw), before it has any effect', async () => {
    const dir = tmpdir();
    const h = await fs.create(path.join(dir, 'f'), 0o600);
    faults.hook = (e) => {
      if (e.kind === 'op') throw errnoError('EIO', e.op, e.path);
    };
    for (const call of [() => h.write(Buffer.from('x'), 0, 1), () => h.writev?.([Buffer.from('x')]) as Promise<number>, () => h.sync(), () => h.stat(), () => fs.lstat(dir), () => fs.rename(path.join(dir, 'f'), path.join(dir, 'g'))]) {
      let promise: Promise<unknown> | undefined;
      expect(() => {
        promise = call();
      }).not.toThrow();
      await expect(promise).rejects.toMatchObject({ code: 'EIO' });
    }
    faults.hook = undefined;
    expect(nodeFs.readdirSync(dir)).toEqual(['f']);
    expect(nodeFs.readFileSync(path.join(dir, 'f'), 'utf8')).toBe('');
    await h.close();
  });
});
