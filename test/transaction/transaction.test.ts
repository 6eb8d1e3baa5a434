import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { begin, codes, isTxnError, recover, transaction, TxnError } from '../../src/index.js';
import { leftovers, snapshot, tmpdir } from '../helpers/tmp.js';

describe('commit', () => {
  it('creates, replaces and removes files together, then leaves nothing behind', async () => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, 'b.csv'), 'old b');
    fs.writeFileSync(path.join(dir, 'stale.txt'), 'stale');
    const tx = begin({ dir });
    tx.write('a.json', '{"a":1}');
    tx.write('b.csv', Buffer.from('new b'));
    tx.write('nested/deep/c.txt', 'c');
    tx.remove('stale.txt');
    const result = await tx.commit();
    expect(snapshot(dir)).toEqual({ 'a.json': '{"a":1}', 'b.csv': 'new b', 'nested/deep/c.txt': 'c' });
    expect(result).toMatchObject({ id: tx.id, entries: 4, written: 3, removed: 1, bytes: 7 + 5 + 1, recovered: [], warnings: [] });
    expect(leftovers(dir)).toEqual([]);
    expect(tx.state).toBe('committed');
  });

  it('accepts every documented kind of data', async () => {
    const dir = tmpdir();
    const tx = begin({ dir });
    tx.write('string', 'text');
    tx.write('buffer', Buffer.from('buf'));
    tx.write('u8', new Uint8Array([104, 105]));
    tx.write('arraybuffer', new TextEncoder().encode('ab').buffer);
    tx.write('iterable', ['x', Buffer.from('y'), 'z']);
    tx.write('async', (async function* () {
      yield 'a';
      yield Buffer.from('b');
    })());
    tx.write('readable', Readable.from(['r', 'e', 'a', 'd']));
    tx.writeJson('j.json', { k: [1, 2] }, { spaces: 1 });
    const ws = tx.createWriteStream('stream.txt');
    await pipeline(Readable.from(['s1', 's2']), ws);
    await tx.commit();
    expect(snapshot(dir)).toEqual({
      string: 'text', buffer: 'buf', u8: 'hi', arraybuffer: 'ab', iterable: 'xyz', async: 'ab', readable: 'read',
      'j.json': '{\n "k": [\n  1,\n  2\n ]\n}\n', 'stream.txt': 's1s2',
    });
  });

  it('applies the last operation on a target', async () => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, 'x'), 'orig');
    const tx = begin({ dir });
    tx.write('x', 'one');
    tx.write('./x', 'two');
    tx.write('y', 'y1');
    tx.remove('y');
    tx.remove('x');
    tx.write(path.join(dir, 'x'), 'three');
    await tx.commit();
    expect(snapshot(dir)).toEqual({ x: 'three' });
  });

  it('keeps an existing mode unless one is given', async () => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, 'keep'), 'k', { mode: 0o600 });
    fs.chmodSync(path.join(dir, 'keep'), 0o600);
    const tx = begin({ dir });
    tx.write('keep', 'new');
    tx.write('given', 'g', { mode: 0o640 });
    await tx.commit();
    expect(fs.statSync(path.join(dir, 'keep')).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.join(dir, 'given')).mode & 0o777).toBe(0o640);
  });

  it('an empty transaction commits without touching the root', async () => {
    const dir = tmpdir();
    const result = await begin({ dir }).commit();
    expect(result.entries).toBe(0);
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});

describe('failures surface at commit and never as unhandled rejections', () => {
  it('a data source that throws fails the commit with ESTAGE and its cause', async () => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, 'a'), 'old');
    const boom = new Error('source broke');
    const tx = begin({ dir });
    tx.write('a', 'new');
    tx.write('b', (async function* () {
      yield 'part';
      throw boom;
    })());
    const err = await tx.commit().catch((e: unknown) => e);
    expect(isTxnError(err)).toBe(true);
    expect((err as TxnError).code).toBe(codes.ESTAGE);
    expect((err as TxnError).cause).toBe(boom);
    expect(snapshot(dir)).toEqual({ a: 'old' });
    expect(leftovers(dir)).toEqual([]);
    expect(tx.state).toBe('failed');
  });

  it('an unended stream fails the commit', async () => {
    const dir = tmpdir();
    const tx = begin({ dir });
    const ws = tx.createWriteStream('s');
    ws.write('half');
    await expect(tx.commit()).rejects.toMatchObject({ code: codes.ESTAGE });
    expect(snapshot(dir)).toEqual({});
    expect(leftovers(dir)).toEqual([]);
  });

  it('an errored stream fails the commit even with no error listener of its own', async () => {
    const dir = tmpdir();
    const tx = begin({ dir });
    const ws = tx.createWriteStream('s');
    ws.destroy(new Error('producer died'));
    await expect(tx.commit()).rejects.toMatchObject({ code: codes.ESTAGE, cause: { message: 'producer died' } });
    expect(leftovers(dir)).toEqual([]);
  });

  it('a missing root is an EFS error naming the directory', async () => {
    const dir = path.join(tmpdir(), 'missing');
    const tx = begin({ dir });
    tx.write('a', 'x');
    await expect(tx.commit()).rejects.toMatchObject({ code: codes.EFS, cause: { code: 'ENOENT' } });
    expect(fs.existsSync(dir)).toBe(false);
  });
});

describe('state machine', () => {
  it('refuses any use after commit, and a second commit', async () => {
    const dir = tmpdir();
    const tx = begin({ dir });
    tx.write('a', 'x');
    await tx.commit();
    expect(() => tx.write('b', 'y')).toThrow(expect.objectContaining({ code: codes.ESTATE }));
    expect(() => tx.remove('a')).toThrow(expect.objectContaining({ code: codes.ESTATE }));
    await expect(tx.commit()).rejects.toMatchObject({ code: codes.ESTATE });
    await expect(tx.abort()).rejects.toMatchObject({ code: codes.ESTATE });
  });

  it('abort discards what was staged and is idempotent', async () => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, 'a'), 'old');
    const tx = begin({ dir });
    tx.write('a', 'new');
    tx.write('b', 'b');
    await tx.abort();
    await tx.abort();
    expect(snapshot(dir)).toEqual({ a: 'old' });
    expect(leftovers(dir)).toEqual([]);
    await expect(tx.commit()).rejects.toMatchObject({ code: codes.ESTATE });
  });

  it('await using aborts an uncommitted transaction', async () => {
    const dir = tmpdir();
    {
      await using tx = begin({ dir });
      tx.write('a', 'x');
    }
    expect(snapshot(dir)).toEqual({});
    expect(leftovers(dir)).toEqual([]);
  });

  it('transaction() commits on return and aborts on throw', async () => {
    const dir = tmpdir();
    const value = await transaction({ dir }, async (tx) => {
      tx.write('a', '1');
      return 42;
    });
    expect(value).toBe(42);
    const boom = new Error('job failed');
    await expect(transaction({ dir }, async (tx) => {
      tx.write('a', '2');
      tx.write('b', '2');
      throw boom;
    })).rejects.toBe(boom);
    expect(snapshot(dir)).toEqual({ a: '1' });
    expect(leftovers(dir)).toEqual([]);
  });

  it('an AbortSignal aborts: commit rejects with EABORTED and nothing lands', async () => {
    const dir = tmpdir();
    const ac = new AbortController();
    const tx = begin({ dir, signal: ac.signal });
    tx.write('a', 'x');
    ac.abort();
    await expect(tx.commit()).rejects.toMatchObject({ code: codes.EABORTED });
    expect(snapshot(dir)).toEqual({});
    await recover(dir);
    expect(leftovers(dir)).toEqual([]);
  });

  it('abort() after an AbortSignal started the abort waits for it: the staging dir is gone', async () => {
    const dir = tmpdir();
    const ac = new AbortController();
    const tx = begin({ dir, signal: ac.signal });
    await tx.write('a', 'x');
    ac.abort();
    await tx.abort();
    expect(tx.state).toBe('aborted');
    expect(leftovers(dir)).toEqual([]);
  });
});

describe('signals', () => {
  it('a long-lived signal does not collect a listener per transaction', async () => {
    const dir = tmpdir();
    const ac = new AbortController();
    const { EventEmitter } = await import('node:events');
    const getEventListeners = (EventEmitter as unknown as { getEventListeners: (t: EventTarget, n: string) => unknown[] }).getEventListeners;
    for (let i = 0; i < 20; i++) {
      const tx = begin({ dir, signal: ac.signal });
      tx.write('a', String(i));
      if (i % 2 === 0) await tx.commit();
      else await tx.abort();
    }
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    expect(snapshot(dir)).toEqual({ a: '18' });
  });
});

describe('staging queue', () => {
  it('a write issued right after an awaited write is staged too (no lost wake-up of the workers)', async () => {
    const dir = tmpdir();
    const tx = begin({ dir, concurrency: 1 });
    await tx.write('a', 'first');
    // Runs before the finished worker's own bookkeeping: it must still get a worker.
    const second = tx.write('b', 'second');
    await expect(Promise.race([second.then(() => 'staged'), new Promise((r) => setTimeout(() => r('stuck'), 2000))])).resolves.toBe('staged');
    await tx.commit();
    expect(snapshot(dir)).toEqual({ a: 'first', b: 'second' });
  });

  it('the promise of a write resolves once it is staged and rejects with its own failure only', async () => {
    const dir = tmpdir();
    const tx = begin({ dir, concurrency: 2 });
    const good = tx.write('good', 'g');
    const boom = new Error('source broke');
    const bad = tx.write('bad', (async function* () {
      yield 'part';
      throw boom;
    })());
    const alsoGood = tx.write('also-good', 'a');
    await expect(good).resolves.toBeUndefined();
    await expect(alsoGood).resolves.toBeUndefined();
    const err = await bad.catch((e: unknown) => e);
    expect(err).toMatchObject({ code: codes.ESTAGE, cause: boom, path: 'bad' });
    // Asked again, or for the first time after it settled: the same answer.
    await expect(bad).rejects.toBe(err);
    await expect(tx.commit()).rejects.toBe(err);
    expect(snapshot(dir)).toEqual({});
  });

  it('a write promise asked for before its write is staged settles when it is', async () => {
    const dir = tmpdir();
    const tx = begin({ dir, concurrency: 1 });
    const writes = Array.from({ length: 20 }, (_, i) => tx.write(`f${i}`, `v${i}`));
    const last = writes[19] as Promise<void>;
    let settled = false;
    const watched = last.then(() => {
      settled = true;
    });
    expect(settled).toBe(false);
    await watched;
    expect(settled).toBe(true);
    // The first is the lone file, a temp in the home until the commit moves it into files/ (lone.ts).
    expect(fs.readdirSync(path.join(dir, '.txnfs', `.txn-${tx.id}`, 'files'))).toHaveLength(19);
    expect(fs.readdirSync(path.join(dir, '.txnfs')).filter((n) => n.startsWith('.tmp-'))).toHaveLength(1);
    await tx.commit();
  });

  it('an ignored failing write is no unhandled rejection (vitest fails the run on one)', async () => {
    const dir = tmpdir();
    const tx = begin({ dir });
    void tx.write('bad', (async function* () {
      yield 'x';
      throw new Error('ignored');
    })());
    await expect(tx.commit()).rejects.toMatchObject({ code: codes.ESTAGE });
    await new Promise((r) => setTimeout(r, 20));
  });

  it('many more writes than workers are all staged, in order of their staging numbers', async () => {
    const dir = tmpdir();
    const tx = begin({ dir, concurrency: 3 });
    const writes = Array.from({ length: 50 }, (_, i) => tx.write(`f${i}`, `v${i}`));
    await Promise.all(writes);
    const result = await tx.commit();
    expect(result.written).toBe(50);
    expect(Object.keys(snapshot(dir))).toHaveLength(50);
  });
});

describe('createWriteStream', () => {
  it('writes chunks buffered behind a slow write together, in order, every byte', async () => {
    const dir = tmpdir();
    const tx = begin({ dir });
    const ws = tx.createWriteStream('big');
    const chunks = Array.from({ length: 300 }, (_, i) => Buffer.alloc(4096 + i, i % 251));
    // Written without waiting for drain: everything after the first chunk is buffered, so the
    // stream writes them with writev, many per call.
    const { faults } = await import('../../src/io/faults.js');
    let writes = 0;
    faults.hook = (e) => {
      if (e.kind === 'op' && e.op === 'write' && e.path.includes('/files/')) writes++;
    };
    try {
      for (const c of chunks) ws.write(c);
      ws.end();
      await finished(ws);
    } finally {
      faults.hook = undefined;
    }
    expect(writes).toBeLessThan(10);
    await tx.commit();
    expect(fs.readFileSync(path.join(dir, 'big')).equals(Buffer.concat(chunks))).toBe(true);
  });
});

describe('two paths to one file', () => {
  it('through a symlinked parent inside the root, the later operation wins and is one entry', async () => {
    for (const [first, second] of [['real/a', 'link/a'], ['link/a', 'real/a']] as const) {
      const dir = tmpdir();
      fs.mkdirSync(path.join(dir, 'real'));
      fs.symlinkSync('real', path.join(dir, 'link'));
      const tx = begin({ dir });
      void tx.write(first, 'first');
      void tx.write('other', 'o');
      void tx.write(second, 'second');
      const result = await tx.commit();
      expect(result.entries).toBe(2);
      expect(fs.readFileSync(path.join(dir, 'real', 'a'), 'utf8')).toBe('second');
    }
  });
});
