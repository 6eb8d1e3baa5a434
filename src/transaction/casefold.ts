/**
 * casefold.ts: targets that differ only by case, on a filesystem that folds case.
 *
 * On macOS (APFS/HFS+ by default), Windows, vfat/exFAT and ext4 directories with casefold, `Readme`
 * and `README` name one file. Two such targets in one transaction would then be one file written
 * twice in an order the caller did not choose, and a write of one with a remove of the other would
 * leave the opposite of what the last operation said. txnfs does not fold case itself (the same
 * names are two files on a case-sensitive filesystem, and that is legitimate), so the planner asks
 * the filesystem, only when the transaction holds such a pair:
 *
 *  - if one spelling exists, the other spelling is lstat'ed: the same inode means one entry; two
 *    inode numbers mean two files only if the parent lists both spellings (a FUSE filesystem such
 *    as fusefat numbers each spelling it is asked for, so one file can show two numbers);
 *  - if neither exists, the root is probed through the home: `.TXNFS` resolving to the `.txnfs`
 *    inode (or, with another number, while the root lists no `.TXNFS`) means the root directory
 *    folds case. That is per volume on macOS and Windows; ext4
 *    casefold is per directory and inherited by new subdirectories, so the root's answer holds
 *    unless a subdirectory was made case-folding on its own (`chattr +F` below a root without it):
 *    there a pair of new names is not caught, and the later rename wins.
 *
 * A pair that names one file is refused with ETARGET before the commit point (docs/protocol.md,
 * commit step 4). Names are compared
 * after Unicode NFC normalisation and lower-casing, which covers what these filesystems fold in
 * practice (not every rule of full Unicode case folding).
 *
 * Cost: one regular-expression test per target when every name is lower-case ASCII; otherwise one
 * folded key per target, and two lstats per pair plus one for the probe.
 */
import * as path from 'node:path';
import * as fs from '../io/fs.js';
import { lstatIfPresent } from '../io/if-present.js';
import { HOME_NAME } from '../protocol/layout.js';

function fold(name: string): string {
  return name.normalize('NFC').toLowerCase();
}

/** A path of printable ASCII without upper case: NFC and lower-casing leave it as it is. */
const FOLDED = /^[\x20-\x40\x5b-\x7e]*$/;

/**
 * Whether every path is printable ASCII without upper case: each is then its own fold and its own
 * `looseKey`, so distinct strings are distinct files on every filesystem.
 */
export function allFolded(rels: readonly string[]): boolean {
  return rels.every((rel) => FOLDED.test(rel));
}

/** Pairs of distinct relative paths (same parent) whose names are equal once case is folded. */
export function caseCollisions(rels: readonly string[]): [string, string][] {
  // Two distinct paths that are each their own fold cannot fold to one key, so when every path
  // is (the usual transaction of generated names) there is nothing to pair, and no key is built.
  if (allFolded(rels)) return [];
  const byKey = new Map<string, string>();
  const pairs: [string, string][] = [];
  for (const rel of rels) {
    const slash = rel.lastIndexOf('/');
    const key = `${fold(rel.slice(0, slash + 1))}\0${fold(rel.slice(slash + 1))}`;
    const first = byKey.get(key);
    if (first === undefined) byKey.set(key, rel);
    else if (first !== rel) pairs.push([first, rel]);
  }
  return pairs;
}

/**
 * A key under which every name a filesystem might treat as the same one collides: compatibility
 * decomposition, then upper and lower case (an over-approximation of NFD plus Unicode case
 * folding, which is what case- and normalisation-insensitive filesystems apply). Names with
 * different keys are different files everywhere; equal keys only mean "ask the filesystem".
 */
export function looseKey(name: string): string {
  return FOLDED.test(name) ? name : name.normalize('NFKD').toUpperCase().toLowerCase();
}

/**
 * Whether `rel` is spelled under `root` exactly as given: each component is listed by its parent.
 * Used only when two spellings both resolve but report different inode numbers: two files on a
 * case-sensitive filesystem, or one file on a FUSE filesystem that numbers each spelling it is
 * asked for (fusefat: `Foo` and `FOO` are two inode numbers for one file).
 */
async function spelledExactly(root: string, rel: string): Promise<boolean> {
  let dir = root;
  for (const part of rel.split('/')) {
    if (!(await fs.readdir(dir)).includes(part)) return false;
    dir = path.join(dir, part);
  }
  return true;
}

/** Whether the real relative paths `a` and `b` (which differ only by case) name one file under `root`. */
export async function nameOneFile(root: string, home: fs.Info, a: string, b: string): Promise<boolean> {
  const ia = await lstatIfPresent(path.join(root, a));
  const ib = await lstatIfPresent(path.join(root, b));
  if (ia !== undefined || ib !== undefined) {
    if (ia === undefined || ib === undefined) return false;
    if (ia.ino === ib.ino && ia.dev === ib.dev) return true;
    return !((await spelledExactly(root, a)) && (await spelledExactly(root, b)));
  }
  const upper = HOME_NAME.toUpperCase();
  const probe = await lstatIfPresent(path.join(root, upper));
  if (probe === undefined) return false;
  if (probe.ino === home.ino && probe.dev === home.dev) return true;
  return !(await fs.readdir(root)).includes(upper);
}
