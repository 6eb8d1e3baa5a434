/**
 * setup.ts (generations): the options of this layout, and opening its root.
 *
 * A transaction in this layout keeps its root lock and staging dirs in an ordinary txnfs home
 * inside the generation home (`<parent>/.out.txnfs/.txnfs/`), so begin() gets the same `TrustedHome` as
 * the in-place layout, on the same filesystem as the generations (staged files are renamed into
 * the new generation). Cost: a realpath of the pointer's parent and two mkdirs (EEXIST after the
 * first commit).
 */
import * as path from 'node:path';
import * as fs from '../io/fs.js';
import { badArgument, codes, errnoOf, TxnError } from '../errors.js';
import { syncDir } from '../io/durable.js';
import { openHome, type TrustedHome } from '../protocol/staging.js';
import { genHomeOf } from './names.js';
import { readPointer } from './pointer.js';

/**
 * How a transaction lays out its root. `'in-place'` (the default): commits rename each file into
 * the directory, so a reader *during* a commit can see a mix. `'generations'`: the root is a
 * symlink to an immutable generation, swapped in one step; readers pin one with
 * {@link openSnapshot} (docs/snapshots.md).
 *
 * @example
 * ```ts
 * const tx = begin({ dir: 'site', layout: 'generations' }); // site -> .site.txnfs/gen-<n>
 * tx.write('index.html', html);
 * const { generation } = await tx.commit();
 * ```
 */
export type Layout = 'in-place' | 'generations';

/** Default number of generations kept (the current one and the previous one). */
const DEFAULT_KEEP = 2;

export interface GenerationsOptions {
  readonly keep: number;
}

/** Check `layout` and `keepGenerations`; undefined for the in-place layout. */
export function resolveLayout(layout: unknown, keep: unknown): GenerationsOptions | undefined {
  if (layout !== undefined && layout !== 'in-place' && layout !== 'generations') throw badArgument('layout', "'in-place' or 'generations'", layout);
  if (keep !== undefined && (typeof keep !== 'number' || !Number.isInteger(keep) || keep < 2 || keep > 1_000_000)) {
    throw badArgument('keepGenerations', 'an integer from 2 to 1000000', keep);
  }
  if (layout !== 'generations') {
    if (keep !== undefined) throw badArgument('keepGenerations', "unset unless layout is 'generations'", keep);
    return undefined;
  }
  return { keep: (keep as number | undefined) ?? DEFAULT_KEEP };
}

export interface GenerationsRoot {
  /** The pointer: the real path of its parent joined with its name. */
  readonly pointer: string;
  readonly genHome: string;
  readonly home: TrustedHome;
}

/** The pointer with a real parent path (the pointer itself is a symlink; it is not resolved). */
export async function realPointer(dir: string): Promise<string> {
  const parent = path.dirname(dir);
  if (parent === dir) throw new TxnError(codes.ETARGET, `'${dir}' cannot be a generations pointer: it has no parent directory. Pass a path inside a directory, e.g. '/srv/out'.`, { path: dir });
  let realParent: string;
  try {
    realParent = await fs.realpath(parent);
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') throw new TxnError(codes.EFS, `The parent of '${dir}' does not exist. Create it first: txnfs creates the pointer and its hidden generation home there.`, { cause: err, path: dir });
    throw err;
  }
  return path.join(realParent, path.basename(dir));
}

/** Create the generation home and its txnfs home if needed. */
export async function openGenerations(dir: string, durable: boolean): Promise<GenerationsRoot> {
  const pointer = await realPointer(dir);
  const genHome = genHomeOf(pointer);
  try {
    await fs.mkdir(genHome);
    // The generation home's name must survive a power loss before anything in it is relied on.
    if (durable) await syncDir(path.dirname(pointer));
  } catch (err) {
    if (errnoOf(err) !== 'EEXIST') throw err;
  }
  const info = await fs.lstat(genHome);
  if (info.kind !== 'dir') throw new TxnError(codes.ETARGET, `'${genHome}' exists but is not a directory; txnfs keeps the generations there. Move it away.`, { path: genHome });
  return { pointer, genHome, home: await openHome(genHome, durable) };
}

/**
 * Whether `dir` is the pointer of a generations root: its sibling generation home exists. One
 * lstat; used by recover() and status to pick the layout.
 */
export async function isGenerationsRoot(dir: string): Promise<boolean> {
  try {
    const info = await fs.lstat(genHomeOf(await realPointer(dir)));
    return info.kind === 'dir';
  } catch {
    return false;
  }
}

/** Where a read outside the lock looks now: the current generation, a plain directory, or nothing. */
export async function lookupRoot(pointer: string, genHome: string): Promise<string | undefined> {
  const state = await readPointer(pointer, genHome);
  if (state.kind === 'gen') return state.dir;
  if (state.kind === 'dir') return fs.realpath(pointer);
  return undefined;
}
