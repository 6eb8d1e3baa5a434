/**
 * names.ts (generations): where the generations layout keeps its files. Names only; no I/O.
 *
 *   <parent>/out                      the pointer: a symlink holding `.out.txnfs/gen-<N>`
 *   <parent>/.out.txnfs/              the generation home, a hidden sibling of the pointer, so that
 *                                     a listing of `out` shows only the user's files
 *   <parent>/.out.txnfs/gen-<N>/      generation N, immutable once it has this name
 *   <parent>/.out.txnfs/pins/<id>     a reader's pin on one generation (pins.ts)
 *   <parent>/.out.txnfs/.txnfs/       an ordinary txnfs home (layout.ts): the root lock and the
 *                                     staging dirs, whose recovery is shared with the in-place layout
 *   <parent>/.out.txnfs/.txnfs/.txn-<id>/gen       the next generation while it is built
 *   <parent>/.out.txnfs/.txnfs/.txn-<id>/pointer   the new pointer before it is renamed over `out`
 *   <parent>/.out.txnfs/.txnfs/.txn-<id>/retired-<N>  an old generation being deleted
 *
 * Everything a commit makes before its commit point lives in its staging dir, so the recovery of a
 * dead staging dir (rm -rf, under the root lock) is also what removes a half-built generation.
 * The pointer's content is relative, so the parent can be moved or mounted elsewhere.
 */
import * as path from 'node:path';

const GEN_PREFIX = 'gen-';
const GEN_RE = /^gen-(0|[1-9][0-9]{0,14})$/;
const PINS_NAME = 'pins';
export const BUILD_NAME = 'gen';
export const POINTER_TMP_NAME = 'pointer';
export const RETIRED_PREFIX = 'retired-';

/** The generation home of the pointer `pointer` (absolute). */
export function genHomeOf(pointer: string): string {
  return path.join(path.dirname(pointer), `.${path.basename(pointer)}.txnfs`);
}

export function genDirOf(genHome: string, n: number): string {
  return path.join(genHome, `${GEN_PREFIX}${n}`);
}

/** What the pointer holds for generation `n`: a path relative to the pointer's directory. */
export function pointerTarget(pointer: string, n: number): string {
  return `.${path.basename(pointer)}.txnfs/${GEN_PREFIX}${n}`;
}

/** The generation number a pointer's content names, or undefined if it is not one of ours. */
export function parsePointerTarget(pointer: string, target: string): number | undefined {
  const prefix = `.${path.basename(pointer)}.txnfs/`;
  if (!target.startsWith(prefix)) return undefined;
  const m = GEN_RE.exec(target.slice(prefix.length));
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

export function pinsDirOf(genHome: string): string {
  return path.join(genHome, PINS_NAME);
}

/** Generation numbers named in a listing of the generation home. */
export function generationsIn(names: readonly string[]): number[] {
  const out: number[] = [];
  for (const name of names) {
    const m = GEN_RE.exec(name);
    if (m?.[1] !== undefined) out.push(Number(m[1]));
  }
  return out.sort((a, b) => a - b);
}
