/**
 * entries.ts: a commit's journal entries, held as columns of numbers instead of an object each.
 * docs/protocol.md: "The journal"; built by step 4 (Resolve), encoded at step 7 of "Commit".
 *
 * A live commit keeps its journal's entries from the plan until the journal is removed: through
 * the backup links, the journal's encoding, the apply and its directory fsyncs. As objects (seven
 * fields and a decimal inode string each) that is about 140 bytes per entry on the JavaScript
 * heap, all of it allocated in a few milliseconds and alive across several minor collections.
 * V8 counts every byte that survives a minor collection, and once the count since its young
 * generation last grew exceeds that generation's size, it doubles it for good: at 10,000 entries
 * the entries alone were enough to take it from 8 to 16 MiB (benchmarks.md, "Scale").
 *
 * Here the numbers live in typed arrays (outside the heap, never copied) and only the target
 * strings, which the transaction holds anyway, are referenced. `at(i)` and the iterator build an
 * ordinary `JournalEntry` on demand; it dies young. An inode above 2^53 (XFS, btrfs) does not fit a
 * double exactly, so it is kept as its decimal string in a side map.
 *
 * Journals read back from disk stay plain arrays: `JournalEntries` is what both have in common.
 */
import type { JournalEntry } from './journal.js';

/** The entries of a journal: a plain array, or `PackedEntries`. */
export interface JournalEntries extends Iterable<JournalEntry> {
  readonly length: number;
  at(index: number): JournalEntry | undefined;
}

/** In an inode column: no inode (null). */
const NONE = -1;
/** In an inode column: the inode is in the side map (above 2^53). */
const BIG = -2;
const MAX_SMALL = BigInt(Number.MAX_SAFE_INTEGER);

const WRITE = 1;
const EXISTED = 2;
/** The backup of this entry is a copy, not a hard link (journal.ts, BackupKind). */
const COPY = 4;

/** What a commit knows about the file an entry replaces or removes, at its plan. */
export interface Original {
  readonly ino: bigint;
  readonly size: number;
  readonly mtimeNs: bigint;
}

/** Journal entries of one commit, appended in order, at most `capacity` of them. */
export class PackedEntries implements JournalEntries {
  /** The targets: the caller's `likely` while every one appended matched it (`#own` false). */
  #targets: readonly string[];
  #own: boolean;
  readonly #flags: Uint8Array;
  readonly #staged: Int32Array;
  readonly #mode: Int32Array;
  readonly #ino: Float64Array;
  readonly #stagedIno: Float64Array;
  readonly #size: Float64Array;
  readonly #mtimeNs: BigInt64Array;
  readonly #stagedSize: Float64Array;
  readonly #big = new Map<number, string>();
  #length = 0;

  /**
   * `likely`: the targets the entries will probably be, in order (the plan's last operation on
   * each target: when every target is written, under its own name, it is exactly that). While the
   * appended targets match it, it is used as it is and no array of `capacity` slots is made: at
   * 10,000 entries that array is 80 KB, copied by the next minor collection and then promoted (see
   * the header). The caller must not change `likely` afterwards.
   */
  constructor(capacity: number, likely?: readonly string[]) {
    // Sized once: an array that grows is copied at each doubling, and each copy counts as
    // surviving data (see the header).
    this.#targets = likely ?? new Array<string>(capacity);
    this.#own = likely === undefined;
    this.#flags = new Uint8Array(capacity);
    this.#staged = new Int32Array(capacity);
    this.#mode = new Int32Array(capacity);
    this.#ino = new Float64Array(capacity);
    this.#stagedIno = new Float64Array(capacity);
    this.#size = new Float64Array(capacity);
    this.#mtimeNs = new BigInt64Array(capacity);
    this.#stagedSize = new Float64Array(capacity);
  }

  get length(): number {
    return this.#length;
  }

  /** Append a write of staged file `staged` (`stagedSize` bytes) to `target`; `old` is the file it replaces, if any. */
  addWrite(target: string, staged: number, old: Original | undefined, stagedIno: bigint, stagedSize: number, mode: number): void {
    const i = this.#next();
    this.#setTarget(i, target);
    this.#flags[i] = WRITE | (old === undefined ? 0 : EXISTED);
    this.#staged[i] = staged;
    this.#mode[i] = mode;
    this.#original(i, old);
    this.#stagedIno[i] = this.#inode(2 * i + 1, stagedIno);
    this.#stagedSize[i] = stagedSize;
  }

  /** Append the removal of `target`, the file `old`. */
  addDelete(target: string, old: Original): void {
    const i = this.#next();
    this.#setTarget(i, target);
    this.#flags[i] = EXISTED;
    this.#staged[i] = -1;
    this.#mode[i] = -1;
    this.#original(i, old);
    this.#stagedIno[i] = NONE;
    this.#stagedSize[i] = -1;
  }

  #setTarget(i: number, target: string): void {
    if (!this.#own) {
      if (this.#targets[i] === target) return;
      // The first that differs: from here on, an array of the entries' own, sized once too.
      const own = new Array<string>(this.#flags.length);
      for (let k = 0; k < i; k++) own[k] = this.#targets[k] as string;
      this.#targets = own;
      this.#own = true;
    }
    (this.#targets as string[])[i] = target;
  }

  /** The original entry `i` replaces or removes, as the plan saw it; undefined for a new file. */
  original(i: number): Original | undefined {
    const e = this.at(i);
    if (e?.ino == null || e.size == null || e.mtimeNs == null) return undefined;
    return { ino: BigInt(e.ino), size: e.size, mtimeNs: BigInt(e.mtimeNs) };
  }

  /** Record that entry `i`'s backup is a copy (hard links were refused; see protocol/commit.ts, prepare). */
  markCopy(i: number): void {
    this.#flags[i] = (this.#flags[i] as number) | COPY;
  }

  #original(i: number, old: Original | undefined): void {
    this.#ino[i] = this.#inode(2 * i, old?.ino);
    this.#size[i] = old?.size ?? -1;
    this.#mtimeNs[i] = old?.mtimeNs ?? 0n;
  }

  /** The target of entry `i` (0 <= i < length), without building the entry. */
  target(i: number): string {
    return this.#targets[i] as string;
  }

  /** Whether entry `i` replaces or removes a file that existed (it gets a backup link). */
  existed(i: number): boolean {
    return ((this.#flags[i] as number) & EXISTED) !== 0;
  }

  at(index: number): JournalEntry | undefined {
    const i = index < 0 ? index + this.#length : index;
    if (!Number.isInteger(i) || i < 0 || i >= this.#length) return undefined;
    const flags = this.#flags[i] as number;
    const mode = this.#mode[i] as number;
    return {
      op: (flags & WRITE) !== 0 ? 'write' : 'delete',
      target: this.#targets[i] as string,
      staged: this.#staged[i] as number,
      existed: (flags & EXISTED) !== 0,
      ino: this.#decimal(2 * i, this.#ino[i] as number),
      stagedIno: this.#decimal(2 * i + 1, this.#stagedIno[i] as number),
      mode: mode === -1 ? null : mode,
      size: (flags & EXISTED) !== 0 ? (this.#size[i] as number) : null,
      mtimeNs: (flags & EXISTED) !== 0 ? String(this.#mtimeNs[i]) : null,
      stagedSize: (flags & WRITE) !== 0 ? (this.#stagedSize[i] as number) : null,
      backup: (flags & EXISTED) === 0 ? null : (flags & COPY) !== 0 ? 'copy' : 'link',
    };
  }

  *[Symbol.iterator](): Iterator<JournalEntry> {
    for (let i = 0; i < this.#length; i++) yield this.at(i) as JournalEntry;
  }

  #next(): number {
    if (this.#length === this.#flags.length) throw new RangeError(`PackedEntries: more than the ${this.#flags.length} entries it was made for`);
    return this.#length++;
  }

  #inode(slot: number, ino: bigint | undefined): number {
    if (ino === undefined) return NONE;
    if (ino <= MAX_SMALL) return Number(ino);
    this.#big.set(slot, String(ino));
    return BIG;
  }

  #decimal(slot: number, v: number): string | null {
    if (v === NONE) return null;
    if (v === BIG) return this.#big.get(slot) as string;
    return String(v);
  }
}
