// A transaction on an S3 store, with the Transaction API of a local root. Data goes to immutable
// staging keys (data/<txnId>/<n>) as soon as it is written, a few uploads at a time; commit()
// waits for every upload, then creates log entry head+1 with If-None-Match: * (the commit point).
// On 412/409 the head moved: if every path this transaction read, and every condition it declared,
// still holds at the new head, it rebases and tries the next generation (the staged keys stay
// valid: nothing overwrites them); otherwise EPRECONDITION, and nothing of it is visible.
//
// Ordering constraints, each of which the fault tests break on purpose (src/s3/faults.ts):
// - every upload finishes before the log PUT, so an entry never names a missing key;
// - the log PUT is conditional, so two writers never both own a generation;
// - a writer whose oldest upload is half the store's grace old refuses to commit, so recover()
//   (which deletes unlogged data only past the full grace) never removes data a commit names.
import { randomUUID } from 'node:crypto';
import { PassThrough, type Writable } from 'node:stream';
import { badArgument, codes, isTxnError, TxnError } from '../errors.js';
import { toSource, type WriteData } from '../transaction/data.js';
import { jsonText } from '../options/file-options.js';
import { Limiter } from '../io/limit.js';
import { checkOptionsObject, numberOption } from '../options/options.js';
import { contentVersion, type FileVersion, type ReadResult } from '../transaction/preconditions.js';
import type { TransactionState } from '../transaction/transaction.js';
import { runScoped } from '../transaction/scope.js';
import { backoffSleep, DEFAULT_MAX_RETRIES } from './backoff.js';
import { addConditions, holds, s3Version, storePath, versionOf, type Condition } from './conditions.js';
import { s3Mutated } from './faults.js';
import { dataKey } from './keys.js';
import { putEntry, writeHeadHint, type LogEntry, type Staged } from './log.js';
import { DEFAULT_PART_SIZE, MIN_PART_SIZE, stage } from './stage.js';
import type { S3Store } from './store.js';
import type { FileRef } from './tree.js';
import { awaitStream } from './streams.js';
import { requestError, stageError, type Failing } from './tx-errors.js';
import type { S3BeginOptions, S3CommitResult, S3WriteJsonOptions, S3WriteOptions } from './types.js';

export type { S3BeginOptions, S3CommitResult, S3WriteJsonOptions, S3WriteOptions } from './types.js';

const noop = (): void => undefined;

/**
 * A set of writes and removals on an S3 store that becomes visible as one generation, or not at
 * all. Create one with {@link begin}.
 */
export class S3Transaction implements AsyncDisposable {
  readonly id = randomUUID();
  readonly #store: S3Store;
  readonly #signal: AbortSignal | undefined;
  readonly #maxRetries: number;
  readonly #partSize: number;
  readonly #limiter: Limiter;
  /** Staging jobs by number; each resolves with what it staged. */
  readonly #uploads = new Map<number, Promise<Staged>>();
  /** The same jobs as the caller sees them: rejecting with ESTAGE (or EABORTED) naming the path. */
  readonly #outcomes: Promise<void>[] = [];
  /** Streams from createWriteStream(), and whether something still writes into each. */
  readonly #streams: { stream: PassThrough; rel: string; done: Promise<void>; busy: () => boolean }[] = [];
  /** path -> staging number, or null for a removal; the last operation on a path wins. */
  readonly #ops = new Map<string, number | null>();
  readonly #conditions: Condition[] = [];
  /** The generation reads see; set by the first read. */
  #base: number | undefined;
  #n = 0;
  /** Generations whose log PUT got no answer: each may hold this transaction's entry. */
  readonly #unanswered = new Set<number>();
  /** performance.now() when the first upload started (the grace check at commit). */
  #firstUpload: number | undefined;
  #state: TransactionState = 'open';
  #aborting: Promise<void> | undefined;
  readonly #onAbort = (): void => {
    if (this.#state === 'open') this.abort().catch(noop);
  };

  constructor(options: S3BeginOptions) {
    const o = checkOptionsObject(options, 'options', ['store', 'signal', 'maxRetries', 'concurrency', 'partSize']);
    const store = o.store as S3Store | undefined;
    if (typeof store !== 'object' || store === null || typeof store.current !== 'function') throw badArgument('options.store', 'a store from s3Store()', o.store);
    if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw badArgument('signal', 'an AbortSignal', o.signal);
    this.#store = store;
    this.#signal = o.signal as AbortSignal | undefined;
    this.#maxRetries = numberOption(o, 'maxRetries', DEFAULT_MAX_RETRIES, 0, 10_000, true);
    this.#partSize = numberOption(o, 'partSize', DEFAULT_PART_SIZE, MIN_PART_SIZE, 5 * 1024 ** 3, true, 'bytes');
    this.#limiter = new Limiter(numberOption(o, 'concurrency', 4, 1, 1024, true));
    this.#signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  get state(): TransactionState {
    return this.#state;
  }

  /**
   * Stage `data` as the new content of `path`. The upload starts now (a few at a time); the
   * returned promise settles when it is staged, and never rejects unhandled when ignored: a
   * failed upload fails `commit()` with ESTAGE.
   */
  write(path: string, data: WriteData, options?: S3WriteOptions): Promise<void> {
    this.#assertOpen('write');
    const rel = storePath(path, this.id);
    const source = toSource(data);
    const o = checkOptionsObject(options, 'options', ['ifUnchanged', 'exclusive']);
    addConditions(this.#conditions, rel, o);
    const n = this.#n++;
    this.#ops.set(rel, n);
    const key = dataKey(this.id, n);
    const job = this.#limiter.run(async () => {
      this.#firstUpload ??= performance.now();
      return await stage(this.#store.seam, key, source, this.#partSize, this.#signal);
    });
    job.catch(noop);
    this.#uploads.set(n, job);
    const done = job.then(noop, (err: unknown) => {
      throw this.#stageError(err, rel);
    });
    done.catch(noop);
    this.#outcomes.push(done);
    return done;
  }

  /**
   * A Writable whose bytes become the new content of `path` at commit, uploaded as they come (in
   * parts, in bounded memory). commit() waits for it while something still writes into it (a pipe,
   * buffered writes, a pipeline() waiting for it to finish); one left open with none of these
   * would never end, so it is destroyed and fails the commit with ESTAGE.
   */
  createWriteStream(path: string, options?: S3WriteOptions): Writable {
    this.#assertOpen('createWriteStream');
    const stream = new PassThrough();
    let pipes = 0;
    stream.on('pipe', () => pipes++);
    stream.on('unpipe', () => pipes--);
    const ownFinish = stream.listenerCount('finish');
    const done = this.write(path, stream, options);
    this.#streams.push({ stream, rel: storePath(path, this.id), done, busy: () => pipes > 0 || stream.writableLength > 0 || stream.listenerCount('finish') > ownFinish + 1 });
    return stream;
  }

  /** Stage `value` as JSON (with a trailing newline). */
  writeJson(path: string, value: unknown, options?: S3WriteJsonOptions): Promise<void> {
    this.#assertOpen('writeJson');
    const o = checkOptionsObject(options, 'options', ['ifUnchanged', 'exclusive', 'spaces', 'replacer']);
    const text = jsonText(value, o);
    const { spaces: _s, replacer: _r, ...writeOptions } = o;
    return this.write(path, text, writeOptions as S3WriteOptions);
  }

  /** Remove `path` at commit (a path that does not exist is not an error). */
  remove(path: string, options?: { readonly ifUnchanged?: FileVersion | undefined }): void {
    this.#assertOpen('remove');
    const rel = storePath(path, this.id);
    const o = checkOptionsObject(options, 'options', ['ifUnchanged']);
    addConditions(this.#conditions, rel, o);
    this.#ops.set(rel, null);
  }

  /** Make the commit conditional on `path` having this content version at the commit point. */
  expect(path: string, version: FileVersion): void {
    this.#assertOpen('expect');
    this.#conditions.push({ path: storePath(path, this.id), expected: s3Version(version, 'version'), via: 'expect' });
  }

  /**
   * Read `path` as of this transaction's base generation (pinned by the first read or version()),
   * with its content version. Unlike on a local root, every read is also a condition: the commit
   * fails with EPRECONDITION if the path changes before it lands (what the rebase needs to be safe).
   */
  async read(path: string): Promise<ReadResult> {
    const { rel, ref } = await this.#look('read', path);
    if (ref === undefined) return { data: undefined, version: contentVersion(undefined) };
    const data = await this.#request(`Reading '${rel}'`, rel, () => this.#store.seam.get(ref.key, this.#signal));
    if (data === undefined) {
      // recover() collects the data of generations older than the retention: if the path has
      // another version at the head, this transaction could never commit anyway.
      const now = await this.#request(`Reading the log for '${rel}'`, rel, async () => (await this.#store.current()).tree.get(rel));
      if (now?.key !== ref.key) {
        throw new TxnError(codes.EPRECONDITION, `txnfs/s3: '${rel}' changed since generation ${this.#base}, which this transaction reads, and recover() has collected that version (it is older than the store's retainGenerations = ${this.#store.retainGenerations}). Nothing of this transaction is visible; start a new one and read it again.`, { path: rel, txnId: this.id });
      }
      throw new TxnError(codes.ECORRUPT, `txnfs/s3: '${rel}' of generation ${this.#base} names the key ${ref.key}, which is missing from ${this.#store.where}; something outside txnfs deleted it. Restore the key from a backup, or write the file again.`, { path: rel, txnId: this.id });
    }
    return { data, version: versionOf(ref) };
  }

  /** The content version of `path` at this transaction's base generation, without reading it. Also a condition, as for read(). */
  async version(path: string): Promise<FileVersion> {
    return versionOf((await this.#look('version', path)).ref);
  }

  async #look(what: string, path: string): Promise<{ rel: string; ref: FileRef | undefined }> {
    this.#assertOpen(what);
    const rel = storePath(path, this.id);
    const tree = await this.#request(`Reading the log for '${rel}'`, rel, async () => {
      if (this.#base !== undefined) return await this.#store.at(this.#base);
      const head = await this.#store.head();
      const tree = await this.#store.at(head);
      this.#base = head;
      return tree;
    });
    const ref = tree.get(rel);
    this.#conditions.push({ path: rel, expected: versionOf(ref), via: 'read' });
    return { rel, ref };
  }

  /**
   * Make every change visible as one new generation, or none. Resolves with that generation.
   * Errors: ESTAGE (an upload failed, or staging outlived half the grace), EPRECONDITION (something
   * read or declared changed), ELOCKED (lost the race `maxRetries` times), EABORTED, EFS (a request
   * failed before the commit point), EINCOMPLETE (the log PUT's outcome could not be learned).
   */
  async commit(): Promise<S3CommitResult> {
    this.#assertOpen('commit');
    this.#state = 'committing';
    const started = performance.now();
    let ambiguous = false;
    try {
      this.#signal?.throwIfAborted();
      if (!s3Mutated('s3-log-before-staged')) await this.#settle();
      const changes: LogEntry['changes'] = {};
      const staged = new Map<number, Staged>();
      const pending = s3Mutated('s3-log-before-staged') ? [] : [...this.#uploads];
      for (const [n, job] of pending) staged.set(n, await job);
      let bytes = 0;
      let written = 0;
      let removed = 0;
      for (const [p, n] of this.#ops) {
        if (n === null) {
          changes[p] = null;
          removed++;
          continue;
        }
        // The mutation names the key before its upload is known to be there (and guesses the digest).
        const s = staged.get(n) ?? { key: dataKey(this.id, n), size: 0, sha256: '0'.repeat(64) };
        changes[p] = s;
        bytes += s.size;
        written++;
      }
      for (let rebases = 0; ; rebases++) {
        const head = await this.#request('Reading the head of the log', this.#store.where, () => this.#store.head());
        // A log PUT whose answer was lost may have landed: the entries it tried say so.
        const landed = await this.#request('Reading the log', this.#store.where, () => this.#landed(head));
        if (landed !== undefined) return this.#committed(landed, started, rebases, changes, { bytes, written, removed });
        // Only a commit with conditions needs the tree; a blind one needs the head alone.
        const tree = this.#conditions.length === 0 ? undefined : await this.#request('Reading the log', this.#store.where, () => this.#store.at(head));
        for (const c of this.#conditions) {
          if (!holds(c.expected, tree!.get(c.path))) {
            throw new TxnError(codes.EPRECONDITION, `txnfs/s3: '${c.path}' changed since ${c.via === 'read' ? 'this transaction read it' : `it was declared (${c.via})`}; generation ${head} of ${this.#store.where} has another version. Nothing of this transaction is visible; read it again and retry.`, { path: c.path, txnId: this.id });
          }
        }
        if (this.#ops.size === 0) return this.#committed(head, started, rebases, changes, { bytes, written, removed }, false);
        if (this.#firstUpload !== undefined && performance.now() - this.#firstUpload > this.#store.graceMs / 2) {
          throw new TxnError(codes.ESTAGE, `txnfs/s3: this transaction's first upload is older than half the store's grace (${this.#store.graceMs} ms), so recover() on another host may already be deleting its staged data. Nothing is visible; stage the data again in a new transaction, or raise graceMs on every host.`, { path: this.#store.where, txnId: this.id });
        }
        // The last moment to abort: once the PUT is sent it may land whatever we do.
        this.#signal?.throwIfAborted();
        const generation = head + 1;
        let won: boolean;
        const entry: LogEntry = { generation, txnId: this.id, changes };
        try {
          won = await putEntry(this.#store.seam, entry);
        } catch (err) {
          // No answer (a reset, a 5xx): the entry may or may not be there. Never report failure,
          // and never delete staged data, until the log has been read again (next round).
          ambiguous = true;
          this.#unanswered.add(generation);
          if (rebases >= this.#maxRetries) throw err;
          await backoffSleep(rebases);
          continue;
        }
        if (won) {
          this.#store.learn(entry);
          return this.#committed(generation, started, rebases, changes, { bytes, written, removed });
        }
        if (rebases >= this.#maxRetries) {
          throw new TxnError(codes.ELOCKED, `txnfs/s3: lost the race for a generation ${rebases + 1} times on ${this.#store.where}; nothing is visible. Retry later or raise maxRetries.`, { path: this.#store.where, txnId: this.id });
        }
        // Jitter spreads the losers so they do not collide again on the same next generation.
        await backoffSleep(rebases);
      }
    } catch (err) {
      this.#state = 'failed';
      this.#detach();
      if (ambiguous && !(isTxnError(err) && err.code === codes.EPRECONDITION)) {
        throw new TxnError(codes.EINCOMPLETE, `txnfs/s3: the log PUT of transaction ${this.id} got no answer and the log could not be read back; it may or may not be committed. Its staged data is kept: open a snapshot later and look for its changes, or run recover() after the grace.`, { cause: err, path: this.#store.where, txnId: this.id });
      }
      // Known not committed: its staged keys are garbage now (recover() removes what this misses).
      // After a PUT without an answer, that PUT may still land late and name them: keep them then.
      if (!ambiguous) await this.#removeStaged(new Set()).catch(noop);
      throw this.#wrap(err);
    }
  }

  async #committed(generation: number, started: number, rebases: number, changes: LogEntry['changes'], counts: { bytes: number; written: number; removed: number }, wrote = true): Promise<S3CommitResult> {
    const warnings: string[] = [];
    if (wrote) await writeHeadHint(this.#store.seam, generation);
    // After the commit point and never part of it: a checkpoint that fails only makes readers
    // read more entries (they fall back to the previous one).
    const every = this.#store.checkpointEvery;
    if (wrote && every > 0 && generation % every === 0) {
      await this.#store.checkpoint(generation).catch((err: unknown) => warnings.push(`the checkpoint of generation ${generation} was not written (readers read more entries until the next one): ${(err as Error).message}`));
    }
    this.#state = 'committed';
    this.#detach();
    // A path written twice staged two keys; the log names the last. The first is garbage.
    const used = new Set(Object.values(changes).flatMap((c) => (c === null ? [] : [c.key])));
    await this.#removeStaged(used).catch((err: unknown) => warnings.push(`unused staged data of ${this.id} was left for recover(): ${(err as Error).message}`));
    return { id: this.id, generation, entries: this.#ops.size, ...counts, rebases, durationMs: performance.now() - started, warnings };
  }

  /** The generation at or below `head` that a log PUT without an answer created, if one did. */
  async #landed(head: number): Promise<number | undefined> {
    for (const g of [...this.#unanswered].sort((a, b) => a - b)) {
      if (g > head) continue; // not there yet: a later round looks again
      const [entry] = await this.#store.entries(g - 1, g);
      if (entry?.txnId === this.id) return g;
      this.#unanswered.delete(g); // another writer's: an entry is never replaced
    }
    return undefined;
  }

  /** Abort: nothing reaches the log; staged keys are deleted (recover() sweeps what a crash leaves). */
  async abort(): Promise<void> {
    if (this.#aborting !== undefined) return this.#aborting;
    if (this.#state === 'aborted' || this.#state === 'failed') return;
    if (this.#state !== 'open') {
      throw new TxnError(codes.ESTATE, `txnfs/s3: cannot abort transaction ${this.id}: it is ${this.#state}; only an open transaction can be aborted. Use the outcome of commit() instead.`, { path: this.#store.where, txnId: this.id });
    }
    this.#state = 'aborting';
    this.#aborting = (async () => {
      try {
        await this.#settle();
        await this.#removeStaged(new Set());
      } catch (err) {
        throw new TxnError(codes.EFS, `txnfs/s3: aborting ${this.id} could not delete its staged data (${(err as Error).message}); nothing was committed. Run recover() after the grace to remove it.`, { cause: err, path: this.#store.where, txnId: this.id });
      } finally {
        this.#state = 'aborted';
        this.#detach();
      }
    })();
    return this.#aborting;
  }

  /** `await using tx = begin({ store })`: aborts if the scope ends before commit(). */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#state === 'open') await this.abort();
  }

  /** Wait for every upload; the first failure as ESTAGE. */
  async #settle(): Promise<void> {
    for (const t of this.#streams) await awaitStream(t, this.id);
    const results = await Promise.allSettled(this.#outcomes);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  }

  /** Delete this transaction's staged keys that `keep` does not name. */
  async #removeStaged(keep: ReadonlySet<string>): Promise<void> {
    const keys = [...this.#uploads.keys()].map((n) => dataKey(this.id, n)).filter((k) => !keep.has(k));
    const limiter = new Limiter(8);
    await Promise.all(keys.map((k) => limiter.run(() => this.#store.seam.delete(k))));
  }




  /** Run an S3 request on behalf of `what`; a failure before the commit point is EFS. */
  async #request<T>(what: string, path: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.#wrap(err, `${what} failed`, path);
    }
  }

  #stageError(err: unknown, path: string): Error {
    return stageError(err, path, this.#failing());
  }

  #wrap(err: unknown, what?: string, path?: string): Error {
    return requestError(err, this.#failing(), what, path);
  }

  #failing(): Failing {
    return { txnId: this.id, where: this.#store.where, aborted: this.#signal?.aborted === true };
  }

  #detach(): void {
    this.#signal?.removeEventListener('abort', this.#onAbort);
  }

  #assertOpen(what: string): void {
    if (this.#state !== 'open') {
      throw new TxnError(codes.ESTATE, `txnfs/s3: cannot ${what}: transaction ${this.id} is ${this.#state}. Start a new one with begin().`, { path: this.#store.where, txnId: this.id });
    }
  }
}

/** Start a transaction on an S3 store. Synchronous: no request is sent until the first write or read. */
export function begin(options: S3BeginOptions): S3Transaction {
  return new S3Transaction(options);
}

/** Run `fn` with a new transaction; commit when it returns, abort when it throws. */
export async function transaction<T>(options: S3BeginOptions, fn: (tx: S3Transaction) => T | Promise<T>): Promise<T> {
  if (typeof fn !== 'function') throw badArgument('fn', 'a function', fn);
  return runScoped(begin(options), fn);
}
