/**
 * staged.ts: what a transaction knows about each file it staged, in one flat array of numbers.
 *
 * A commit needs five facts per staged file: its inode (the journal records it, so a rollback can
 * tell whether the target is the staged file), its mode, uid and gid (to keep an existing
 * target's), and its size. Held as an object with a bigint, that is about 100 bytes per file for
 * the whole life of the transaction; here it is five doubles (40 bytes) in an array indexed by
 * staging number, with no per-file object. An inode number above 2^53 (possible on XFS and btrfs)
 * does not fit a double exactly, so it goes to a side map; NaN marks a file not staged (yet).
 */

/** The facts about one staged file. */
export interface StagedInfo {
  readonly ino: bigint;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly bytes: number;
}

const WIDTH = 5;
/** In the inode slot: the inode is in the side map. */
const BIG = -1;
const MAX_SMALL = BigInt(Number.MAX_SAFE_INTEGER);

export class StagedFacts {
  readonly #values: number[] = [];
  readonly #bigInos = new Map<number, bigint>();

  /** Record staged file `n` (staging numbers are dense: 0, 1, 2, ...). */
  set(n: number, info: StagedInfo): void {
    const v = this.#values;
    const at = n * WIDTH;
    // Files finish out of order; the slots of the ones still in flight are filled with NaN, so
    // the array never has holes (a holey array may fall back to a slow dictionary).
    while (v.length < at + WIDTH) v.push(Number.NaN);
    const small = info.ino <= MAX_SMALL;
    if (!small) this.#bigInos.set(n, info.ino);
    v[at] = small ? Number(info.ino) : BIG;
    v[at + 1] = info.mode;
    v[at + 2] = info.uid;
    v[at + 3] = info.gid;
    v[at + 4] = info.bytes;
  }

  /** Whether staged file `n` was recorded. */
  has(n: number): boolean {
    const ino = this.#values[n * WIDTH];
    return ino !== undefined && !Number.isNaN(ino);
  }

  /** The facts about staged file `n`, or undefined when it was not staged. */
  get(n: number): StagedInfo | undefined {
    if (!this.has(n)) return undefined;
    const v = this.#values;
    const at = n * WIDTH;
    const ino = v[at] as number;
    return {
      ino: ino === BIG ? (this.#bigInos.get(n) as bigint) : BigInt(ino),
      mode: v[at + 1] as number,
      uid: v[at + 2] as number,
      gid: v[at + 3] as number,
      bytes: v[at + 4] as number,
    };
  }
}
