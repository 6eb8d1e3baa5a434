/**
 * fs.ts: the filesystem seam. The only module of txnfs that touches the filesystem.
 *
 * Every call goes through a small `FsImpl` (the real one wraps `node:fs/promises` and fs-extra) and
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
import fse from 'fs-extra';
import { faults, type OpEvent } from './faults.js';

/** What kind of directory entry a path is (never following a final symlink for `lstat`). */
export type EntryKind = 'file' | 'dir' | 'symlink' | 'other';

/** The facts txnfs needs about a path. */
export interface Info {
  readonly kind: EntryKind;
  readonly ino: bigint;
  readonly dev: bigint;
  /** Permission bits only (`mode & 0o7777`). */
  readonly mode: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly uid: number;
  readonly gid: number;
  readonly nlink: number;
}

/** An open file, for writing staged data. */
export interface Handle {
  /** Write `length` bytes of `buffer` from `offset`; returns how many were written (may be fewer). */
  write(buffer: Uint8Array, offset: number, length: number): Promise<number>;
  /** fsync(2): data and metadata of this file reach stable storage. */
  sync(): Promise<void>;
  stat(): Promise<Info>;
  chmod(mode: number): Promise<void>;
  chown(uid: number, gid: number): Promise<void>;
  close(): Promise<void>;
}

/** The operations txnfs performs. Swappable for tests; see `useFsImpl`. */
export interface FsImpl {
  lstat(path: string): Promise<Info>;
  stat(path: string): Promise<Info>;
  readdir(path: string): Promise<string[]>;
  readFile(path: string): Promise<Buffer>;
  realpath(path: string): Promise<string>;
  /** The target of a symlink, as stored in the link (may be relative, may name nothing). */
  readlink(path: string): Promise<string>;
  /** Create and open a new file for writing; fails with EEXIST if it exists (O_CREAT|O_EXCL). */
  create(path: string, mode: number): Promise<Handle>;
  mkdir(path: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  link(existing: string, newPath: string): Promise<void>;
  unlink(path: string): Promise<void>;
  rmdir(path: string): Promise<void>;
  /** rm -rf: never fails for a missing path. */
  removeTree(path: string): Promise<void>;
  removeTreeSync(path: string): void;
  /** Open a directory, fsync(2) it, close it. */
  syncDir(path: string): Promise<void>;
  /** Open an existing file, fsync(2) it, close it. */
  syncFile(path: string): Promise<void>;
  utimes(path: string, atime: Date, mtime: Date): Promise<void>;
  chmod(path: string, mode: number): Promise<void>;
  chown(path: string, uid: number, gid: number): Promise<void>;
}

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
    uid: Number(s.uid),
    gid: Number(s.gid),
    nlink: Number(s.nlink),
  };
}

class NodeHandle implements Handle {
  readonly #fh: fsp.FileHandle;
  constructor(fh: fsp.FileHandle) {
    this.#fh = fh;
  }
  async write(buffer: Uint8Array, offset: number, length: number): Promise<number> {
    const { bytesWritten } = await this.#fh.write(buffer, offset, length, null);
    return bytesWritten;
  }
  sync(): Promise<void> {
    return this.#fh.sync();
  }
  async stat(): Promise<Info> {
    return toInfo(await this.#fh.stat({ bigint: true }));
  }
  chmod(mode: number): Promise<void> {
    return this.#fh.chmod(mode);
  }
  chown(uid: number, gid: number): Promise<void> {
    return this.#fh.chown(uid, gid);
  }
  close(): Promise<void> {
    return this.#fh.close();
  }
}

/** The real filesystem. */
export const nodeImpl: FsImpl = {
  lstat: async (p) => toInfo(await fsp.lstat(p, { bigint: true })),
  stat: async (p) => toInfo(await fsp.stat(p, { bigint: true })),
  readdir: (p) => fsp.readdir(p),
  readFile: (p) => fsp.readFile(p),
  realpath: (p) => fsp.realpath(p),
  readlink: (p) => fsp.readlink(p),
  create: async (p, mode) => new NodeHandle(await fsp.open(p, 'wx', mode)),
  mkdir: async (p) => {
    await fsp.mkdir(p);
  },
  rename: (a, b) => fsp.rename(a, b),
  link: (a, b) => fsp.link(a, b),
  unlink: (p) => fsp.unlink(p),
  rmdir: (p) => fsp.rmdir(p),
  removeTree: (p) => fse.remove(p),
  removeTreeSync: (p) => fse.removeSync(p),
  syncDir: async (p) => {
    const fh = await fsp.open(p, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  },
  syncFile: async (p) => {
    const fh = await fsp.open(p, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  },
  utimes: (p, a, m) => fsp.utimes(p, a, m),
  chmod: (p, mode) => fsp.chmod(p, mode),
  chown: (p, uid, gid) => fsp.chown(p, uid, gid),
};

let impl: FsImpl = nodeImpl;

/** Swap the filesystem implementation (tests only; internal module). Returns the previous one. */
export function useFsImpl(next: FsImpl = nodeImpl): FsImpl {
  const prev = impl;
  impl = next;
  return prev;
}

function report(op: string, path: string, mutating: boolean, dest?: string): void {
  const hook = faults.hook;
  if (hook === undefined) return;
  const event: OpEvent = dest === undefined
    ? { kind: 'op', op, path, mutating }
    : { kind: 'op', op, path, dest, mutating };
  hook(event);
}

// The methods are async so that a hook that throws rejects the returned promise, as a real
// failing call does; a synchronous throw would bypass the callers' `.catch()` cleanups.
class ReportingHandle implements Handle {
  readonly #inner: Handle;
  readonly #path: string;
  constructor(inner: Handle, path: string) {
    this.#inner = inner;
    this.#path = path;
  }
  async write(buffer: Uint8Array, offset: number, length: number): Promise<number> {
    report('write', this.#path, true);
    return this.#inner.write(buffer, offset, length);
  }
  async sync(): Promise<void> {
    report('fsync', this.#path, true);
    return this.#inner.sync();
  }
  async stat(): Promise<Info> {
    report('fstat', this.#path, false);
    return this.#inner.stat();
  }
  async chmod(mode: number): Promise<void> {
    report('fchmod', this.#path, true);
    return this.#inner.chmod(mode);
  }
  async chown(uid: number, gid: number): Promise<void> {
    report('fchown', this.#path, true);
    return this.#inner.chown(uid, gid);
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
    return this.#inner.close();
  }
}

// Each wrapper reports first, then calls the implementation: a hook that throws makes the call
// fail exactly as the real call would, before it had any effect.

export async function lstat(p: string): Promise<Info> {
  report('lstat', p, false);
  return impl.lstat(p);
}
export async function stat(p: string): Promise<Info> {
  report('stat', p, false);
  return impl.stat(p);
}
export async function readdir(p: string): Promise<string[]> {
  report('readdir', p, false);
  return impl.readdir(p);
}
export async function readFile(p: string): Promise<Buffer> {
  report('readFile', p, false);
  return impl.readFile(p);
}
export async function realpath(p: string): Promise<string> {
  report('realpath', p, false);
  return impl.realpath(p);
}
export async function readlink(p: string): Promise<string> {
  report('readlink', p, false);
  return impl.readlink(p);
}
export async function create(p: string, mode: number): Promise<Handle> {
  report('create', p, true);
  return new ReportingHandle(await impl.create(p, mode), p);
}
export async function mkdir(p: string): Promise<void> {
  report('mkdir', p, true);
  return impl.mkdir(p);
}
export async function rename(from: string, to: string): Promise<void> {
  report('rename', from, true, to);
  return impl.rename(from, to);
}
export async function link(existing: string, newPath: string): Promise<void> {
  report('link', existing, true, newPath);
  return impl.link(existing, newPath);
}
export async function unlink(p: string): Promise<void> {
  report('unlink', p, true);
  return impl.unlink(p);
}
export async function rmdir(p: string): Promise<void> {
  report('rmdir', p, true);
  return impl.rmdir(p);
}
export async function removeTree(p: string): Promise<void> {
  report('removeTree', p, true);
  return impl.removeTree(p);
}
export function removeTreeSync(p: string): void {
  report('removeTree', p, true);
  impl.removeTreeSync(p);
}
export async function syncDir(p: string): Promise<void> {
  report('fsyncDir', p, true);
  return impl.syncDir(p);
}
export async function utimes(p: string, atime: Date, mtime: Date): Promise<void> {
  report('utimes', p, true);
  return impl.utimes(p, atime, mtime);
}
export async function syncFile(p: string): Promise<void> {
  report('fsync', p, true);
  return impl.syncFile(p);
}
export async function chmod(p: string, mode: number): Promise<void> {
  report('chmod', p, true);
  return impl.chmod(p, mode);
}
export async function chown(p: string, uid: number, gid: number): Promise<void> {
  report('chown', p, true);
  return impl.chown(p, uid, gid);
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

/** readlink of a procfs entry (e.g. `/proc/self/ns/pid`); undefined when unavailable. */
export function readProcLink(p: string): string | undefined {
  try {
    return nodeFs.readlinkSync(p);
  } catch {
    return undefined;
  }
}
