/**
 * pointer.ts (generations): read the pointer, and swap it (the commit point of this layout).
 *
 * The pointer is a symlink; a swap creates the new symlink inside the committing transaction's
 * staging dir and renames it over the pointer. rename(2) replaces a symlink atomically, so a reader
 * resolving the pointer gets the old generation or the new one, never ENOENT (except during the
 * one-time conversion of a plain directory, convert.ts). Cost: a symlink, a rename, and with
 * durability 'full' one fsync of the pointer's directory.
 */
import * as path from 'node:path';
import * as fs from '../io/fs.js';
import { codes, errnoOf, TxnError } from '../errors.js';
import { syncDir } from '../io/durable.js';
import { genDirOf, parsePointerTarget, pointerTarget, POINTER_TMP_NAME } from './names.js';

/** What the pointer path holds. */
export type PointerState =
  | { readonly kind: 'missing' }
  /** A plain directory: converted at the first commit in the generations layout. */
  | { readonly kind: 'dir' }
  | { readonly kind: 'gen'; readonly generation: number; readonly dir: string };

/** Read the pointer once (one lstat, one readlink). Refuses what txnfs did not make (ETARGET). */
export async function readPointer(pointer: string, genHome: string): Promise<PointerState> {
  let info: fs.Info;
  try {
    info = await fs.lstat(pointer);
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return { kind: 'missing' };
    throw err;
  }
  if (info.kind === 'dir') return { kind: 'dir' };
  if (info.kind === 'symlink') {
    const target = await fs.readlink(pointer);
    const n = parsePointerTarget(pointer, target);
    if (n !== undefined) return { kind: 'gen', generation: n, dir: genDirOf(genHome, n) };
    throw new TxnError(codes.ETARGET, `'${pointer}' is a symlink to '${target}', not a generations pointer made by txnfs; it will not be replaced. Move it away, or use the in-place layout.`, { path: pointer });
  }
  throw new TxnError(codes.ETARGET, `'${pointer}' is a ${info.kind === 'file' ? 'file' : 'special file'}, not a directory or a generations pointer. Move it away.`, { path: pointer });
}

/**
 * Point `pointer` at generation `n`, atomically: a new symlink in `stagingDir`, renamed over the
 * pointer (the commit point). `beforeRename` runs between the two (the conversion moves the plain
 * directory away there). Not durable yet: see `syncPointer`.
 */
export async function swapPointer(pointer: string, stagingDir: string, n: number, beforeRename?: () => Promise<void>): Promise<void> {
  const tmp = path.join(stagingDir, POINTER_TMP_NAME);
  await fs.symlink(pointerTarget(pointer, n), tmp);
  await beforeRename?.();
  await fs.rename(tmp, pointer);
}

/**
 * fsync the pointer's directory: once this returns, a power loss keeps the new pointer. The
 * generation it names was made durable before the swap (files, directories, its name in the home).
 */
export async function syncPointer(pointer: string, stagingDir: string): Promise<void> {
  // Both ends of the rename: it is durable only once both directories are synced (the
  // conservative model of docs/power-loss-model.md; one journal commit on ext4).
  await Promise.all([syncDir(path.dirname(pointer)), syncDir(stagingDir)]);
}

/**
 * A pointer that is missing while the home holds generations: a conversion cut between moving the
 * plain directory away and renaming the pointer in, or a first commit cut right before its swap.
 * Every `gen-<n>` is complete (it got its name only once durable), so pointing at the newest one is
 * a state some commit reached. Returns the repaired state.
 */
export async function repairPointer(pointer: string, genHome: string, stagingDir: string, newest: number, durable: boolean): Promise<PointerState> {
  await swapPointer(pointer, stagingDir, newest);
  if (durable) await syncPointer(pointer, stagingDir);
  return { kind: 'gen', generation: newest, dir: genDirOf(genHome, newest) };
}
