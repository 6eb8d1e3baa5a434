/**
 * oplog.ts: the operations of a transaction, in call order, and the last one on each target.
 *
 * Every write() and remove() appends (target, code) to a log kept in blocks: the target string
 * and a 32-bit code (a staging number, or a negative code for a removal). A Map from target to
 * its last operation would do the same job, but it rebuilds its hash table at every doubling, and
 * for 100,000 targets those tables (a few MB, young, then promoted) are what makes V8 enlarge its
 * young generation; the log's blocks are allocated at full size, except the first, which grows to
 * it (see FIRST), so nothing bigger than a block is ever copied.
 *
 * `last()` answers, once, at commit: the last operation on each target, in the order of those
 * last operations (the order the journal applies them in). It sorts the positions by target
 * (ties: the later position first) and keeps the first of each run: O(n log n) comparisons and
 * two typed arrays, about 20 ms for 100,000 targets.
 */

const BLOCK = 4096;
/**
 * The first block starts with room for this many operations and doubles up to BLOCK: most
 * transactions log a few, and a full first block for each of them (a 32 KiB array of the 174 KiB
 * a one-file commit allocated on the heap, and a zeroed 16 KiB typed array outside it) was
 * collected again by the next young-generation GC (docs/performance.md, item 28). Copying a
 * block of at most BLOCK entries while it grows is cheap; only the big, late growths the header
 * warns of are avoided.
 */
const FIRST = 8;

export class OpLog {
  readonly #targets: string[][] = [];
  readonly #codes: Int32Array[] = [];
  #length = 0;

  /** Operations logged (a target written twice counts twice). */
  get length(): number {
    return this.#length;
  }

  append(target: string, code: number): void {
    const b = Math.floor(this.#length / BLOCK);
    const at = this.#length % BLOCK;
    if (b === this.#targets.length) {
      // The first block grows as it fills (an empty array takes each new last slot in order).
      this.#targets.push(b === 0 ? [] : new Array<string>(BLOCK));
      this.#codes.push(new Int32Array(b === 0 ? FIRST : BLOCK));
    } else if (at === (this.#codes[b] as Int32Array).length) {
      // Only the first block is ever full before BLOCK: double it.
      const grown = new Int32Array(Math.min(BLOCK, at * 2));
      grown.set(this.#codes[b] as Int32Array);
      this.#codes[b] = grown;
    }
    (this.#targets[b] as string[])[at] = target;
    (this.#codes[b] as Int32Array)[at] = code;
    this.#length++;
  }

  /** Whether any operation was logged on `target` (a scan from the newest: for rare calls only). */
  has(target: string): boolean {
    for (let i = this.#length - 1; i >= 0; i--) if (this.#target(i) === target) return true;
    return false;
  }
  #target(i: number): string {
    return (this.#targets[Math.floor(i / BLOCK)] as string[])[i % BLOCK] as string;
  }

  #code(i: number): number {
    return (this.#codes[Math.floor(i / BLOCK)] as Int32Array)[i % BLOCK] as number;
  }

  /** The last operation on each target, in the order of those last operations. */
  last(): { readonly targets: string[]; readonly codes: Int32Array } {
    const n = this.#length;
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort((a, b) => {
      const x = this.#target(a);
      const y = this.#target(b);
      return x < y ? -1 : x > y ? 1 : b - a;
    });
    const kept = new Uint8Array(n);
    let count = 0;
    let previous: string | undefined;
    for (let k = 0; k < n; k++) {
      const i = order[k] as number;
      const target = this.#target(i);
      if (target !== previous) {
        kept[i] = 1;
        count++;
      }
      previous = target;
    }
    // Sized once (an array grown by push is copied at each doubling, and V8 counts every copy as
    // surviving data); the codes in a typed array, outside the heap.
    const targets = new Array<string>(count);
    const codes = new Int32Array(count);
    for (let i = 0, j = 0; i < n; i++) {
      if (kept[i] === 1) {
        targets[j] = this.#target(i);
        codes[j] = this.#code(i);
        j++;
      }
    }
    return { targets, codes };
  }
}
