/**
 * queue.ts: run tasks one at a time per key, in call order.
 *
 * Concurrent single-file writes to one path in one process are serialised here, so the last call
 * is the last rename and its data is what stays (write-file-atomic does the same). The place in
 * line is taken synchronously, at the call, so "call order" is exact; a task that fails does not
 * hold up the next. Across processes nothing is queued: the last rename wins, and each rename is
 * atomic, so the file is always one writer's whole data.
 *
 * Cost: one Map lookup and one promise per task; a key is forgotten as soon as its line is empty,
 * so the map holds only paths being written right now.
 */

export class KeyedQueue {
  readonly #tails = new Map<string, Promise<void>>();

  /** Run `task` after every task queued before it under `key`; settle as it settles. */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key);
    let release!: () => void;
    const tail = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.#tails.set(key, tail);
    const start = previous === undefined ? Promise.resolve() : previous;
    return start.then(task).finally(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
      release();
    });
  }

  /** How many keys have a task queued or running. */
  get size(): number {
    return this.#tails.size;
  }
}

/** The one queue every single-file write in this process takes its turn in, keyed by absolute path. */
export const fileQueue = new KeyedQueue();
