/**
 * stager.ts: a transaction's staging jobs (docs/protocol.md, "Staging"): queued in call order,
 * run by at most `concurrency` workers (never one descriptor per file at once), and the outcome
 * of each, which a write's promise reports (outcome.ts) and commit() collects (step 1: the first
 * failure fails the commit). What a job does is the transaction's (`stage`).
 *
 * A job is known once its facts are recorded (seal.ts: it calls `known` while its fsync still
 * runs) and ended once it settled. commit() may plan once every job is known (`ready`) and passes
 * a commit point only once every job ended without a failure (`idle`, then `failure`; committer.ts,
 * `sealed`). A write's promise resolves only when its job ended: a known file is not yet durable.
 */
import { codes, isTxnError, TxnError } from '../errors.js';
import { Fifo } from '../io/fifo.js';
import { PendingWrite, type OutcomeSource } from './outcome.js';
import type { StagedFacts } from './staged.js';

/** A write's promise once someone asked for it (PendingWrite), until the write settles. */
interface Waiter {
  readonly promise: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

const noop = (): void => undefined;

export interface StagerOptions<Source> {
  readonly txnId: string;
  readonly concurrency: number;
  /** Set by `stage` once a job's file is staged and closed: what makes a write staged. */
  readonly staged: StagedFacts;
  /**
   * Stage job `n` of `source` for target `rel`; it may call `known` once the file's facts are
   * recorded in `staged`, before its last step (the fsync) is done.
   */
  readonly stage: (n: number, source: Source, rel: string, known: () => void) => Promise<void>;
}

export class Stager<Source> {
  readonly #o: StagerOptions<Source>;
  /**
   * Jobs not yet taken by a worker, three slots each (staging number, source, target), so a queued
   * write costs three slots and no record.
   */
  readonly #queue = new Fifo<number | Source | string>();
  readonly #workers = new Set<Promise<void>>();
  /**
   * Workers still taking jobs. Counted down synchronously when a worker finds the queue empty (the
   * set above only learns it a microtask later), so a write issued in between starts a worker.
   */
  #active = 0;
  /** Why a write failed, by staging number (what its promise rejects with). */
  readonly #writeErrors = new Map<number, TxnError>();
  /** Promises of writes someone asked about (awaited, then-ed) before they settled. */
  readonly #waiters = new Map<number, Waiter>();
  /**
   * Jobs known (their facts recorded) that have not ended: at most one per worker, so at most
   * `concurrency` entries, whatever the number of files.
   */
  readonly #sealing = new Set<number>();
  /** Jobs queued or running that are neither known nor ended. */
  #unknown = 0;
  /** Callers of `ready()` waiting for #unknown to reach 0. */
  #readyWaiters: (() => void)[] = [];
  readonly #outcomes: OutcomeSource = {
    outcome: (n) => this.#outcome(n),
    describe: (n) => (this.#staged(n) ? 'staged' : this.#writeErrors.has(n) ? 'failed' : 'pending'),
  };
  #failure: TxnError | undefined;

  constructor(options: StagerOptions<Source>) {
    this.#o = options;
  }

  /** The first failure of any job or stream (see `fail`). */
  get failure(): TxnError | undefined {
    return this.#failure;
  }

  /** Record the first failure, wrapped; later ones add nothing. */
  fail(err: unknown, rel: string): TxnError {
    const wrapped = isTxnError(err)
      ? err
      : new TxnError(codes.ESTAGE, `Staging '${rel}' failed: ${(err as Error)?.message ?? String(err)}. Nothing was committed; fix the cause (see err.cause) and retry.`, { cause: err, path: rel, txnId: this.#o.txnId });
    this.#failure ??= wrapped;
    return wrapped;
  }

  /** Queue a job; start a worker if fewer than `concurrency` run. Its promise never goes unhandled. */
  enqueue(n: number, source: Source, rel: string): Promise<void> {
    this.#unknown++;
    this.#queue.push(n);
    this.#queue.push(source);
    this.#queue.push(rel);
    if (this.#active < this.#o.concurrency) {
      this.#active++;
      const worker: Promise<void> = this.#work().finally(() => this.#workers.delete(worker));
      this.#workers.add(worker);
    }
    return new PendingWrite(this.#outcomes, n);
  }

  /** Resolve once no worker runs (jobs queued meanwhile included). Never rejects. */
  async idle(): Promise<void> {
    while (this.#workers.size > 0) await Promise.all(this.#workers);
  }

  /**
   * Resolve once every job queued so far is known or ended (see the header): its facts are in
   * `staged`, or it failed (see `failure`). Never rejects.
   */
  ready(): Promise<void> {
    if (this.#unknown === 0) return Promise.resolve();
    return new Promise((resolve) => this.#readyWaiters.push(resolve));
  }

  /** Job `n` recorded its facts (seal.ts); it has not ended. */
  #known(n: number): void {
    if (this.#sealing.has(n)) return;
    this.#sealing.add(n);
    this.#counted();
  }

  /** One job fewer is unknown: wake `ready()` callers when none is left. */
  #counted(): void {
    this.#unknown--;
    if (this.#unknown !== 0 || this.#readyWaiters.length === 0) return;
    const waiters = this.#readyWaiters;
    this.#readyWaiters = [];
    for (const wake of waiters) wake();
  }

  /** Whether write `n` is staged: recorded, and its job ended without a failure. */
  #staged(n: number): boolean {
    return this.#o.staged.has(n) && !this.#sealing.has(n) && !this.#writeErrors.has(n);
  }

  /** The outcome of write `n` as a promise: settled now if the write has, else when it does. */
  #outcome(n: number): Promise<void> {
    if (this.#staged(n)) return Promise.resolve();
    const failed = this.#writeErrors.get(n);
    if (failed !== undefined) return Promise.reject(failed);
    let waiter = this.#waiters.get(n);
    if (waiter === undefined) {
      let resolve!: () => void;
      let reject!: (err: unknown) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      // Handled here: a failure surfaces at commit(); whoever asked has their own derived promise.
      promise.catch(noop);
      waiter = { promise, resolve, reject };
      this.#waiters.set(n, waiter);
    }
    return waiter.promise;
  }

  /** Write `n` settled: record a failure, and settle its promise if someone asked for it. */
  #settled(n: number, error: TxnError | undefined): void {
    if (!this.#sealing.delete(n)) this.#counted();
    if (error !== undefined) this.#writeErrors.set(n, error);
    if (this.#waiters.size === 0) return;
    const waiter = this.#waiters.get(n);
    if (waiter === undefined) return;
    this.#waiters.delete(n);
    if (error === undefined) waiter.resolve();
    else waiter.reject(error);
  }

  /** Stage queued jobs until none is left. Never rejects: failures go to the jobs' outcomes. */
  async #work(): Promise<void> {
    while (this.#queue.length > 0) {
      const n = this.#queue.shift() as number;
      const source = this.#queue.shift() as Source;
      const rel = this.#queue.shift() as string;
      try {
        await this.#o.stage(n, source, rel, () => this.#known(n));
        this.#settled(n, undefined);
      } catch (err) {
        this.#settled(n, this.fail(err, rel));
      }
    }
    this.#active--; // in the same synchronous step as the empty queue: no window for a lost job
  }
}
