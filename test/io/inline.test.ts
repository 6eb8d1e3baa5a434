/**
 * inline.ts and the seam's inline calls: which calls run on the calling thread, below which roots,
 * and how many per turn of the event loop.
 */
import { execFileSync } from 'node:child_process';
import * as nodeFs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { poolRequests } from '../helpers/pool.js';
import * as fs from '../../src/io/fs.js';
import { INLINE_FREE_MAX, INLINE_PER_TURN, INLINE_READ_MAX, INLINE_WRITE_MAX, inlineUnder, inlineAllowed, mayInline, resetInline } from '../../src/io/inline.js';
import { noteRoot } from '../../src/platform/local-root.js';
import { rootMountOf } from '../../src/platform/fstype.js';

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));


let dir: string;
beforeEach(async () => {
  dir = nodeFs.realpathSync(nodeFs.mkdtempSync(path.join(os.tmpdir(), 'txnfs-inline-')));
  resetInline();
  await nextTurn();
});
afterEach(() => {
  resetInline();
  nodeFs.rmSync(dir, { recursive: true, force: true });
});

describe('mayInline', () => {
  it('is false until a root is registered, then true for the root and below it only', () => {
    expect(mayInline(path.join(dir, 'a'))).toBe(false);
    inlineUnder(dir);
    expect(mayInline(dir)).toBe(true);
    expect(mayInline(path.join(dir, '.txnfs', 'lock', 'entry'))).toBe(true);
    // A sibling whose name starts with the root's is not below it.
    expect(mayInline(`${dir}x/a`)).toBe(false);
    expect(mayInline(path.dirname(dir))).toBe(false);
    expect(inlineAllowed(path.join(dir, 'a'))).toBe(true);
  });

  it('below a root that may not (a FUSE or network mount inside a local root), the nearer root decides', () => {
    inlineUnder(dir);
    inlineUnder(path.join(dir, 'mnt'), false);
    expect(mayInline(path.join(dir, 'a'))).toBe(true);
    expect(mayInline(path.join(dir, 'mnt'))).toBe(false);
    expect(mayInline(path.join(dir, 'mnt', '.txnfs', 'lock'))).toBe(false);
  });

  it(`allows ${INLINE_PER_TURN} calls per turn of the event loop, then none until the next turn`, async () => {
    inlineUnder(dir);
    const p = path.join(dir, 'a');
    const answers = Array.from({ length: INLINE_PER_TURN + 5 }, () => mayInline(p));
    expect(answers.filter(Boolean).length).toBe(INLINE_PER_TURN);
    expect(answers.slice(INLINE_PER_TURN)).toEqual([false, false, false, false, false]);
    await nextTurn();
    expect(mayInline(p)).toBe(true);
  });
});

describe('the seam below a local root', () => {
  it('runs metadata calls inline: done when the call returns, no thread-pool request', async () => {
    inlineUnder(dir);
    const before = poolRequests();
    const made = fs.mkdir(path.join(dir, 'd'));
    // Inline: the directory exists before the promise is even awaited, and nothing is in the pool.
    expect(nodeFs.existsSync(path.join(dir, 'd'))).toBe(true);
    expect(poolRequests()).toBe(before);
    await made;
    const info = fs.lstat(path.join(dir, 'd'));
    expect(poolRequests()).toBe(before);
    expect((await info).kind).toBe('dir');
    expect(await fs.readdir(dir, true)).toEqual(['d']);
  });

  it("runs a lock's calls inline too: stat and utimes (proper-lockfile's mtime probe and refresh)", async () => {
    inlineUnder(dir);
    const p = path.join(dir, 'entry');
    nodeFs.writeFileSync(p, '');
    const at = new Date(Math.ceil(Date.now() / 1000) * 1000 + 5);
    const before = poolRequests();
    const touched = fs.utimes(p, at, at);
    // Inline: the new mtime is there before the promise is awaited, and nothing is in the pool.
    // (Rounded: libuv stores the Date as seconds in a double, e.g. .004999 for .005.)
    expect(Math.round(nodeFs.statSync(p).mtimeMs)).toBe(at.getTime());
    const info = fs.stat(p);
    expect(poolRequests()).toBe(before);
    await touched;
    expect((await info).mtimeMs).toBe(at.getTime());
    // Outside any local root both stay in the pool.
    const outside = nodeFs.mkdtempSync(path.join(os.tmpdir(), 'txnfs-inline-out-'));
    try {
      const q = path.join(outside, 'entry');
      nodeFs.writeFileSync(q, '');
      const from = poolRequests();
      const pooled = Promise.all([fs.utimes(q, at, at), fs.stat(q)]);
      expect(poolRequests()).toBeGreaterThan(from);
      await pooled;
    } finally {
      nodeFs.rmSync(outside, { recursive: true, force: true });
    }
  });

  it("runs a single-file write's mode and owner calls inline too: chmod and chown, and a handle's", async () => {
    inlineUnder(dir);
    const p = path.join(dir, 'home');
    nodeFs.mkdirSync(p, 0o700);
    const { uid, gid } = nodeFs.statSync(p);
    const before = poolRequests();
    const modes = [fs.chmod(p, 0o750), fs.chown(p, uid, gid)];
    // Inline: the mode is set before the promise is awaited, and nothing is in the pool.
    expect(nodeFs.statSync(p).mode & 0o777).toBe(0o750);
    const h = await fs.create(path.join(p, 'temp'), 0o600);
    const handleCalls = [h.chmod(0o640), h.chown(uid, gid)];
    expect(nodeFs.statSync(path.join(p, 'temp')).mode & 0o777).toBe(0o640);
    expect(poolRequests()).toBe(before);
    await Promise.all([...modes, ...handleCalls]);
    await h.close();
    // Outside any local root they stay in the pool.
    const outside = nodeFs.mkdtempSync(path.join(os.tmpdir(), 'txnfs-inline-out-'));
    try {
      const from = poolRequests();
      const pooled = Promise.all([fs.chmod(outside, 0o755), fs.chown(outside, uid, gid)]);
      expect(poolRequests()).toBeGreaterThan(from);
      await pooled;
    } finally {
      nodeFs.rmSync(outside, { recursive: true, force: true });
    }
  });

  it(`reads a regular file of up to ${INLINE_READ_MAX} bytes inline; a bigger one, a FIFO and one outside a local root in the pool`, async () => {
    inlineUnder(dir);
    const small = path.join(dir, 'state.json');
    nodeFs.writeFileSync(small, '{"n":1}');
    const before = poolRequests();
    const read = fs.readFile(small);
    expect(poolRequests()).toBe(before);
    expect((await read).toString()).toBe('{"n":1}');
    // An empty file, and one of exactly the bound.
    nodeFs.writeFileSync(small, '');
    expect((await fs.readFile(small)).length).toBe(0);
    nodeFs.writeFileSync(small, Buffer.alloc(INLINE_READ_MAX, 'a'));
    const atBound = fs.readFile(small);
    expect(poolRequests()).toBe(before);
    expect((await atBound).length).toBe(INLINE_READ_MAX);
    // One byte more: read through the pool, whole.
    const big = path.join(dir, 'big');
    nodeFs.writeFileSync(big, Buffer.alloc(INLINE_READ_MAX + 1, 'b'));
    const pooled = fs.readFile(big);
    expect(poolRequests()).toBeGreaterThan(before);
    expect((await pooled).length).toBe(INLINE_READ_MAX + 1);
    // A FIFO with no writer: an inline open would wait for one on this thread, forever.
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const fromFifo = fs.readFile(fifo);
    expect(poolRequests()).toBeGreaterThan(before);
    nodeFs.writeFileSync(fifo, 'through the pipe'); // opens the writing end: the pooled read ends
    expect((await fromFifo).toString()).toBe('through the pipe');
    // Missing: the same error either way.
    await expect(fs.readFile(path.join(dir, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' });
    const outside = nodeFs.mkdtempSync(path.join(os.tmpdir(), 'txnfs-inline-out-'));
    try {
      nodeFs.writeFileSync(path.join(outside, 'f'), 'x');
      const from = poolRequests();
      const out = fs.readFile(path.join(outside, 'f'));
      expect(poolRequests()).toBeGreaterThan(from);
      expect((await out).toString()).toBe('x');
    } finally {
      nodeFs.rmSync(outside, { recursive: true, force: true });
    }
  });

  it('keeps in the pool: a call outside any local root, an unlink or rename that may free a file of unknown size, a large write', async () => {
    inlineUnder(dir);
    const outside = nodeFs.mkdtempSync(path.join(os.tmpdir(), 'txnfs-inline-out-'));
    try {
      const before = poolRequests();
      const made = fs.mkdir(path.join(outside, 'd'));
      expect(poolRequests()).toBeGreaterThan(before);
      await made;
    } finally {
      nodeFs.rmSync(outside, { recursive: true, force: true });
    }
    nodeFs.writeFileSync(path.join(dir, 'a'), 'a');
    nodeFs.writeFileSync(path.join(dir, 'b'), 'b');
    await nextTurn();
    let before = poolRequests();
    const freeing = fs.rename(path.join(dir, 'a'), path.join(dir, 'b'));
    expect(poolRequests()).toBeGreaterThan(before);
    await freeing;
    before = poolRequests();
    const unlinked = fs.unlink(path.join(dir, 'b'));
    expect(poolRequests()).toBeGreaterThan(before);
    await unlinked;
    // A user's directory may hold a million names: listed in the pool unless the caller says small.
    before = poolRequests();
    const listed = fs.readdir(dir);
    expect(poolRequests()).toBeGreaterThan(before);
    await listed;

    const h = await fs.create(path.join(dir, 'big'), 0o644);
    const big = Buffer.alloc(INLINE_WRITE_MAX + 1, 1);
    before = poolRequests();
    const wrote = h.write(big, 0, big.length);
    expect(poolRequests()).toBeGreaterThan(before);
    await wrote;
    before = poolRequests();
    const small = h.write(big, 0, 10);
    expect(poolRequests()).toBe(before);
    expect(await small).toBe(10);
    await h.close();
    expect(nodeFs.statSync(path.join(dir, 'big')).size).toBe(INLINE_WRITE_MAX + 11);
  });

  it('a rename or unlink that frees nothing, or a small file, runs inline; one that may free more stays in the pool', async () => {
    inlineUnder(dir);
    nodeFs.writeFileSync(path.join(dir, 'a'), 'a');
    let before = poolRequests();
    const renamed = fs.rename(path.join(dir, 'a'), path.join(dir, 'b'), 0);
    expect(poolRequests()).toBe(before);
    await renamed;
    expect(nodeFs.readFileSync(path.join(dir, 'b'), 'utf8')).toBe('a');
    nodeFs.writeFileSync(path.join(dir, 'c'), 'c');
    before = poolRequests();
    const big = fs.rename(path.join(dir, 'c'), path.join(dir, 'b'), INLINE_FREE_MAX + 1);
    expect(poolRequests()).toBeGreaterThan(before);
    await big;
    before = poolRequests();
    const small = fs.unlink(path.join(dir, 'b'), 1);
    expect(poolRequests()).toBe(before);
    await small;
    expect(nodeFs.existsSync(path.join(dir, 'b'))).toBe(false);
  });

  it('while a call of its own is in the thread pool, the next ones go there too: calls side by side stay parallel', async () => {
    inlineUnder(dir);
    const h = await fs.create(path.join(dir, 'f'), 0o644);
    // A write too large to be made inline: in the pool.
    const big = Buffer.alloc(INLINE_WRITE_MAX + 1, 1);
    const writing = h.write(big, 0, big.length);
    const before = poolRequests();
    const made = fs.mkdir(path.join(dir, 'd'));
    expect(poolRequests()).toBeGreaterThan(before);
    await Promise.all([writing, made]);
    // Once nothing is in flight, inline again.
    const after = poolRequests();
    const again = fs.mkdir(path.join(dir, 'e'));
    expect(poolRequests()).toBe(after);
    await again;
    await h.close();
  });

  it("a file's fsync in the pool does not send the next calls there; a directory's fsync does", async () => {
    inlineUnder(dir);
    const h = await fs.create(path.join(dir, 'f'), 0o644);
    await h.write(Buffer.from('x'), 0, 1);
    await nextTurn();
    // A file's fsync waits for the disk: a metadata call beside it is made inline, not queued
    // behind it (a commit takes the root lock while its staged files' fsyncs run).
    const syncing = h.sync();
    const before = poolRequests();
    const made = fs.mkdir(path.join(dir, 'd'));
    expect(nodeFs.existsSync(path.join(dir, 'd'))).toBe(true);
    expect(poolRequests()).toBe(before);
    await Promise.all([syncing, made]);
    await h.close();
    // A directory's fsync: a change to that directory could wait for its journal commit, which
    // inline would stall the event loop; the next call goes to the pool.
    await nextTurn();
    const dirSyncing = fs.syncDir(dir);
    const beforeDir = poolRequests();
    const madeBeside = fs.mkdir(path.join(dir, 'e'));
    expect(poolRequests()).toBeGreaterThan(beforeDir);
    await Promise.all([dirSyncing, madeBeside]);
  });

  it('reports every inline call to the fault hook first, and an injected failure rejects without running it', async () => {
    inlineUnder(dir);
    const { faults } = await import('../../src/io/faults.js');
    const seen: string[] = [];
    faults.hook = (e) => {
      if (e.kind !== 'op') return;
      seen.push(e.op);
      if (e.op === 'mkdir') throw Object.assign(new Error('EIO: injected'), { code: 'EIO' });
    };
    try {
      await expect(fs.mkdir(path.join(dir, 'd'))).rejects.toMatchObject({ code: 'EIO' });
      expect(nodeFs.existsSync(path.join(dir, 'd'))).toBe(false);
      await fs.lstat(dir);
    } finally {
      faults.hook = undefined;
    }
    expect(seen).toEqual(['mkdir', 'lstat']);
  });

  it('an inline call that fails rejects with Node\'s own error', async () => {
    inlineUnder(dir);
    await expect(fs.lstat(path.join(dir, 'missing'))).rejects.toMatchObject({ code: 'ENOENT', syscall: 'lstat' });
    await expect(fs.mkdir(dir)).rejects.toMatchObject({ code: 'EEXIST' });
  });

  it('with another filesystem implementation swapped in, nothing runs inline', async () => {
    inlineUnder(dir);
    const calls: string[] = [];
    const prev = fs.useFsImpl({ ...fs.nodeImpl, mkdir: (p, mode) => { calls.push(p); return fs.nodeImpl.mkdir(p, mode); } });
    try {
      await fs.mkdir(path.join(dir, 'd'));
    } finally {
      fs.useFsImpl(prev);
    }
    expect(calls).toEqual([path.join(dir, 'd')]);
  });
});

describe('noteRoot', () => {
  it('registers a root on a local filesystem (this test directory\'s, by /proc/self/mountinfo)', () => {
    const locality = rootMountOf(dir)?.locality;
    expect(locality).toBeDefined();
    noteRoot(dir);
    expect(inlineAllowed(path.join(dir, 'x'))).toBe(locality === 'local');
  });
});
