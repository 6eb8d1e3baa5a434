/**
 * node-fs.ts: the real filesystem behind the seam (fs.ts): `nodeImpl`, the `FsImpl` made of
 * Node's own calls. Only fs.ts imports it (test/io/seam.test.ts); everything else calls fs.ts's
 * wrappers, which report each operation to the fault hook first and may have it swapped for a
 * model (the crash harness).
 */
import * as nodeFs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { EntryKind, FsImpl, Info, InlineFs, InlineHandle } from './fs-types.js';

function toInfo(s: nodeFs.BigIntStats): Info {
  const kind: EntryKind = s.isFile() ? 'file' : s.isDirectory() ? 'dir' : s.isSymbolicLink() ? 'symlink' : 'other';
  return {
    kind,
    ino: s.ino,
    dev: s.dev,
    mode: Number(s.mode & 0o7777n),
    size: Number(s.size),
    // Rounded, not truncated, exactly as Node's own Stats#mtime: proper-lockfile compares the
    // mtime it set with utimes() against this one on every refresh, and libuv stores a utimes()
    // Date as e.g. .122999 s, so truncating turned about half of all refreshes into a false
    // "lock compromised" (and then a live transaction's lock went stale).
    mtimeMs: Number((s.mtimeNs + 500_000n) / 1_000_000n),
    mtimeNs: s.mtimeNs,
    uid: Number(s.uid),
    gid: Number(s.gid),
    nlink: Number(s.nlink),
  };
}

/**
 * fs-extra, loaded on first use: only the removal of a whole tree needs it (an abort, a staging
 * dir left by a crash, a scratch dir), never a commit that succeeds. Loading it at import cost
 * about 10 ms of every process's start on this machine (medians of 6 alternating runs: 117 against
 * 127 ms for the whole import of txnfs), and a CLI that rewrites one config file pays its start
 * every time. It loads graceful-fs (which patches Node's fs.close for the process) when it loads;
 * proper-lockfile no longer does (lock/acquire.ts).
 */
type FsExtra = typeof import('fs-extra');
let fsExtra: FsExtra | undefined;
function fse(): FsExtra {
  fsExtra ??= createRequire(import.meta.url)('fs-extra') as FsExtra;
  return fsExtra;
}

/** Requests of `call` in the thread pool now, files' fsyncs aside (see `poolBusy`). */
let inPool = 0;

/**
 * Whether requests of this process's txnfs calls are in the thread pool now. The seam makes a
 * call inline only when none are (inline.ts): a call in a chain of calls one after another waits
 * for nothing but its round trip, while calls issued side by side (the files of a large
 * transaction) run in parallel on the pool's threads, and made inline they would run one at a
 * time on this one. Counts the calls made through `call` (every per-file call), but not a
 * file's fsync: it waits for the disk, not for a CPU, so nothing issued beside it is made slower
 * by running inline, while in the pool it would queue behind it (four threads, each fsync a
 * millisecond or more). A commit takes the root lock and plans while its staged files' fsyncs
 * still run (transaction/seal.ts); with those counted, the lock's calls waited for them. A
 * directory's fsync is counted: on ext4 a change to a directory waits until a running fsync of
 * it is committed, and made inline that wait would stall the event loop (the root lock's release
 * in the home, beside a one-file commit's fsync of the home: 1.4x slower, measured).
 */
export function poolBusy(): boolean {
  return inPool > 0;
}

/**
 * A callback-style fs call as a promise: one request and one promise, nothing else. `waits`: a
 * file's fsync, not counted by `poolBusy`.
 */
function call<T>(start: (done: (err: NodeJS.ErrnoException | null, value: T) => void) => void, waits = false): Promise<T> {
  const counted = waits ? 0 : 1;
  return new Promise<T>((resolve, reject) => {
    inPool += counted;
    try {
      start((err, value) => {
        inPool -= counted;
        if (err === null) resolve(value);
        else reject(err);
      });
    } catch (err) {
      // Thrown before a request was made (a bad argument, a closed handle): none is in the pool.
      inPool -= counted;
      throw err;
    }
  });
}

/**
 * A file descriptor driven through the callback API. Staging writes every file through one of
 * these; fs/promises' FileHandle allocates about twice as much per operation (measured: 12.5 vs
 * 7.2 KB per file for open, write, fstat, close), and in a 10,000-file transaction that garbage
 * is what makes V8 grow its young generation. Closing is idempotent, and every call after close
 * fails with EBADF instead of reaching a descriptor number the kernel may have handed out again.
 */
class NodeHandle implements InlineHandle {
  readonly #fd: number;
  #closed: Promise<void> | undefined;
  constructor(fd: number) {
    this.#fd = fd;
  }
  #fdOrThrow(op: string): number {
    if (this.#closed === undefined) return this.#fd;
    const err = new Error(`EBADF: file already closed, ${op}`) as NodeJS.ErrnoException;
    err.code = 'EBADF';
    err.syscall = op;
    throw err;
  }
  write(buffer: Uint8Array, offset: number, length: number): Promise<number> {
    return call((done) => nodeFs.write(this.#fdOrThrow('write'), buffer, offset, length, null, done));
  }
  writev(buffers: readonly Uint8Array[]): Promise<number> {
    return call((done) => nodeFs.writev(this.#fdOrThrow('writev'), buffers, null, done));
  }
  sync(): Promise<void> {
    return call<void>((done) => nodeFs.fsync(this.#fdOrThrow('fsync'), done), true);
  }
  stat(): Promise<Info> {
    return call<nodeFs.BigIntStats>((done) => nodeFs.fstat(this.#fdOrThrow('fstat'), { bigint: true }, done)).then(toInfo);
  }
  chmod(mode: number): Promise<void> {
    return call<void>((done) => nodeFs.fchmod(this.#fdOrThrow('fchmod'), mode, done));
  }
  chown(uid: number, gid: number): Promise<void> {
    return call<void>((done) => nodeFs.fchown(this.#fdOrThrow('fchown'), uid, gid, done));
  }
  close(): Promise<void> {
    this.#closed ??= call<void>((done) => nodeFs.close(this.#fd, done));
    return this.#closed;
  }
  writeSync(buffer: Uint8Array, offset: number, length: number): number {
    return nodeFs.writeSync(this.#fdOrThrow('write'), buffer, offset, length, null);
  }
  statSync(): Info {
    return toInfo(nodeFs.fstatSync(this.#fdOrThrow('fstat'), { bigint: true }));
  }
  chmodSync(mode: number): void {
    nodeFs.fchmodSync(this.#fdOrThrow('fchmod'), mode);
  }
  chownSync(uid: number, gid: number): void {
    nodeFs.fchownSync(this.#fdOrThrow('fchown'), uid, gid);
  }
  closeSync(): void {
    if (this.#closed !== undefined) return;
    try {
      nodeFs.closeSync(this.#fd);
      this.#closed = Promise.resolve();
    } catch (err) {
      // close(2) releases the descriptor even when it fails (Linux): never close the number again.
      this.#closed = Promise.reject(err as Error);
      this.#closed.catch(() => undefined);
      throw err;
    }
  }
}

/** Open `p` read-only, fsync(2) it, close it (closed whatever the fsync did). */
async function openSyncClose(p: string): Promise<void> {
  const fd = await call<number>((done) => nodeFs.open(p, 'r', done));
  try {
    await call<void>((done) => nodeFs.fsync(fd, done), true);
  } finally {
    await call<void>((done) => nodeFs.close(fd, done));
  }
}

/**
 * fsync(2) the directory `p`: open it read-only, fsync, and close it without waiting for the
 * close. A directory opened read-only has nothing a close could still write or report (the
 * fsync's result is the answer), so the caller goes on one thread-pool round trip earlier: a
 * durable one-file commit fsyncs about seven directories, most of them one after another
 * (docs/protocol.md, "The cost of a small commit"). A file keeps its awaited close
 * (`openSyncClose`): on NFS a close can report a deferred write error. `openInline`: the open is
 * made synchronously (inline.ts), and only the fsync goes through the thread pool.
 */
async function syncDirectory(p: string, openInline = false): Promise<void> {
  const fd = openInline ? nodeFs.openSync(p, 'r') : await call<number>((done) => nodeFs.open(p, 'r', done));
  try {
    await call<void>((done) => nodeFs.fsync(fd, done));
  } finally {
    // EBADF cannot happen (the fd is ours, closed once); anything else is ignored on purpose.
    nodeFs.close(fd, noopCallback);
  }
}

function noopCallback(): void {
  // The close of a read-only directory descriptor: see syncDirectory.
}

/**
 * The calls of the real filesystem that the seam may make inline (inline.ts): the metadata calls
 * of a commit and the small calls on a staged file. Node's synchronous calls, as they are.
 */
export const nodeInline: InlineFs = {
  lstat: (p) => toInfo(nodeFs.lstatSync(p, { bigint: true })),
  stat: (p) => toInfo(nodeFs.statSync(p, { bigint: true })),
  // realpath(3), as fs/promises' realpath is (not the JavaScript walk of fs.realpathSync).
  realpath: (p) => nodeFs.realpathSync.native(p),
  readdir: (p) => nodeFs.readdirSync(p),
  mkdir: (p, mode) => {
    nodeFs.mkdirSync(p, mode === undefined ? undefined : { mode });
  },
  rename: (a, b) => nodeFs.renameSync(a, b),
  link: (a, b) => nodeFs.linkSync(a, b),
  unlink: (p) => nodeFs.unlinkSync(p),
  rmdir: (p) => nodeFs.rmdirSync(p),
  utimes: (p, a, m) => nodeFs.utimesSync(p, a, m),
  chmod: (p, mode) => nodeFs.chmodSync(p, mode),
  chown: (p, uid, gid) => nodeFs.chownSync(p, uid, gid),
  readSmall: (p, max) => {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer, here on the
    // calling thread. A regular file ignores it.
    const fd = nodeFs.openSync(p, nodeFs.constants.O_RDONLY | nodeFs.constants.O_NONBLOCK);
    try {
      const st = nodeFs.fstatSync(fd);
      if (!st.isFile() || st.size > max) return undefined;
      // One byte more than its size: a file that grew since is read the other way, whole.
      const buf = Buffer.allocUnsafe(st.size + 1);
      const n = nodeFs.readSync(fd, buf, 0, buf.length, 0);
      return n > st.size ? undefined : buf.subarray(0, n);
    } finally {
      nodeFs.closeSync(fd);
    }
  },
  create: (p, mode) => new NodeHandle(nodeFs.openSync(p, 'wx', mode)),
  syncDir: (p) => syncDirectory(p, true),
};

/**
 * The real filesystem. The calls a commit makes once per entry (create, rename, link, unlink,
 * lstat) go through the callback API: one request and one promise each, about half of what
 * fs/promises allocates, in a loop of 10,000 or 100,000.
 */
export const nodeImpl: FsImpl = {
  lstat: (p) => call<nodeFs.BigIntStats>((done) => nodeFs.lstat(p, { bigint: true }, done)).then(toInfo),
  stat: async (p) => toInfo(await fsp.stat(p, { bigint: true })),
  readdir: (p) => fsp.readdir(p),
  readFile: (p) => fsp.readFile(p),
  realpath: (p) => fsp.realpath(p),
  readlink: (p) => fsp.readlink(p),
  create: async (p, mode) => new NodeHandle(await call<number>((done) => nodeFs.open(p, 'wx', mode, done))),
  mkdir: async (p, mode) => {
    await fsp.mkdir(p, mode === undefined ? undefined : { mode });
  },
  rename: (a, b) => call<void>((done) => nodeFs.rename(a, b, done)),
  copyFile: (a, b) => fsp.copyFile(a, b, nodeFs.constants.COPYFILE_EXCL | nodeFs.constants.COPYFILE_FICLONE),
  link: (a, b) => call<void>((done) => nodeFs.link(a, b, done)),
  unlink: (p) => call<void>((done) => nodeFs.unlink(p, done)),
  rmdir: (p) => fsp.rmdir(p),
  removeTree: (p) => fse().remove(p),
  removeTreeSync: (p) => fse().removeSync(p),
  syncDir: (p) => syncDirectory(p),
  syncFile: (p) => openSyncClose(p),
  utimes: (p, a, m) => fsp.utimes(p, a, m),
  chmod: (p, mode) => fsp.chmod(p, mode),
  chown: (p, uid, gid) => fsp.chown(p, uid, gid),
  symlink: (target, p) => call<void>((done) => nodeFs.symlink(target, p, done)),
  linkSync: (a, b) => nodeFs.linkSync(a, b),
  unlinkSync: (p) => nodeFs.unlinkSync(p),
  rmdirSync: (p) => nodeFs.rmdirSync(p),
  watch: (p, listener) => {
    // Not persistent: a waiting lock never keeps the process alive by itself (its timer decides).
    const w = nodeFs.watch(p, { persistent: false }, (_event, name) => listener(typeof name === 'string' ? name : undefined));
    // The directory may vanish under the watch (a released lock is removed): that ends the watch
    // with an error event, which must not become an uncaught exception. It is also a change.
    w.on('error', () => {
      w.close();
      listener();
    });
    return w;
  },
  readdirKinds: async (p) =>
    (await call<nodeFs.Dirent[]>((done) => nodeFs.readdir(p, { withFileTypes: true }, done))).map((d) => ({
      name: d.name,
      kind: d.isFile() ? 'file' : d.isDirectory() ? 'dir' : d.isSymbolicLink() ? 'symlink' : 'other',
    })),
};

