/**
 * fifo.ts: a first-in first-out queue kept in blocks of 3,072 slots.
 *
 * A transaction queues every write before the first is staged: 100,000 writes are 300,000 slots.
 * One growing array would be copied at every growth (1.5x each time), and each copy of a big
 * young array counts as surviving data towards V8's decision to enlarge its young generation (a
 * one-off 8 to 24 MB of RSS). Blocks are filled, drained and dropped: push and shift are O(1).
 * Only the first block grows as it fills (a queue of a few items reserves a few slots); every
 * later one is allocated at full size, so no array bigger than a block is ever copied. A slot is
 * cleared as it is taken, so what it held (a write's data) can go at once.
 */

const BLOCK = 3072;

export class Fifo<T> {
  /** Blocks from oldest to newest; only the first is being drained, only the last is filled. */
  readonly #blocks: (T | undefined)[][] = [];
  /** Next slot to take in the first block. */
  #head = 0;
  /** Next free slot in the last block (BLOCK when it is full). */
  #tail = BLOCK;
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(item: T): void {
    if (this.#tail === BLOCK) {
      // The first block of a queue starts empty and grows as it fills, up to BLOCK: most queues
      // hold a few items (a transaction of a few files), and a full first block for each of them
      // was 24 KiB of the 174 KiB a one-file commit allocated. Later blocks are full size.
      this.#blocks.push(this.#blocks.length === 0 ? [] : new Array<T | undefined>(BLOCK));
      this.#tail = 0;
    }
    (this.#blocks[this.#blocks.length - 1] as (T | undefined)[])[this.#tail++] = item;
    this.#length++;
  }

  /** Take the oldest item; undefined when empty. */
  shift(): T | undefined {
    if (this.#length === 0) return undefined;
    const block = this.#blocks[0] as (T | undefined)[];
    const item = block[this.#head];
    block[this.#head++] = undefined;
    this.#length--;
    if (this.#length === 0) {
      // Empty: drop the blocks; the next push starts a fresh one.
      this.#blocks.length = 0;
      this.#head = 0;
      this.#tail = BLOCK;
    } else if (this.#head === BLOCK) {
      this.#blocks.shift();
      this.#head = 0;
    }
    return item;
  }
}
