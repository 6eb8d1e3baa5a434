/**
 * fs.ts: the filesystem seam. The only module of txnfs that touches the filesystem.
 *
 * Every call goes through a small `FsImpl` (the real one, node-fs.ts, wraps Node's fs and fs-extra) and
 * through the exported wrappers below, which report each operation to the fault hook first
 * (`faults.ts`). The crash harness swaps `FsImpl` for a recording filesystem that models what
 * survives a power loss, and registers hooks that fail or kill at the k-th operation. A meta-test
 * fails if any other module imports `fs`, `fs/promises` or fs-extra.
 *
 * The interface is deliberately small and errno-shaped: errors are Node's own fs errors, stats are
 * plain objects with bigint inode and device numbers (inodes above 2^53 exist on XFS and btrfs).
 */
import * as nodeFs from 'node:fs';
import * as fsp from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { faults, type OpEvent } from './faults.js';
import { mayInline, INLINE_FREE_MAX, INLINE_READ_MAX, INLINE_WRITE_MAX } from './inline.js';
import { nodeImpl, nodeInline, poolBusy } from './node-fs.js';
import { OPEN_RETRY, retryingOpen, retryingStale, useOpenRetry, type OpenRetry } from './open-retry.js';
import type { DirEntry, FsImpl, Handle, Info, InlineHandle, Watcher } from './fs-types.js';

export { nodeImpl, OPEN_RETRY, useOpenRetry, type OpenRetry };

export type { DirEntry, EntryKind, FsImpl, Handle, Info, Watcher } from './fs-types.js';

let impl: FsImpl = nodeImpl;

/** Swap the filesystem implementation (tests only; internal module). Returns the previous one. */
export function useFsImpl(next: FsImpl = nodeImpl): FsImpl {
  const prev = impl;
  impl = next;
  return prev;
}

/**
 * Whether a call on `p` runs inline (synchronously): only with the real filesystem, while none of
 * its calls are in the thread pool (node-fs.ts, `poolBusy`: calls side by side stay parallel), and
 * where inline.ts allows it (a local root, this turn's budget).
 */
function inline(p: string): boolean {
  return impl === nodeImpl && !poolBusy() && mayInline(p);
}

/** Report an operation to the hook; true when the hook's verdict is to skip it (see FaultHook). */
function report(op: string, path: string, mutating: boolean, dest?: string): boolean {
  const hook = faults.hook;
  if (hook === undefined) return false;
  const event: OpEvent = dest === undefined
    ? { kind: 'op', op, path, mutating }
    : { kind: 'op', op, path, dest, mutating };
  return hook(event) === 'skip';
}

// A hook that throws must reject the returned promise, as a real failing call does: a synchronous
// throw would bypass the callers' `.catch()` cleanups. Each wrapper catches it and returns a
// rejected promise, rather than being an async function: that would add a promise and two
// microtask turns to every filesystem call, thousands of them per commit.
class ReportingHandle implements Handle {
  readonly #inner: Handle;
  readonly #path: string;
  /** The same handle, when its small calls may run inline (the real filesystem's). */
  readonly #inline: InlineHandle | undefined;
  constructor(inner: Handle, path: string, inlineable: InlineHandle | undefined) {
    this.#inner = inner;
    this.#path = path;
    this.#inline = inlineable;
  }
  /** Report `op` on this file, then run `call`; a throw from either becomes a rejection. */
  #reported<T>(op: string, mutating: boolean, call: (inner: Handle) => Promise<T>): Promise<T> {
    try {
      if (report(op, this.#path, mutating)) return Promise.resolve(undefined as T);
      return call(this.#inner);
    } catch (err) {
      return Promise.reject(err);
    }
  }
  write(buffer: Uint8Array, offset: number, length: number): Promise<number> {
    const sync = this.#inline;
    if (sync !== undefined && length <= INLINE_WRITE_MAX && inline(this.#path)) {
      return this.#reported('write', true, () => Promise.resolve(sync.writeSync(buffer, offset, length)));
    }
    return this.#reported('write', true, (h) => h.write(buffer, offset, length));
  }
  /** One report per call, as for write: it is one system call, one fault point. */
  writev(buffers: readonly Uint8Array[]): Promise<number> {
    return this.#reported('write', true, (h) => {
      if (h.writev !== undefined) return h.writev(buffers);
      // An implementation without writev writes the first buffer: a short write, which every
      // caller already loops over.
      const first = buffers[0];
      return first === undefined ? Promise.resolve(0) : h.write(first, 0, first.length);
    });
  }
  sync(): Promise<void> {
    return this.#reported('fsync', true, (h) => h.sync());
  }
  stat(): Promise<Info> {
    const sync = this.#inline;
    if (sync !== undefined && inline(this.#path)) return this.#reported('fstat', false, () => Promise.resolve(sync.statSync()));
    return this.#reported('fstat', false, (h) => h.stat());
  }
  chmod(mode: number): Promise<void> {
    const sync = this.#inline;
    if (sync !== undefined && inline(this.#path)) return this.#reported('fchmod', true, () => Promise.resolve(sync.chmodSync(mode)));
    return this.#reported('fchmod', true, (h) => h.chmod(mode));
  }
  chown(uid: number, gid: number): Promise<void> {
    const sync = this.#inline;
    if (sync !== undefined && inline(this.#path)) return this.#reported('fchown', true, () => Promise.resolve(sync.chownSync(uid, gid)));
    return this.#reported('fchown', true, (h) => h.chown(uid, gid));
  }
  async close(): Promise<void> {
    // close(2) can report a deferred write error (NFS), so it is a fault point too. It releases the
    // descriptor even when it fails, so an injected failure closes the real handle as well.
    try {
      report('close', this.#path, true);
    } catch (err) {
      await this.#inner.close().catch(() => undefined);
      throw err;
    }
    const sync = this.#inline;
    if (sync !== undefined && inline(this.#path)) sync.closeSync();
    return this.#inner.close();
  }
}

// Each wrapper reports first, then calls the implementation: a hook that throws makes the call
// fail exactly as the real call would, before it had any effect.

/** Report, then run `call`; a throw from either becomes a rejection. */
function reported<T>(op: string, p: string, mutating: boolean, call: (fs: FsImpl) => Promise<T>, dest?: string): Promise<T> {
  try {
    if (report(op, p, mutating, dest)) return Promise.resolve(undefined as T);
    return call(impl);
  } catch (err) {
    return Promise.reject(err);
  }
}

export function lstat(p: string): Promise<Info> {
  return reported('lstat', p, false, (i) => (inline(p) ? Promise.resolve(nodeInline.lstat(p)) : i.lstat(p)));
}
/** stat(2). Inline below a local root (inline.ts): a lock's mtime, a directory's kind. */
export function stat(p: string): Promise<Info> {
  return reported('stat', p, false, (i) => (inline(p) ? Promise.resolve(nodeInline.stat(p)) : i.stat(p)));
}
/**
 * The names in the directory `p`. `small`: the caller knows it holds a few entries (txnfs's own
 * directories: a home, a lock directory), so the listing may run inline (inline.ts); a directory
 * of the user's may hold a million.
 */
export function readdir(p: string, small = false): Promise<string[]> {
  return reported('readdir', p, false, (i) => (small && inline(p) ? Promise.resolve(nodeInline.readdir(p)) : i.readdir(p)));
}
export function readFile(p: string): Promise<Buffer> {
  return retryingStale(() => retryingOpen(() => reported('readFile', p, false, (i) => {
    // A small regular file inline (inline.ts, INLINE_READ_MAX); anything else through the pool.
    const small = inline(p) ? nodeInline.readSmall(p, INLINE_READ_MAX) : undefined;
    return small === undefined ? i.readFile(p) : Promise.resolve(small);
  })));
}
/** realpath(3). Inline below a local root (inline.ts): a transaction's next begin() there. */
export function realpath(p: string): Promise<string> {
  return reported('realpath', p, false, (i) => (inline(p) ? Promise.resolve(nodeInline.realpath(p)) : i.realpath(p)));
}
export function readlink(p: string): Promise<string> {
  return reported('readlink', p, false, (i) => i.readlink(p));
}
export function create(p: string, mode: number): Promise<Handle> {
  // Exclusive create: an EMFILE made no file, so trying again cannot meet our own.
  return retryingOpen(async () => {
    report('create', p, true);
    if (inline(p)) {
      const h = nodeInline.create(p, mode);
      return new ReportingHandle(h, p, h);
    }
    const h = await impl.create(p, mode);
    return new ReportingHandle(h, p, impl === nodeImpl ? (h as InlineHandle) : undefined);
  });
}
export function mkdir(p: string, mode?: number): Promise<void> {
  return reported('mkdir', p, true, (i) => {
    if (inline(p)) return Promise.resolve(nodeInline.mkdir(p, mode));
    return mode === undefined ? i.mkdir(p) : i.mkdir(p, mode);
  });
}
/**
 * rename(2). `mayFree`: the most bytes the rename may free, by dropping the last name of the file
 * `to` names now (33 ms for a gigabyte still in the page cache, measured on ext4): 0 when nothing
 * is at `to` or the replaced file keeps another name (a commit's backup link), its size when the
 * caller knows it; unknown by default. Only a rename that frees at most `INLINE_FREE_MAX` may run
 * inline (inline.ts).
 */
export function rename(from: string, to: string, mayFree = Infinity): Promise<void> {
  return reported('rename', from, true, (i) => (mayFree <= INLINE_FREE_MAX && inline(to) ? Promise.resolve(nodeInline.rename(from, to)) : i.rename(from, to)), to);
}
export function link(existing: string, newPath: string): Promise<void> {
  return reported('link', existing, true, (i) => (inline(newPath) ? Promise.resolve(nodeInline.link(existing, newPath)) : i.link(existing, newPath)), newPath);
}
/** unlink(2). `mayFree`: the most bytes it may free, as for `rename`; inline only when small. */
export function unlink(p: string, mayFree = Infinity): Promise<void> {
  return reported('unlink', p, true, (i) => (mayFree <= INLINE_FREE_MAX && inline(p) ? Promise.resolve(nodeInline.unlink(p)) : i.unlink(p)));
}
/** See FsImpl.copyFile; reported as 'copyFile' (the source) with `to` as dest. */
export function copyFile(from: string, to: string): Promise<void> {
  return reported('copyFile', from, true, async (i) => {
    if (i.copyFile !== undefined) return i.copyFile(from, to);
    const [data, info] = await Promise.all([i.readFile(from), i.stat(from)]);
    const handle = await i.create(to, info.mode & 0o777);
    try {
      // write(2) may be short: loop until every byte is in (a truncated copy must never ship).
      for (let at = 0; at < data.length; ) {
        const n = await handle.write(data, at, data.length - at);
        if (n <= 0) throw Object.assign(new Error(`write(2) of '${to}' made no progress`), { code: 'EIO' });
        at += n;
      }
    } finally {
      await handle.close();
    }
  }, to);
}
export function rmdir(p: string): Promise<void> {
  return reported('rmdir', p, true, (i) => (inline(p) ? Promise.resolve(nodeInline.rmdir(p)) : i.rmdir(p)));
}
export function removeTree(p: string): Promise<void> {
  return reported('removeTree', p, true, (i) => i.removeTree(p));
}
export function removeTreeSync(p: string): void {
  report('removeTree', p, true);
  impl.removeTreeSync(p);
}
export function symlink(target: string, p: string): Promise<void> {
  return reported('symlink', p, true, (i) => {
    if (i.symlink === undefined) {
      const err = new Error(`ENOSYS: this filesystem implementation has no symlink, symlink '${p}'`) as NodeJS.ErrnoException;
      err.code = 'ENOSYS';
      return Promise.reject(err);
    }
    return i.symlink(target, p);
  });
}
/** Whether the implementation links and unlinks synchronously (see `FsImpl.linkSync`). */
export function hasLinkSync(): boolean {
  return impl.linkSync !== undefined && impl.unlinkSync !== undefined;
}
/** unlink(2), synchronously; reported like `unlink`. Only when `hasLinkSync()`. */
export function unlinkSync(p: string): void {
  report('unlink', p, true);
  (impl.unlinkSync as NonNullable<FsImpl['unlinkSync']>)(p);
}
/** link(2), synchronously; reported like `link`. Only when `hasLinkSync()`. */
export function linkSync(existing: string, newPath: string): void {
  report('link', existing, true, newPath);
  (impl.linkSync as NonNullable<FsImpl['linkSync']>)(existing, newPath);
}
/** rmdir(2), synchronously; reported like `rmdir`. Throws ENOSYS where the implementation has none. */
export function rmdirSync(p: string): void {
  report('rmdir', p, true);
  if (impl.rmdirSync === undefined) throw Object.assign(new Error(`ENOSYS: no rmdirSync, rmdir '${p}'`), { code: 'ENOSYS' });
  impl.rmdirSync(p);
}
/**
 * Watch the directory `p`; undefined where the implementation cannot, or the watch cannot be set
 * up (the directory is gone, inotify limits reached): the caller then relies on its timer.
 */
export function watch(p: string, listener: (name?: string) => void): Watcher | undefined {
  if (impl.watch === undefined) return undefined;
  try {
    report('watch', p, false);
    return impl.watch(p, listener);
  } catch {
    return undefined;
  }
}
export function readdirKinds(p: string): Promise<DirEntry[]> {
  return reported('readdir', p, false, async (i) => {
    if (i.readdirKinds !== undefined) return i.readdirKinds(p);
    const names = await i.readdir(p);
    return Promise.all(names.map(async (name) => ({ name, kind: (await i.lstat(`${p}/${name}`)).kind })));
  });
}
export function syncDir(p: string): Promise<void> {
  return retryingOpen(() => reported('fsyncDir', p, true, (i) => (inline(p) ? nodeInline.syncDir(p) : i.syncDir(p))));
}
/**
 * utimes(2). Inline below a local root (inline.ts): an inode's times only. The first lock under a
 * home makes proper-lockfile probe the mtime precision (a utimes, then a stat) before the lock is
 * taken: its utimes waited 0.10 ms through the thread pool, 0.02 ms inline (medians).
 */
export function utimes(p: string, atime: Date, mtime: Date): Promise<void> {
  return reported('utimes', p, true, (i) => (inline(p) ? Promise.resolve(nodeInline.utimes(p, atime, mtime)) : i.utimes(p, atime, mtime)));
}
export function syncFile(p: string): Promise<void> {
  return retryingOpen(() => reported('fsync', p, true, (i) => i.syncFile(p)));
}
export function chmod(p: string, mode: number): Promise<void> {
  return reported('chmod', p, true, (i) => (inline(p) ? Promise.resolve(nodeInline.chmod(p, mode)) : i.chmod(p, mode)));
}
export function chown(p: string, uid: number, gid: number): Promise<void> {
  return reported('chown', p, true, (i) => (inline(p) ? Promise.resolve(nodeInline.chown(p, uid, gid)) : i.chown(p, uid, gid)));
}

/**
 * A read stream of a file (snapshots hand these to readers). Not part of the swappable
 * implementation: a stream reads lazily, long after the call, where no fault loop looks; the open
 * is reported to the hook like any other call.
 */
export function createReadStream(p: string): Readable {
  report('createReadStream', p, false);
  return nodeFs.createReadStream(p);
}

/**
 * Read a file of the operating system's process table (`/proc/...`). Not part of the swappable
 * implementation: a model filesystem has no processes, and liveness must be judged on the real host.
 * Returns undefined when the file does not exist (no such process, or no procfs on this platform).
 */
export function readProcFile(p: string): string | undefined {
  try {
    return nodeFs.readFileSync(p, 'utf8');
  } catch {
    return undefined;
  }
}

/** The effective uid of this process; undefined where there is none (Windows). */
export function effectiveUid(): number | undefined {
  return process.geteuid?.();
}

/** readlink of a procfs entry (e.g. `/proc/self/ns/pid`); undefined when unavailable. */
export function readProcLink(p: string): string | undefined {
  try {
    return nodeFs.readlinkSync(p);
  } catch {
    return undefined;
  }
}

/** What statfs(2) says about the filesystem holding a path (numbers as Node reports them). */
export interface FsStats {
  /** The filesystem's magic number (f_type), e.g. 0xef53 for ext4, 0x65735546 for FUSE. */
  readonly type: number;
  readonly blockSize: number;
  readonly blocks: number;
  readonly blocksAvailable: number;
  /** Total inodes; 0 on filesystems that have no fixed inode table (btrfs, FAT through FUSE). */
  readonly files: number;
  readonly filesFree: number;
}

/**
 * statfs(2) of the filesystem holding `p` (for `txnfs doctor`). Reported like every other call, but
 * not part of the swappable implementation: the model filesystems of the crash tests have no
 * capacity, and only the doctor asks.
 */
export async function statfs(p: string): Promise<FsStats> {
  report('statfs', p, false);
  const s = await fsp.statfs(p);
  return { type: s.type, blockSize: s.bsize, blocks: s.blocks, blocksAvailable: s.bavail, files: s.files, filesFree: s.ffree };
}
