/**
 * paths.ts: target validation (lexical, synchronous) and resolution (under the root lock).
 *
 * `checkTarget` runs inside `tx.write()` and refuses, before anything is written, every path that
 * cannot name a file inside the root: empty, NUL, a `..` that escapes, an absolute path elsewhere,
 * the root itself, a trailing separator, any `.txnfs` component, or a name too long for the
 * filesystem. It costs no I/O.
 *
 * `Resolver` runs under the root lock, right before the commit point (docs/protocol.md, commit
 * step 4, "Resolve"). It resolves each distinct
 * parent directory once (one realpath and one stat, memoised), and then lstats each target. A
 * directory that receives many targets (16 or more) and holds not many more entries than that is
 * listed once instead (one readdir): only the targets the listing may hold are lstat'ed, so a
 * 10,000-file export into a new or small directory costs one readdir instead of 10,000 lstats
 * that each fail with ENOENT (a failing call builds an Error with a stack trace: the most
 * expensive kind). The listing is compared through `looseKey` (casefold.ts), so on a
 * case- or normalisation-insensitive filesystem a target that may name a listed entry under
 * another spelling is still lstat'ed. It refuses a parent chain that
 * leaves the root through a symlink, a parent that is a file, a target that is a directory, a
 * symlink or a special file, and a target on another device than the home or behind a mount point
 * inside the root (rename would fail with EXDEV after the commit point otherwise; see mounts.ts). The journal records the *real* paths it resolved,
 * so applying never follows a symlink again.
 */
import * as path from 'node:path';
import * as fs from '../io/fs.js';
import type { Info } from '../io/fs.js';
import { badArgument, codes, errnoOf, TxnError } from '../errors.js';
import { HOME_NAME } from '../protocol/layout.js';
import { looseKey } from './casefold.js';
import { mountOf, mountPointsInside } from '../platform/mounts.js';

/** Longest name of one path component in bytes (NAME_MAX on Linux, most BSDs and macOS). */
export const NAME_MAX = 255;
/** Longest absolute path in bytes (PATH_MAX on Linux, less the NUL). */
export const PATH_MAX = 4095;

/** A target that passed the lexical checks. */
export interface TargetPath {
  /** Relative to the root, components joined by '/', normalised. Also the dedupe key. */
  readonly rel: string;
}

function bad(message: string, p: string, cause?: unknown): TxnError {
  return new TxnError(codes.EBADPATH, message, cause === undefined ? { path: p } : { path: p, cause });
}

/** Split a '/'-joined relative path into components. */
function components(rel: string): string[] {
  return rel.split('/');
}

/** True if a component is the reserved home name (case-insensitively: case-folding filesystems). */
export function isReserved(component: string): boolean {
  return component.toLowerCase() === HOME_NAME;
}

/**
 * Check a target path lexically against `root` (an absolute, normalised path). Throws TypeError for
 * a non-string, TxnError EBADPATH for a path that cannot name a file inside the root.
 */
export function checkTarget(root: string, input: unknown, argName = 'path'): TargetPath {
  if (typeof input !== 'string') throw badArgument(argName, 'a string', input);
  if (input.length === 0) throw bad('The target path is empty. Pass a file name relative to the root.', input);
  if (input.includes('\0')) throw bad(`The target path ${JSON.stringify(input)} contains a NUL byte. Pass a file name without one.`, input);
  if (hasLoneSurrogate(input)) throw bad(`The target path ${JSON.stringify(input)} contains a lone UTF-16 surrogate, which the filesystem would store as U+FFFD (so two different strings would name one file). Pass a well-formed string (String.prototype.toWellFormed() replaces them).`, input);
  if (input.endsWith('/') || input.endsWith(path.sep)) {
    throw bad(`The target path '${input}' ends with a separator, so it names a directory; txnfs writes files. Pass the file name without the trailing separator.`, input);
  }
  // The usual target ('out/2026-11-28/part-0001.json') is already what resolve + relative would
  // give back: take it as it is. A 10,000-file transaction then builds no absolute path, no copy
  // and no component array per write (about 2 KB of garbage each, which is what makes V8 collect,
  // and copy whatever is alive, during the queueing of a big transaction).
  if (isPlainRelative(input)) {
    checkComponents(input, input, () => joinRoot(root, input));
    const length = (root === path.sep ? 0 : Buffer.byteLength(root)) + 1 + Buffer.byteLength(input);
    if (length > PATH_MAX) {
      throw bad(`The target path '${input}' is longer than ${PATH_MAX} bytes once resolved. Use a shorter path.`, input, nameTooLong(joinRoot(root, input)));
    }
    return { rel: input };
  }
  const abs = path.resolve(root, input);
  const relNative = path.relative(root, abs);
  if (relNative === '') throw bad(`The target path '${input}' names the root directory itself, not a file in it. Pass the name of a file inside the root.`, input);
  if (relNative === '..' || relNative.startsWith(`..${path.sep}`) || path.isAbsolute(relNative)) {
    throw bad(`The target path '${input}' is outside the root '${root}'. Targets must be inside the root: use a path relative to it, or begin() the transaction in a directory that holds every target.`, input);
  }
  const rel = path.sep === '/' ? relNative : relNative.split(path.sep).join('/');
  checkComponents(rel, input, () => abs);
  if (Buffer.byteLength(abs) > PATH_MAX) {
    throw bad(`The target path '${input}' is longer than ${PATH_MAX} bytes once resolved. Use a shorter path.`, input, nameTooLong(abs));
  }
  // Only `rel` is kept: a transaction holds one of these per entry until commit.
  return { rel };
}

/**
 * Whether `input` is a relative POSIX path of plain names: no leading or doubled separator, no '.'
 * or '..' component (the trailing separator is refused before). resolve() then relative() against
 * any root give it back unchanged. Scans without allocating.
 */
function isPlainRelative(input: string): boolean {
  if (path.sep !== '/' || input.charCodeAt(0) === 0x2f || input.includes('//')) return false;
  if (input === '.' || input === '..' || input.startsWith('./') || input.startsWith('../')) return false;
  return !(input.endsWith('/.') || input.endsWith('/..') || input.includes('/./') || input.includes('/../'));
}

const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Whether `text` holds a lone UTF-16 surrogate (String.prototype.isWellFormed, which Node 20 has
 * but the ES2022 library types do not declare). In a `u` regexp a proper pair is one code point,
 * so only an unpaired half matches the surrogate category.
 */
export function hasLoneSurrogate(text: string): boolean {
  return LONE_SURROGATE.test(text);
}

function joinRoot(root: string, rel: string): string {
  return root === path.sep ? `${root}${rel}` : `${root}${path.sep}${rel}`;
}

/** Refuse a reserved component or one longer than NAME_MAX in the '/'-joined `rel`. */
function checkComponents(rel: string, input: string, abs: () => string): void {
  let start = 0;
  while (start <= rel.length) {
    let end = rel.indexOf('/', start);
    if (end === -1) end = rel.length;
    const length = end - start;
    // Only a component of the home name's length can be it; only one of more than NAME_MAX / 3
    // UTF-16 units can exceed NAME_MAX bytes. Anything else needs no substring.
    if (length === HOME_NAME.length && isReserved(rel.slice(start, end))) {
      throw bad(`The target path '${input}' is inside a '${HOME_NAME}' directory, which txnfs reserves for its own records. Pick another name.`, input);
    }
    if (length > NAME_MAX / 3 && Buffer.byteLength(rel.slice(start, end)) > NAME_MAX) {
      throw bad(`The target path '${input}' has a name longer than ${NAME_MAX} bytes. Use a shorter name.`, input, nameTooLong(abs()));
    }
    start = end + 1;
  }
}

function nameTooLong(p: string): NodeJS.ErrnoException {
  const err = new Error(`ENAMETOOLONG: name too long, '${p}'`) as NodeJS.ErrnoException;
  err.code = 'ENAMETOOLONG';
  err.path = p;
  return err;
}

/**
 * Whether a real path is a well-formed target: relative, normalised, '/'-joined, no empty, '.',
 * '..' or reserved components (a `.txnfs` at any depth), no NUL, no lone surrogate. This is THE
 * path rule of a journal: the planner (Resolver.target, on the real path a commit will record)
 * and journal decoding both call it, so a commit can never write a journal that its own recovery
 * calls corrupt. A journal that names anything else was forged or damaged and is never applied.
 */
export function isJournalTarget(rel: unknown): rel is string {
  if (typeof rel !== 'string' || rel.length === 0 || rel.includes('\0') || hasLoneSurrogate(rel)) return false;
  // On Windows a backslash is a separator, so it cannot appear inside a component of a clean path.
  if (path.sep !== '/' && rel.includes('\\')) return false;
  for (const part of components(rel)) {
    if (part === '' || part === '.' || part === '..' || isReserved(part) || Buffer.byteLength(part) > NAME_MAX) return false;
  }
  return true;
}

/** What a target resolved to. */
export interface ResolvedTarget {
  /** Real path relative to the real root, '/'-joined. */
  readonly rel: string;
  /** The existing file, or undefined when the target does not exist. */
  readonly existing: Info | undefined;
  /** Directories (real, relative) this target needs created, parents first. */
  readonly missingDirs: readonly string[];
}

/** The missingDirs of a target whose parent exists: one shared array, not one per target. */
const NONE: readonly string[] = Object.freeze([]);

interface ResolvedDir {
  readonly rel: string;
  readonly missing: readonly string[];
  /** The directory's st_size (absent for a missing one), which bounds its number of entries. */
  readonly size?: number;
}

/** A directory with at least this many targets may be listed instead of lstat-ing each. */
const LIST_MIN_TARGETS = 16;
/**
 * ...if its st_size says it holds at most this many entries per target. An ext4 entry takes 12
 * bytes at least (btrfs, XFS and tmpfs count similarly or more), so size / 12 bounds the entries;
 * reading ~32 names costs about what one lstat does.
 */
const LIST_MAX_ENTRIES_PER_TARGET = 32;
const MIN_ENTRY_BYTES = 12;

function join(parent: string, name: string): string {
  return parent === '' ? name : `${parent}/${name}`;
}

/** Resolves targets against the real root, memoising parent directories. Use under the root lock. */
export class Resolver {
  readonly #realRoot: string;
  readonly #dev: bigint;
  readonly #dirs = new Map<string, Promise<ResolvedDir>>();
  /** Targets per parent (as given), from `expect()`. */
  readonly #wanted = new Map<string, number>();
  /** Parent (as given) → the loose keys of its entries, or undefined when it is not listed. */
  readonly #listings = new Map<string, Promise<Set<string> | undefined>>();
  #mounts: string[] | undefined;
  /** Mount points are checked by `refuseMounts`, when the caller asks (PlanInput.deferMounts). */
  readonly #deferMounts: boolean;

  /** `realRoot` must be a realpath; `dev` is the device of the home directory. */
  constructor(realRoot: string, dev: bigint, deferMounts = false) {
    this.#realRoot = realRoot;
    this.#dev = dev;
    this.#deferMounts = deferMounts;
  }

  /**
   * ECROSSDEV for the first of `realRels` (targets' real paths, relative to the real root) at or
   * below a mount point inside the root: the check `target()` makes, made later. Reads
   * /proc/self/mountinfo (mounts.ts): a one-file commit leaves it to its rename, which fails with
   * EXDEV across a mount before anything changed, so its common case never reads it.
   */
  refuseMounts(realRels: readonly string[]): void {
    for (const rel of realRels) this.#checkMount(path.join(this.#realRoot, rel), rel);
  }

  /**
   * Announce the targets about to be resolved, so that a directory receiving many of them can be
   * listed once (see the header). Optional: without it every target is lstat'ed.
   */
  expect(rels: readonly string[]): void {
    for (const rel of rels) {
      const parentRel = rel.slice(0, Math.max(0, rel.lastIndexOf('/')));
      this.#wanted.set(parentRel, (this.#wanted.get(parentRel) ?? 0) + 1);
    }
  }

  /** Resolve a target checked by `checkTarget` (its `rel` is relative to the real root's lexical form). */
  async target(rel: string): Promise<ResolvedTarget> {
    const slash = rel.lastIndexOf('/');
    const parentRel = slash === -1 ? '' : rel.slice(0, slash);
    const name = slash === -1 ? rel : rel.slice(slash + 1);
    const parent = await this.#dir(parentRel, rel);
    const realRel = join(parent.rel, name);
    // The journal's own rule, on the real path the journal will record: a symlink may lead into
    // the root's home or into a nested `.txnfs` (single-file writes make one in every directory
    // they write to), and a journal naming that would be refused as corrupt after a crash.
    if (!isJournalTarget(realRel)) {
      throw bad(`The target path '${rel}' leads into a '${HOME_NAME}' directory through a symlink (it resolves to '${realRel}'), which txnfs reserves for its own records. Remove that symlink, or pick another path.`, rel);
    }
    if (parent.missing.length > 0) return { rel: realRel, existing: undefined, missingDirs: parent.missing };
    this.#refuseMount(path.join(this.#realRoot, realRel), rel);
    const listing = await this.#listing(parentRel, parent);
    // Not even another spelling of this name is in the directory: it cannot exist.
    if (listing !== undefined && !listing.has(looseKey(name))) return { rel: realRel, existing: undefined, missingDirs: NONE };
    let info: Info;
    try {
      info = await fs.lstat(path.join(this.#realRoot, realRel));
    } catch (err) {
      const code = errnoOf(err);
      if (code === 'ENOENT') return { rel: realRel, existing: undefined, missingDirs: NONE };
      if (code === 'ENAMETOOLONG') throw bad(`The target path '${rel}' is too long for this filesystem. Use a shorter name.`, rel, err);
      throw err;
    }
    if (info.kind === 'dir') {
      throw new TxnError(codes.ETARGET, `The target '${rel}' is a directory; txnfs replaces and removes files only. Remove the directory or pick another name.`, { path: rel });
    }
    if (info.kind === 'symlink') {
      throw new TxnError(codes.ETARGET, `The target '${rel}' is a symlink. txnfs does not write through or replace symlinks in a transaction; name the file it points to instead.`, { path: rel });
    }
    if (info.kind !== 'file') {
      throw new TxnError(codes.ETARGET, `The target '${rel}' is not a regular file (a FIFO, socket or device); txnfs will not replace it. Remove it, or pick another name.`, { path: rel });
    }
    return { rel: realRel, existing: info, missingDirs: NONE };
  }

  /** ECROSSDEV when `real` is at or below a mount point inside the root (a bind mount keeps st_dev). */
  #refuseMount(real: string, forTarget: string): void {
    if (!this.#deferMounts) this.#checkMount(real, forTarget);
  }

  #checkMount(real: string, forTarget: string): void {
    this.#mounts ??= mountPointsInside(this.#realRoot);
    const mount = mountOf(real, this.#mounts);
    if (mount !== undefined) {
      throw new TxnError(codes.ECROSSDEV, `The target path '${forTarget}' is behind '${mount}', a mount point inside the root, so it cannot be renamed into place atomically (rename fails across mounts, even bind mounts of the same filesystem). Use a separate root for that mount.`, { path: forTarget });
    }
  }

  /** The loose keys of the names in `parent`, when it is worth listing (see the header). */
  #listing(parentRel: string, parent: ResolvedDir): Promise<Set<string> | undefined> {
    let p = this.#listings.get(parentRel);
    if (p === undefined) {
      p = this.#list(parentRel, parent);
      this.#listings.set(parentRel, p);
    }
    return p;
  }

  async #list(parentRel: string, parent: ResolvedDir): Promise<Set<string> | undefined> {
    const wanted = this.#wanted.get(parentRel) ?? 0;
    if (wanted < LIST_MIN_TARGETS) return undefined;
    const abs = parent.rel === '' ? this.#realRoot : path.join(this.#realRoot, parent.rel);
    try {
      const size = parent.size ?? (await fs.stat(abs)).size;
      if (size / MIN_ENTRY_BYTES > wanted * LIST_MAX_ENTRIES_PER_TARGET) return undefined;
      const keys = new Set<string>();
      for (const entry of await fs.readdir(abs)) keys.add(looseKey(entry));
      return keys;
    } catch {
      // Unreadable (a directory with x but not r permission), or it changed under us: lstat each.
      return undefined;
    }
  }

  #dir(rel: string, forTarget: string): Promise<ResolvedDir> {
    let p = this.#dirs.get(rel);
    if (p === undefined) {
      p = this.#resolveDir(rel, forTarget);
      this.#dirs.set(rel, p);
    }
    return p;
  }

  async #resolveDir(rel: string, forTarget: string): Promise<ResolvedDir> {
    if (rel === '') return { rel: '', missing: [] };
    const abs = path.join(this.#realRoot, rel);
    let real: string;
    try {
      real = await fs.realpath(abs);
    } catch (err) {
      const code = errnoOf(err);
      if (code === 'ENOENT') {
        // Missing, or a symlink that points nowhere: only the first may be created.
        const exists = await fs.lstat(abs).then(() => true, () => false);
        if (exists) {
          throw bad(`The target path '${forTarget}' passes through '${rel}', a symlink whose target does not exist. Create the directory it points to, or remove the symlink.`, forTarget);
        }
        const slash = rel.lastIndexOf('/');
        const parent = await this.#dir(slash === -1 ? '' : rel.slice(0, slash), forTarget);
        const mine = join(parent.rel, slash === -1 ? rel : rel.slice(slash + 1));
        return { rel: mine, missing: [...parent.missing, mine] };
      }
      if (code === 'ENOTDIR') {
        throw new TxnError(codes.ETARGET, `The target path '${forTarget}' needs '${rel}' to be a directory, but a part of it is a file. Remove or rename that file, or pick another path.`, { path: forTarget, cause: err });
      }
      if (code === 'ELOOP') throw bad(`The target path '${forTarget}' passes through a symlink loop at '${rel}'. Fix or remove the looping symlink.`, forTarget, err);
      if (code === 'ENAMETOOLONG') throw bad(`The target path '${forTarget}' is too long for this filesystem. Use a shorter name.`, forTarget, err);
      throw err;
    }
    if (real !== this.#realRoot && !real.startsWith(this.#realRoot + path.sep)) {
      throw bad(`The target path '${forTarget}' leaves the root through a symlink ('${rel}' resolves to '${real}'). Write it in a transaction rooted where the symlink points, or remove the symlink.`, forTarget);
    }
    const info = await fs.stat(real);
    if (info.kind !== 'dir') {
      throw new TxnError(codes.ETARGET, `The target path '${forTarget}' needs '${rel}' to be a directory, but it is a file. Remove or rename that file, or pick another path.`, { path: forTarget });
    }
    this.#refuseMount(real, forTarget);
    if (info.dev !== this.#dev) {
      throw new TxnError(codes.ECROSSDEV, `The target path '${forTarget}' is on another filesystem than the root's '${HOME_NAME}' directory ('${rel}' is a mount point inside the root), so it cannot be renamed into place atomically. Use a separate root for that filesystem.`, { path: forTarget });
    }
    const relReal = path.relative(this.#realRoot, real);
    return { rel: path.sep === '/' ? relReal : relReal.split(path.sep).join('/'), missing: [], size: info.size };
  }
}
