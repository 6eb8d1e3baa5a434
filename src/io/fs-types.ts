/**
 * fs-types.ts: the shapes of the filesystem seam (fs.ts): what txnfs asks of a filesystem
 * (`FsImpl`, which the real implementation node-fs.ts and the crash harness's recording
 * filesystem both provide) and what it gets back. Types only: importing this module touches
 * nothing.
 */
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
  /**
   * The mtime in nanoseconds, unrounded: part of the identity a roll-forward checks (apply.ts).
   * A filesystem with coarser timestamps gives a multiple of its granularity.
   */
  readonly mtimeNs: bigint;
  readonly uid: number;
  readonly gid: number;
  readonly nlink: number;
}

/** An open file, for writing staged data. */
export interface Handle {
  /** Write `length` bytes of `buffer` from `offset`; returns how many were written (may be fewer). */
  write(buffer: Uint8Array, offset: number, length: number): Promise<number>;
  /**
   * writev(2): write `buffers` one after another in one call; returns how many bytes were written
   * (may be fewer than their total). Optional: without it, the seam writes them one at a time.
   */
  writev?(buffers: readonly Uint8Array[]): Promise<number>;
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
  /** mkdir(2); `mode` (default 0o777) is reduced by the umask, as mkdir(2) does. */
  mkdir(path: string, mode?: number): Promise<void>;
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
  /**
   * symlink(2): create a symlink at `path` holding `target`. Optional because only the generations
   * layout needs it (its pointer) and the model filesystems of the crash harness predate it; the
   * seam fails with ENOSYS when it is absent.
   */
  symlink?(target: string, path: string): Promise<void>;
  /**
   * Copy the file `from` to the new file `to` (EEXIST if it exists): a copy-on-write clone where
   * the filesystem makes one (COPYFILE_FICLONE: btrfs, XFS, bcachefs, ...), else a byte copy; the
   * permission bits come along. Optional: without it the seam reads `from` and writes `to`.
   */
  copyFile?(from: string, to: string): Promise<void>;
  /**
   * The entries of a directory with their kinds, from one readdir (d_type): a generation's build
   * walks a 100,000-file tree and must not lstat every file. Optional: without it the seam does
   * readdir plus one lstat per entry.
   */
  readdirKinds?(path: string): Promise<DirEntry[]>;
  /**
   * link(2), synchronously. A generation's build makes one hard link per unchanged file, 100,000
   * in a row; through the thread pool each costs a request, a promise and a thread hop (0.023 ms
   * measured), called directly 0.011 ms. Optional: without it the build links asynchronously.
   */
  linkSync?(existing: string, newPath: string): void;
  /** unlink(2), synchronously: the collection of an old generation, one per file (see `linkSync`). */
  unlinkSync?(path: string): void;
  /** rmdir(2), synchronously: only at process exit, for the lock entries the process holds. */
  rmdirSync?(path: string): void;
  /**
   * Watch a directory for changes (inotify on Linux). Optional: a lock waiter without it polls.
   * The listener may be called for any change, or spuriously; it is never called after `close()`.
   * It is given the name of the entry that changed when the platform reports one.
   */
  watch?(path: string, listener: (name?: string) => void): Watcher;
}

/** A directory watch (see `FsImpl.watch`). */
export interface Watcher {
  close(): void;
}

/** One entry of a directory listing, with its kind (see `readdirKinds`). */
export interface DirEntry {
  readonly name: string;
  readonly kind: EntryKind;
}

/**
 * The calls the real filesystem can make inline, synchronously (inline.ts says when the seam
 * does). Not part of `FsImpl`: an implementation a test swaps in has only asynchronous calls.
 */
export interface InlineFs {
  lstat(path: string): Info;
  stat(path: string): Info;
  realpath(path: string): string;
  readdir(path: string): string[];
  mkdir(path: string, mode?: number): void;
  rename(from: string, to: string): void;
  link(existing: string, newPath: string): void;
  unlink(path: string): void;
  rmdir(path: string): void;
  utimes(path: string, atime: Date, mtime: Date): void;
  chmod(path: string, mode: number): void;
  chown(path: string, uid: number, gid: number): void;
  /**
   * The whole of a regular file of at most `max` bytes, read with one `read`; undefined when it is
   * bigger, grew past its `fstat` size, or is not a regular file (the caller reads it another way).
   * Never blocks on a FIFO: opened with O_NONBLOCK.
   */
  readSmall(path: string, max: number): Buffer | undefined;
  create(path: string, mode: number): InlineHandle;
  /** Open the directory inline, then fsync(2) it through the thread pool, and close it. */
  syncDir(path: string): Promise<void>;
}

/** An open file whose small calls can run inline (see `InlineFs`). */
export interface InlineHandle extends Handle {
  writeSync(buffer: Uint8Array, offset: number, length: number): number;
  statSync(): Info;
  chmodSync(mode: number): void;
  chownSync(uid: number, gid: number): void;
  /** Close now; idempotent like `close()`, which then reports this close's result. */
  closeSync(): void;
}
