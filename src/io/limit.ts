/**
 * limit.ts: bounded concurrency.
 *
 * A 10,000-file transaction must not open 10,000 descriptors at once (EMFILE), yet fsync latency is
 * hidden only by keeping several in flight. `eachLimit` and `mapLimit` run a function over a list
 * with at most `concurrency` calls in flight (a fixed pool of workers taking the next index);
 * `settleAll` waits for every call before it rejects; `Limiter` bounds tasks that arrive one at a
 * time; `once` runs a promise-returning function at most once. O(1) per item.
 */

/**
 * Runs at most `concurrency` tasks at a time, in call order: for work that arrives one task at a
 * time rather than as a list (txnfs/s3's uploads and deletions).
 */
export class Limiter {
  readonly #concurrency: number;
  #active = 0;
  readonly #queue: Array<() => void> = [];

  constructor(concurrency: number) {
    this.#concurrency = Math.max(1, Math.floor(concurrency));
  }

  /** Run `task` when a slot is free; resolves or rejects with the task's outcome. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#active >= this.#concurrency) {
      await new Promise<void>((resolve) => this.#queue.push(resolve));
    } else {
      this.#active++;
    }
    try {
      return await task();
    } finally {
      const next = this.#queue.shift();
      // The slot passes straight to the next waiter, so #active only drops when nobody waits.
      if (next === undefined) this.#active--;
      else next();
    }
  }
}

/** What mapLimit and eachLimit walk: an array, or anything with a length and `at` (entries.ts). */
export interface Indexed<T> {
  readonly length: number;
  at(index: number): T | undefined;
}

/**
 * Apply `fn` to every item with at most `concurrency` calls in flight. Rejects with the first
 * error, but only after every started call has settled, so no call is left running behind the
 * caller's back (a cleanup that follows must not race a write still in flight).
 */
export async function mapLimit<T, R>(items: Indexed<T>, concurrency: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  await eachLimit(items, concurrency, async (item, i) => {
    results[i] = await fn(item, i);
  });
  return results;
}

/**
 * `mapLimit` without the results: for a commit's per-entry passes, where an array of 10,000
 * undefined results would only be something more for the garbage collector to copy.
 */
export async function eachLimit<T>(items: Indexed<T>, concurrency: number, fn: (item: T, index: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  let failed = false;
  let firstError: unknown;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        await fn(items.at(i) as T, i);
      } catch (err) {
        if (!failed) {
          failed = true;
          firstError = err;
        }
      }
    }
  };
  const workers: Promise<void>[] = [];
  for (let w = 0; w < Math.min(Math.max(1, concurrency), items.length); w++) workers.push(worker());
  await Promise.all(workers);
  if (failed) throw firstError;
}

/**
 * Wait for every promise to settle, then reject with the first rejection (in argument order) or
 * resolve. Unlike Promise.all, nothing is left running when it rejects: a cleanup that follows
 * must not race a write still in flight.
 */
export async function settleAll(promises: readonly Promise<unknown>[]): Promise<void> {
  const outcomes = await Promise.allSettled(promises);
  for (const o of outcomes) if (o.status === 'rejected') throw o.reason;
}

/** `fn`, called at most once: later calls return the first call's promise. */
export function once(fn: () => Promise<void>): () => Promise<void> {
  let p: Promise<void> | undefined;
  return () => {
    if (p === undefined) {
      p = fn();
      // Awaited by whoever called it; never an unhandled rejection meanwhile.
      p.catch(() => undefined);
    }
    return p;
  };
}
