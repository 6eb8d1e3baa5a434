/**
 * outcome.ts: the promise `tx.write()` returns, settled only if someone asks for it.
 *
 * A transaction of 100,000 files queues 100,000 writes before the first is staged, and the
 * documented use ignores what write() returns (`tx.write(...)` without await). An ordinary promise
 * per write keeps the promise and its two resolving functions alive until the write is staged:
 * about 240 bytes each, for every queued write, whether anybody looks or not.
 *
 * A `PendingWrite` is a real Promise (instanceof, await, then/catch/finally, Promise.all all work),
 * but it carries only its source and key. Its outcome lives in the transaction's compact records
 * (staged or failed) and is looked up when `then` is first called, which is what `await`,
 * `catch`, `finally` and the Promise combinators all do. Only then is an ordinary promise made,
 * settled when the write is. A PendingWrite nobody keeps costs nothing after the call returns.
 *
 * The base promise (the object itself) never settles, so it can never be an unhandled rejection;
 * `Symbol.species` is Promise, so everything derived from it is an ordinary promise.
 */

/** Where a PendingWrite looks up its outcome. */
export interface OutcomeSource {
  /** A promise of the outcome of `key`: settled already, or when the write is. */
  outcome(key: number): Promise<void>;
  /** For util.inspect: 'pending', 'staged' or 'failed'. */
  describe(key: number): string;
}

const noop = (): void => undefined;

/** What `write()` returns: a Promise whose outcome is looked up on the first `then`. */
export class PendingWrite extends Promise<void> {
  static override get [Symbol.species](): PromiseConstructor {
    return Promise;
  }

  readonly #source: OutcomeSource;
  readonly #key: number;

  constructor(source: OutcomeSource, key: number) {
    super(noop);
    this.#source = source;
    this.#key = key;
  }

  override then<A = void, B = never>(
    onFulfilled?: ((value: void) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.#source.outcome(this.#key).then(onFulfilled, onRejected);
  }

  /** util.inspect shows the write's state, not the base promise's (which never settles). */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `PendingWrite { <${this.#source.describe(this.#key)}> }`;
  }
}
