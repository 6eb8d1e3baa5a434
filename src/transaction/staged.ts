/**
 * staged.ts: what a transaction knows about each file it staged, in blocks of flat numbers.
 *
 * A commit needs five facts per staged file: its inode (the journal records it, so a rollback can
 * tell whether the target is the staged file), its mode, uid and gid (to keep an existing
 * target's), and its size. Held as an object with a bigint, that is about 100 bytes per file for
 * the whole life of the transaction. Here it is five doubles (40 bytes) in Float64Array blocks of
 * 1,024 files, indexed by staging number: no object per file, and the numbers live outside the
 * JavaScript heap, in blocks allocated at full size except the first, which grows to it (see
 * FIRST): nothing bigger than a block is ever copied to grow (a single growing array is
 * copied at every growth, and each copy counts as surviving data towards V8's decision to
 * enlarge its young generation: a one-off 8 to 24 MB of RSS). An inode number above 2^53
 * (possible on XFS and btrfs) does not fit a double exactly, so it goes to a side map; NaN marks
 * a file not staged (yet).
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
const BLOCK = 1024;
/**
 * The first block starts with room for this many files and doubles up to BLOCK: a full first block
 * (40 KiB, each slot set to NaN) for a transaction of one or a few files was more than a one-file
 * commit allocated outside the heap otherwise, where V8 counts it towards its next collection.
 */
const FIRST = 8;
/** In the inode slot: the inode is in the side map. */
const BIG = -1;
const MAX_SMALL = BigInt(Number.MAX_SAFE_INTEGER);

export class StagedFacts {
  readonly #blocks: Float64Array[] = [];
  readonly #bigInos = new Map<number, bigint>();

  /** Record staged file `n` (staging numbers are small integers: 0, 1, 2, ...). */
  set(n: number, info: StagedInfo): void {
    const b = Math.floor(n / BLOCK);
    while (this.#blocks.length <= b) this.#blocks.push(new Float64Array((this.#blocks.length === 0 ? FIRST : BLOCK) * WIDTH).fill(Number.NaN));
    const at = (n % BLOCK) * WIDTH;
    let v = this.#blocks[b] as Float64Array;
    if (at >= v.length) {
      // The first block, grown to hold `n` (doubling, at most BLOCK files).
      let files = v.length / WIDTH;
      while (files * WIDTH <= at) files *= 2;
      const grown = new Float64Array(Math.min(BLOCK, files) * WIDTH).fill(Number.NaN);
      grown.set(v);
      this.#blocks[b] = v = grown;
    }
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
    const v = this.#blocks[Math.floor(n / BLOCK)];
    const at = (n % BLOCK) * WIDTH;
    // Past a first block that has not grown that far: not recorded (reading there gives undefined).
    return v !== undefined && at < v.length && !Number.isNaN(v[at]);
  }

  /** The facts about staged file `n`, or undefined when it was not staged. */
  get(n: number): StagedInfo | undefined {
    if (!this.has(n)) return undefined;
    const v = this.#blocks[Math.floor(n / BLOCK)] as Float64Array;
    const at = (n % BLOCK) * WIDTH;
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
