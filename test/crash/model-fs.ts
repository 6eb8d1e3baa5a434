/**
 * model-fs.ts: an in-memory POSIX-like filesystem that implements txnfs's `FsImpl` seam and records
 * every change it makes, so that `crash-states.ts` can compute what a power loss may leave behind
 * after any prefix of the run.
 *
 * What it models:
 *  - inodes (files, directories, symlinks) with inode numbers, mode, uid, gid, mtime and nlink
 *    (a file's mtimeNs is a hash of its content, which a crash image keeps: see info());
 *    hard links; symlinks followed in every component but the last where POSIX says so;
 *  - the errno behaviour txnfs relies on (EEXIST for O_EXCL create and mkdir, ENOENT, ENOTDIR,
 *    EISDIR, ENOTEMPTY, EPERM for link(2) of a directory, EINVAL for a directory renamed into
 *    itself, rename(2) of two links to one inode is a no-op), and unlinked-but-open files;
 *  - the durability facts: each change is appended to `log` as a record (`Rec`). A record names
 *    the inode(s) it touches by a private node id, never reused, so a record always means one
 *    inode even when an inode number is reused after a crash.
 *
 * The log is the only thing crash-states.ts reads: a `Rec` of kind 'entry' is one atomic change to
 * directory entries (a rename is one record changing two names), 'data' is the new content of a
 * file, 'attr' a chmod/chown, 'fsync' and 'fsyncdir' are the durability barriers, 'node' announces
 * a new inode, 'step' marks a named protocol step (from the faults hook; no state change).
 *
 * Costs: path lookup is O(components); a write copies the file's content once (content buffers are
 * never mutated in place, so snapshots and log records can share them).
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import type { FsImpl, Handle, Info } from '../../src/io/fs.js';

export type NodeKind = 'file' | 'dir' | 'symlink';

interface Attrs {
  mode: number;
  uid: number;
  gid: number;
}

/** One inode, as stored in a snapshot and in a live model. */
export interface NodeImage extends Attrs {
  readonly id: number;
  readonly kind: NodeKind;
  readonly ino: number;
  mtimeMs: number;
  /** Files: the content (never mutated in place). */
  data: Buffer;
  /** Directories: name → node id. */
  entries: Map<string, number>;
  /** Symlinks: the target. */
  target: string;
}

/** A whole filesystem image: what is on the disk (a durable state) or what a live model holds. */
export interface Snapshot {
  readonly nodes: ReadonlyMap<number, NodeImage>;
  /** Node id of '/'. */
  readonly root: number;
}

/** One entry change: in directory `dir`, `name` now points at node `to` (null: removed). */
export interface EntryChange {
  readonly dir: number;
  readonly name: string;
  readonly to: number | null;
}

export type Rec =
  | { readonly t: 'node'; readonly id: number; readonly kind: NodeKind; readonly ino: number; readonly attrs: Attrs; readonly target: string; readonly what: string }
  | { readonly t: 'entry'; readonly changes: readonly EntryChange[]; readonly what: string }
  | { readonly t: 'data'; readonly id: number; readonly data: Buffer; readonly what: string }
  | { readonly t: 'attr'; readonly id: number; readonly attrs: Attrs; readonly what: string }
  | { readonly t: 'fsync'; readonly id: number; readonly what: string }
  | { readonly t: 'fsyncdir'; readonly id: number; readonly what: string }
  | { readonly t: 'step'; readonly name: string; readonly what: string };

/** The device number every model inode reports. */
export const MODEL_DEV = 77n;
const UMASK = 0o022;

/** A stand-in mtime for a file of the model: 63 bits of a hash of its bytes (see info()). */
function contentStamp(data: Buffer): bigint {
  return createHash('sha1').update(data).digest().readBigInt64BE(0);
}

function errno(code: string, syscall: string, p: string, dest?: string): NodeJS.ErrnoException {
  const numbers: Record<string, number> = {
    ENOENT: -2, EIO: -5, EBADF: -9, EEXIST: -17, ENOTDIR: -20, EISDIR: -21, EINVAL: -22, ENOTEMPTY: -39, ELOOP: -40, EPERM: -1, EBUSY: -16,
  };
  const where = dest === undefined ? `'${p}'` : `'${p}' -> '${dest}'`;
  // No stack trace: the library only reads `code`, and ENOENT is thrown thousands of times per run.
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  const err = new Error(`${code}: model filesystem, ${syscall} ${where}`) as NodeJS.ErrnoException;
  Error.stackTraceLimit = limit;
  err.code = code;
  err.errno = numbers[code] ?? -1;
  err.syscall = syscall;
  err.path = p;
  if (dest !== undefined) (err as { dest?: string }).dest = dest;
  return err;
}

/** Copy a node (entries map copied; buffers shared, they are immutable). */
export function cloneNode(n: NodeImage): NodeImage {
  return { ...n, entries: new Map(n.entries) };
}

/** A snapshot builder for tests: directories and files by absolute path. */
/** The node at the absolute model path `p` in `s`, following no symlink; undefined when absent. */
export function nodeAt(s: Snapshot, p: string): NodeImage | undefined {
  let cur = s.nodes.get(s.root);
  for (const part of p.split('/').filter((x) => x !== '')) {
    const id = cur?.entries.get(part);
    cur = id === undefined ? undefined : s.nodes.get(id);
  }
  return cur;
}

export class SnapshotBuilder {
  readonly #nodes = new Map<number, NodeImage>();
  #nextId = 1;
  #nextIno = 2;
  readonly root: number;

  constructor() {
    this.root = this.#make('dir', 0o755);
  }

  #make(kind: NodeKind, mode: number, data: Buffer = Buffer.alloc(0), target = '', uid = 0, gid = 0): number {
    const id = this.#nextId++;
    this.#nodes.set(id, { id, kind, ino: this.#nextIno++, mode, uid, gid, mtimeMs: Date.now(), data, entries: new Map(), target });
    return id;
  }

  #dirOf(p: string): NodeImage {
    let cur = this.#nodes.get(this.root) as NodeImage;
    for (const part of p.split('/').filter((s) => s !== '')) {
      let id = cur.entries.get(part);
      if (id === undefined) {
        id = this.#make('dir', 0o755);
        cur.entries.set(part, id);
      }
      cur = this.#nodes.get(id) as NodeImage;
      if (cur.kind !== 'dir') throw new Error(`${p}: ${part} is not a directory`);
    }
    return cur;
  }

  dir(p: string): this {
    this.#dirOf(p);
    return this;
  }

  file(p: string, data: Buffer | string, options: { mode?: number; uid?: number; gid?: number } = {}): this {
    const parent = this.#dirOf(path.posix.dirname(p));
    const id = this.#make('file', options.mode ?? 0o644, Buffer.from(data), '', options.uid ?? 0, options.gid ?? 0);
    parent.entries.set(path.posix.basename(p), id);
    return this;
  }

  symlink(p: string, target: string): this {
    const parent = this.#dirOf(path.posix.dirname(p));
    parent.entries.set(path.posix.basename(p), this.#make('symlink', 0o777, Buffer.alloc(0), target));
    return this;
  }

  build(): Snapshot {
    return { nodes: new Map([...this.#nodes].map(([id, n]) => [id, cloneNode(n)])), root: this.root };
  }
}

interface Resolved {
  /** The parent directory (undefined only for '/'). */
  readonly parent: NodeImage | undefined;
  readonly name: string;
  readonly node: NodeImage | undefined;
  /** The canonical path (symlinks in the parent chain resolved). */
  readonly path: string;
}

class ModelHandle implements Handle {
  readonly #fs: ModelFs;
  readonly #node: NodeImage;
  readonly #path: string;
  #pos = 0;
  #closed = false;

  constructor(fs: ModelFs, node: NodeImage, p: string) {
    this.#fs = fs;
    this.#node = node;
    this.#path = p;
  }

  #check(syscall: string): void {
    if (this.#closed) throw errno('EBADF', syscall, this.#path);
  }

  async write(buffer: Uint8Array, offset: number, length: number): Promise<number> {
    this.#check('write');
    const chunk = Buffer.from(buffer.buffer, buffer.byteOffset + offset, length);
    const old = this.#node.data;
    const end = this.#pos + length;
    const next = Buffer.alloc(Math.max(old.length, end));
    old.copy(next);
    chunk.copy(next, this.#pos);
    this.#pos = end;
    this.#fs.setData(this.#node, next, `write ${this.#path} (${length} B)`);
    return length;
  }

  async sync(): Promise<void> {
    this.#check('fsync');
    this.#fs.record({ t: 'fsync', id: this.#node.id, what: `fsync ${this.#path}` });
  }

  async stat(): Promise<Info> {
    this.#check('fstat');
    return this.#fs.info(this.#node);
  }

  async chmod(mode: number): Promise<void> {
    this.#check('fchmod');
    this.#fs.setAttrs(this.#node, { mode: mode & 0o7777, uid: this.#node.uid, gid: this.#node.gid }, `fchmod ${this.#path}`);
  }

  async chown(uid: number, gid: number): Promise<void> {
    this.#check('fchown');
    this.#fs.setAttrs(this.#node, { mode: this.#node.mode, uid, gid }, `fchown ${this.#path}`);
  }

  async close(): Promise<void> {
    this.#check('close');
    this.#closed = true;
    this.#fs.closed(this.#node);
  }
}

/**
 * The model filesystem. Construct it from a snapshot (the disk as it is at boot); every later
 * change is appended to `log`.
 */
export class ModelFs implements FsImpl {
  readonly nodes = new Map<number, NodeImage>();
  readonly root: number;
  readonly log: Rec[] = [];
  readonly #links = new Map<number, number>();
  readonly #open = new Map<number, number>();
  readonly #usedInos = new Set<number>();
  #nextId: number;
  /** Counts calls by operation name (reads included), for the harness's statistics. */
  readonly calls = new Map<string, number>();
  /**
   * Node ids of files whose content or size the caller was shown (readFile, stat, lstat, fstat).
   * The crash harness enumerates the possible contents of a non-durable file only when the code
   * under test observed it (or the file ends up among the checked targets).
   */
  readonly observed = new Set<number>();

  constructor(snapshot: Snapshot) {
    let maxId = 0;
    for (const [id, n] of snapshot.nodes) {
      this.nodes.set(id, cloneNode(n));
      this.#usedInos.add(n.ino);
      maxId = Math.max(maxId, id);
    }
    this.root = snapshot.root;
    this.#nextId = maxId + 1;
    for (const n of this.nodes.values()) {
      for (const child of n.entries.values()) this.#links.set(child, (this.#links.get(child) ?? 0) + 1);
    }
  }

  /** The live state as a snapshot (shares buffers; copies entry maps). */
  snapshot(): Snapshot {
    return { nodes: new Map([...this.nodes].map(([id, n]) => [id, cloneNode(n)])), root: this.root };
  }

  /** Append a named protocol step to the log (from the faults hook). */
  step(name: string): void {
    this.record({ t: 'step', name, what: `step ${name}` });
  }

  record(rec: Rec): void {
    this.log.push(rec);
  }

  #count(op: string): void {
    this.calls.set(op, (this.calls.get(op) ?? 0) + 1);
  }

  // ---- inode bookkeeping ----

  #allocIno(): number {
    // The lowest number no inode of this disk image ever had in this run: numbers of inodes lost in
    // a crash are reused after it (as real filesystems do), but never twice within one run.
    let ino = 2;
    while (this.#usedInos.has(ino)) ino++;
    this.#usedInos.add(ino);
    return ino;
  }

  #newNode(kind: NodeKind, mode: number, target: string, what: string): NodeImage {
    const id = this.#nextId++;
    const attrs = { mode, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
    const node: NodeImage = { id, kind, ino: this.#allocIno(), ...attrs, mtimeMs: Date.now(), data: Buffer.alloc(0), entries: new Map(), target };
    this.nodes.set(id, node);
    this.record({ t: 'node', id, kind, ino: node.ino, attrs, target, what });
    return node;
  }

  #node(id: number): NodeImage {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`model: dangling node id ${id}`);
    return n;
  }

  #release(id: number): void {
    if ((this.#links.get(id) ?? 0) === 0 && (this.#open.get(id) ?? 0) === 0) {
      this.#links.delete(id);
      this.nodes.delete(id);
    }
  }

  /** Apply one atomic set of entry changes and log it. */
  #change(changes: EntryChange[], what: string): void {
    const now = Date.now();
    const released: number[] = [];
    for (const c of changes) {
      const dir = this.#node(c.dir);
      const before = dir.entries.get(c.name);
      if (before !== undefined) {
        this.#links.set(before, (this.#links.get(before) ?? 1) - 1);
        released.push(before);
      }
      if (c.to === null) dir.entries.delete(c.name);
      else {
        dir.entries.set(c.name, c.to);
        this.#links.set(c.to, (this.#links.get(c.to) ?? 0) + 1);
      }
      dir.mtimeMs = now;
    }
    this.record({ t: 'entry', changes, what });
    for (const id of released) this.#release(id);
  }

  setData(node: NodeImage, data: Buffer, what: string): void {
    node.data = data;
    node.mtimeMs = Date.now();
    this.record({ t: 'data', id: node.id, data, what });
  }

  setAttrs(node: NodeImage, attrs: Attrs, what: string): void {
    node.mode = attrs.mode;
    node.uid = attrs.uid;
    node.gid = attrs.gid;
    this.record({ t: 'attr', id: node.id, attrs: { ...attrs }, what });
  }

  closed(node: NodeImage): void {
    this.#open.set(node.id, (this.#open.get(node.id) ?? 1) - 1);
    this.#release(node.id);
  }

  info(n: NodeImage): Info {
    if (n.kind === 'file') this.observed.add(n.id);
    let nlink = this.#links.get(n.id) ?? 0;
    if (n.kind === 'dir') {
      nlink = 2;
      for (const c of n.entries.values()) if (this.nodes.get(c)?.kind === 'dir') nlink++;
    }
    return {
      kind: n.kind,
      ino: BigInt(n.ino),
      dev: MODEL_DEV,
      mode: n.mode,
      size: n.kind === 'file' ? n.data.length : n.kind === 'dir' ? 4096 : Buffer.byteLength(n.target),
      mtimeMs: n.mtimeMs,
      // A file's mtimeNs is a hash of its content, not its wall-clock mtime: crash images age every
      // mtime (so that locks go stale) but a power loss does not touch a file's real mtime, and the
      // roll-forward compares an original's mtimeNs with the one recorded at the commit point
      // (apply.ts). "Changes exactly when the content changes" is what that check relies on.
      mtimeNs: n.kind === 'file' ? contentStamp(n.data) : BigInt(Math.round(n.mtimeMs * 1e6)),
      uid: n.uid,
      gid: n.gid,
      nlink,
    };
  }

  // ---- path resolution ----

  /**
   * Resolve `p`. Symlinks are followed in every parent component, and in the last one when
   * `followLast`. Throws ENOENT/ENOTDIR/ELOOP for a broken parent chain; a missing last component
   * gives `node: undefined`.
   */
  #resolve(p: string, followLast: boolean, syscall: string): Resolved {
    let todo = path.posix.resolve(p).split('/').filter((s) => s !== '');
    let done: string[] = [];
    let cur = this.#node(this.root);
    let hops = 0;
    if (todo.length === 0) return { parent: undefined, name: '', node: cur, path: '/' };
    for (;;) {
      const name = todo[0] as string;
      const rest = todo.slice(1);
      if (cur.kind !== 'dir') throw errno('ENOTDIR', syscall, p);
      const childId = cur.entries.get(name);
      const child = childId === undefined ? undefined : this.#node(childId);
      if (rest.length === 0 && (child === undefined || child.kind !== 'symlink' || !followLast)) {
        return { parent: cur, name, node: child, path: `/${[...done, name].join('/')}` };
      }
      if (child === undefined) throw errno('ENOENT', syscall, p);
      if (child.kind === 'symlink') {
        if (++hops > 40) throw errno('ELOOP', syscall, p);
        const base = `/${done.join('/')}`;
        todo = [...path.posix.resolve(base, child.target).split('/').filter((s) => s !== ''), ...rest];
        done = [];
        cur = this.#node(this.root);
        if (todo.length === 0) return { parent: undefined, name: '', node: cur, path: '/' };
        continue;
      }
      done = [...done, name];
      cur = child;
      todo = rest;
    }
  }

  #existing(p: string, followLast: boolean, syscall: string): Resolved & { node: NodeImage } {
    const r = this.#resolve(p, followLast, syscall);
    if (r.node === undefined) throw errno('ENOENT', syscall, p);
    return r as Resolved & { node: NodeImage };
  }

  #parentFor(p: string, syscall: string): Resolved & { parent: NodeImage } {
    const r = this.#resolve(p, false, syscall);
    if (r.parent === undefined) throw errno('EBUSY', syscall, p);
    return r as Resolved & { parent: NodeImage };
  }

  // ---- FsImpl ----

  async lstat(p: string): Promise<Info> {
    this.#count('lstat');
    return this.info(this.#existing(p, false, 'lstat').node);
  }

  async stat(p: string): Promise<Info> {
    this.#count('stat');
    return this.info(this.#existing(p, true, 'stat').node);
  }

  async readdir(p: string): Promise<string[]> {
    this.#count('readdir');
    const { node } = this.#existing(p, true, 'scandir');
    if (node.kind !== 'dir') throw errno('ENOTDIR', 'scandir', p);
    return [...node.entries.keys()];
  }

  async readFile(p: string): Promise<Buffer> {
    this.#count('readFile');
    const { node } = this.#existing(p, true, 'open');
    if (node.kind === 'dir') throw errno('EISDIR', 'read', p);
    this.observed.add(node.id);
    return Buffer.from(node.data);
  }

  async readlink(p: string): Promise<string> {
    this.#count('readlink');
    const { node } = this.#existing(p, false, 'readlink');
    if (node.kind !== 'symlink') throw errno('EINVAL', 'readlink', p);
    return node.target;
  }

  async realpath(p: string): Promise<string> {
    this.#count('realpath');
    return this.#existing(p, true, 'realpath').path;
  }

  async create(p: string, mode: number): Promise<Handle> {
    this.#count('create');
    const r = this.#parentFor(p, 'open');
    if (r.parent.kind !== 'dir') throw errno('ENOTDIR', 'open', p);
    if (r.node !== undefined) throw errno('EEXIST', 'open', p);
    const node = this.#newNode('file', mode & ~UMASK & 0o7777, '', `create ${r.path}`);
    this.#open.set(node.id, 1);
    this.#change([{ dir: r.parent.id, name: r.name, to: node.id }], `create ${r.path}`);
    return new ModelHandle(this, node, r.path);
  }

  async mkdir(p: string, mode = 0o777): Promise<void> {
    this.#count('mkdir');
    const r = this.#parentFor(p, 'mkdir');
    if (r.node !== undefined) throw errno('EEXIST', 'mkdir', p);
    const node = this.#newNode('dir', mode & 0o777 & ~UMASK, '', `mkdir ${r.path}`);
    this.#change([{ dir: r.parent.id, name: r.name, to: node.id }], `mkdir ${r.path}`);
  }

  /** symlink(2): not used by txnfs itself; for tests that need one. */
  async symlink(target: string, p: string): Promise<void> {
    this.#count('symlink');
    const r = this.#parentFor(p, 'symlink');
    if (r.node !== undefined) throw errno('EEXIST', 'symlink', p);
    const node = this.#newNode('symlink', 0o777, target, `symlink ${r.path}`);
    this.#change([{ dir: r.parent.id, name: r.name, to: node.id }], `symlink ${r.path} -> ${target}`);
  }

  async rename(from: string, to: string): Promise<void> {
    this.#count('rename');
    const a = this.#resolve(from, false, 'rename');
    if (a.node === undefined || a.parent === undefined) throw errno(a.parent === undefined ? 'EBUSY' : 'ENOENT', 'rename', from, to);
    const b = this.#parentFor(to, 'rename');
    if (b.parent.kind !== 'dir') throw errno('ENOTDIR', 'rename', from, to);
    // Two links to one inode: POSIX says rename does nothing and succeeds.
    if (b.node !== undefined && b.node.id === a.node.id) return;
    if (a.node.kind === 'dir') {
      if (b.path === a.path || b.path.startsWith(`${a.path}/`)) throw errno('EINVAL', 'rename', from, to);
      if (b.node !== undefined && b.node.kind !== 'dir') throw errno('ENOTDIR', 'rename', from, to);
      if (b.node !== undefined && b.node.entries.size > 0) throw errno('ENOTEMPTY', 'rename', from, to);
    } else if (b.node !== undefined && b.node.kind === 'dir') {
      throw errno('EISDIR', 'rename', from, to);
    }
    this.#change(
      [
        { dir: b.parent.id, name: b.name, to: a.node.id },
        { dir: a.parent.id, name: a.name, to: null },
      ],
      `rename ${a.path} -> ${b.path}`,
    );
  }

  async link(existing: string, newPath: string): Promise<void> {
    this.#count('link');
    const a = this.#existing(existing, false, 'link');
    if (a.node.kind === 'dir') throw errno('EPERM', 'link', existing, newPath);
    const b = this.#parentFor(newPath, 'link');
    if (b.node !== undefined) throw errno('EEXIST', 'link', existing, newPath);
    this.#change([{ dir: b.parent.id, name: b.name, to: a.node.id }], `link ${a.path} -> ${b.path}`);
  }

  async unlink(p: string): Promise<void> {
    this.#count('unlink');
    const r = this.#existing(p, false, 'unlink');
    if (r.parent === undefined) throw errno('EBUSY', 'unlink', p);
    if (r.node.kind === 'dir') throw errno('EISDIR', 'unlink', p);
    this.#change([{ dir: r.parent.id, name: r.name, to: null }], `unlink ${r.path}`);
  }

  async rmdir(p: string): Promise<void> {
    this.#count('rmdir');
    const r = this.#existing(p, false, 'rmdir');
    if (r.parent === undefined) throw errno('EBUSY', 'rmdir', p);
    if (r.node.kind !== 'dir') throw errno('ENOTDIR', 'rmdir', p);
    if (r.node.entries.size > 0) throw errno('ENOTEMPTY', 'rmdir', p);
    this.#change([{ dir: r.parent.id, name: r.name, to: null }], `rmdir ${r.path}`);
  }

  /** rm -rf, one entry at a time, children first (as fs-extra/rimraf do): each removal is a record. */
  #removeTree(p: string): void {
    this.#count('removeTree');
    const r = this.#resolve(p, false, 'rm');
    if (r.node === undefined) return;
    if (r.parent === undefined) throw errno('EBUSY', 'rm', p);
    if (r.node.kind === 'dir') {
      for (const name of [...r.node.entries.keys()]) this.#removeTree(`${r.path}/${name}`);
    }
    this.#change([{ dir: r.parent.id, name: r.name, to: null }], `${r.node.kind === 'dir' ? 'rmdir' : 'unlink'} ${r.path} (rm -rf)`);
  }

  async removeTree(p: string): Promise<void> {
    this.#removeTree(p);
  }

  removeTreeSync(p: string): void {
    this.#removeTree(p);
  }

  async syncDir(p: string): Promise<void> {
    this.#count('syncDir');
    const { node, path: real } = this.#existing(p, true, 'open');
    this.record(node.kind === 'dir' ? { t: 'fsyncdir', id: node.id, what: `fsync dir ${real}` } : { t: 'fsync', id: node.id, what: `fsync ${real}` });
  }

  async syncFile(p: string): Promise<void> {
    this.#count('syncFile');
    const { node, path: real } = this.#existing(p, true, 'open');
    this.record(node.kind === 'dir' ? { t: 'fsyncdir', id: node.id, what: `fsync dir ${real}` } : { t: 'fsync', id: node.id, what: `fsync ${real}` });
  }

  async utimes(p: string, _atime: Date, mtime: Date): Promise<void> {
    this.#count('utimes');
    // Not logged: every crash state is given old mtimes anyway (see crash-states.ts).
    this.#existing(p, true, 'utime').node.mtimeMs = mtime.getTime();
  }

  async chmod(p: string, mode: number): Promise<void> {
    this.#count('chmod');
    const { node, path: real } = this.#existing(p, true, 'chmod');
    this.setAttrs(node, { mode: mode & 0o7777, uid: node.uid, gid: node.gid }, `chmod ${real}`);
  }

  async chown(p: string, uid: number, gid: number): Promise<void> {
    this.#count('chown');
    const { node, path: real } = this.#existing(p, true, 'chown');
    this.setAttrs(node, { mode: node.mode, uid, gid }, `chown ${real}`);
  }

  // ---- reading the model from tests (no logging, no counting) ----

  /** The node at `p` (no symlink followed in the last component), or undefined. */
  peek(p: string): NodeImage | undefined {
    try {
      return this.#resolve(p, false, 'peek').node;
    } catch {
      return undefined;
    }
  }
}
