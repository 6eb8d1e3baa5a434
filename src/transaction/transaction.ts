/**
 * transaction.ts: the Transaction, the public facade. Each call checks the state and its
 * arguments here, then hands the work to the module that does it, passing the transaction's state
 * (TxState, state.ts) explicitly. What each call does, for its users, is the TSDoc of the interface
 * it implements (TransactionApi, api.ts), which its methods inherit:
 *
 *   open ──commit()──▶ committing ──▶ committed
 *     │                    └──────────▶ failed      (rejected; staging removed or left to recover())
 *     └──abort()/signal──▶ aborting ──▶ aborted
 *
 * Staging (docs/protocol.md, "Staging") happens outside any lock, in the background: the first
 * call makes the home, owner lock and staging dir (setup.ts); each write, adopt, copy or rename
 * is a job queued in call order and run by at most `concurrency` workers (stager.ts), which writes,
 * moves or clones one file into `files/<n>` (jobs.ts; streams: stream.ts) and seals it (seal.ts,
 * the one fsync of a staged file). A write's failure is recorded and surfaces at commit(); the
 * promise write() returns (outcome.ts) is always handled, so ignoring it never produces an
 * unhandled rejection. Per operation the transaction keeps a log slot (target, staging number or
 * DELETE; oplog.ts) and, once staged, five numbers (staged.ts). Conditions and the looks of
 * read()/version() are conditions.ts; tree operations are recorded here and planned by tree.ts.
 *
 * commit() runs steps 1-10 of docs/protocol.md, "Commit" (committer.ts, which names the module of
 * each step); abort() removes what was staged (setup.ts), nothing else.
 */
import { resolve as resolvePath } from 'node:path';
import type { Writable } from 'node:stream';
import { nameId } from '../ids.js';
import * as fs from '../io/fs.js';
import { badArgument, codes, TxnError } from '../errors.js';
import { jsonText } from '../options/file-options.js';
import { checkOptionsObject, encodingOption, modeOption, type ResolvedCommon } from '../options/options.js';
import { tempDirOf } from '../protocol/layout.js';
import type { GenerationsOptions } from '../generations/setup.js';
import { runCommit, quiesce } from './committer.js';
import { addConditions, readNow, versionNow } from './conditions.js';
import { toEncodedSource, type WriteData } from './data.js';
import { stageJob } from './jobs.js';
import { checkTarget } from './paths.js';
import { DELETE } from './planner.js';
import { checkVersion, type FileVersion, type ReadResult } from './preconditions.js';
import { discardSetup } from './setup.js';
import { markLone } from './lone.js';
import { addOp, newTxState, setupOnce, stillStaging, type TxState } from './state.js';
import { stagingStream } from './stream.js';
import { dirArgument, type TreeOp } from './tree.js';
import type { TransactionApi } from './api.js';
import type { CommitResult, RemoveOptions, TransactionState, WriteJsonOptions, WriteOptions } from './types.js';
// For the {@link} references of the documentation.
import type { begin } from './begin.js';

export type { BeginOptions, CommitResult, RemoveOptions, TransactionState, WriteJsonOptions, WriteOptions } from './types.js';

const noop = (): void => undefined;

/**
 * A set of file writes and removals that land together or not at all. Create one with
 * {@link begin}.
 *
 * @example
 * ```ts
 * const tx = begin({ dir: 'out' });
 * tx.write('a.json', JSON.stringify(a));
 * tx.write('b.csv', rows);
 * tx.remove('stale.csv');
 * await tx.commit(); // all three changes, or none
 * ```
 */
export class Transaction implements TransactionApi {
  /** Unique id; the staging dir is `<dir>/.txnfs/.txn-<id>`. */
  readonly id: string;
  /** The root, as an absolute path. */
  readonly dir: string;
  /** Everything else the transaction keeps, passed to the modules that do the work (state.ts). */
  readonly #tx: TxState;
  #abortedBySignal = false;
  #nextStaged = 0;
  #temp: Promise<string> | undefined;
  #aborting: Promise<void> | undefined;

  /** @internal Use {@link begin}. */
  constructor(dir: string, options: ResolvedCommon, generations?: GenerationsOptions, warnUnsafeFs = false) {
    this.id = nameId(12);
    this.dir = dir;
    this.#tx = newTxState({ id: this.id, dir, o: options, gen: generations, warnUnsafeFs }, stageJob);
    const signal = options.signal;
    if (signal !== undefined) {
      const onAbort = (): void => {
        if (this.#tx.state !== 'open') return;
        this.#abortedBySignal = true;
        this.abort().catch(noop);
      };
      if (signal.aborted) this.#abortedBySignal = true;
      else {
        signal.addEventListener('abort', onAbort, { once: true });
        // Detached once the transaction ends: a long-lived signal shared by many transactions
        // must not collect a listener per transaction.
        this.#tx.detachSignal = () => signal.removeEventListener('abort', onAbort);
      }
    }
  }

  /** Where the transaction is in its life. */
  get state(): TransactionState {
    return this.#tx.state;
  }

  #assertOpen(what: string): void {
    if (this.#abortedBySignal) {
      throw new TxnError(codes.EABORTED, `Cannot ${what}: transaction ${this.id} in '${this.dir}' was aborted by its AbortSignal; nothing was committed. Start a new transaction with begin() if the work is still wanted.`, { txnId: this.id, cause: this.#tx.o.signal?.reason });
    }
    if (this.#tx.state !== 'open') {
      throw new TxnError(codes.ESTATE, `Cannot ${what}: transaction ${this.id} in '${this.dir}' is ${this.#tx.state}. A transaction is used once; start a new one with begin().`, { txnId: this.id });
    }
  }

  write(path: string, data: WriteData, options?: WriteOptions): Promise<void> {
    this.#assertOpen('write');
    const target = checkTarget(this.dir, path);
    const o = checkOptionsObject(options, 'options', writeDataKeys);
    const source = toEncodedSource(data, encodingOption(o.encoding, 'utf8'));
    const mode = modeOption(o.mode);
    addConditions(this.#tx, target, o);
    const staged = this.#nextStaged++;
    addOp(this.#tx, target.rel, staged, mode);
    markLone(this.#tx, staged, target.rel);
    return this.#tx.stager.enqueue(staged, 'bytes' in source ? source.bytes : source, target.rel);
  }

  writeJson(path: string, value: unknown, options?: WriteJsonOptions): Promise<void> {
    this.#assertOpen('writeJson');
    const o = checkOptionsObject(options, 'options', [...writeDataKeys, 'spaces', 'replacer']);
    const text = jsonText(value, o);
    const { spaces: _spaces, replacer: _replacer, ...writeOptions } = o;
    return this.write(path, text, writeOptions as WriteOptions);
  }

  tempDir(): Promise<string> {
    this.#assertOpen('tempDir');
    if (this.#temp === undefined) {
      this.#temp = (async () => {
        const setup = await setupOnce(this.#tx);
        const dir = tempDirOf(setup.staging.dir);
        await fs.mkdir(dir);
        return dir;
      })();
    }
    return this.#temp;
  }

  adopt(path: string, file: string, options?: Omit<WriteOptions, 'encoding'>): Promise<void> {
    this.#assertOpen('adopt');
    const target = checkTarget(this.dir, path);
    if (typeof file !== 'string' || file.length === 0 || file.includes('\0')) throw badArgument('file', 'a non-empty path string', file);
    const o = checkOptionsObject(options, 'options', ['mode']);
    const mode = modeOption(o.mode);
    const staged = this.#nextStaged++;
    addOp(this.#tx, target.rel, staged, mode);
    return this.#tx.stager.enqueue(staged, { adopt: resolvePath(file) }, target.rel);
  }



  copy(from: string, to: string, options?: Pick<WriteOptions, 'mode' | 'ifUnchanged' | 'exclusive'>): Promise<void> {
    this.#assertOpen('copy');
    return this.#clone('copy', from, to, options);
  }

  rename(from: string, to: string, options?: Pick<WriteOptions, 'mode' | 'ifUnchanged' | 'exclusive'>): Promise<void> {
    this.#assertOpen('rename');
    return this.#clone('rename', from, to, options);
  }

  move(from: string, to: string, options?: Pick<WriteOptions, 'mode' | 'ifUnchanged' | 'exclusive'>): Promise<void> {
    this.#assertOpen('move');
    return this.#clone('rename', from, to, options);
  }

  #clone(what: 'copy' | 'rename', from: string, to: string, options: unknown): Promise<void> {
    const source = checkTarget(this.dir, from);
    const target = checkTarget(this.dir, to);
    if (source.rel === target.rel) {
      throw new TxnError(codes.EBADPATH, `Cannot ${what} '${from}' to itself. Pass two different paths.`, { path: from, txnId: this.id });
    }
    if (this.#tx.ops.has(source.rel)) {
      throw new TxnError(codes.EBADPATH, `Cannot ${what} '${from}': this transaction already writes or removes it, and its staged content is not on disk yet. Write that content to '${to}' too, or ${what} before changing '${from}'.`, { path: from, txnId: this.id });
    }
    const o = checkOptionsObject(options, 'options', writeKeys);
    const mode = modeOption(o.mode);
    addConditions(this.#tx, target, o);
    const staged = this.#nextStaged++;
    addOp(this.#tx, target.rel, staged, mode);
    if (what === 'rename') addOp(this.#tx, source.rel, DELETE, undefined);
    return this.#tx.stager.enqueue(staged, { clone: source, rename: what === 'rename' }, target.rel);
  }

  remove(path: string, options?: RemoveOptions): void {
    this.#assertOpen('remove');
    const target = checkTarget(this.dir, path);
    const o = checkOptionsObject(options, 'options', ['ifUnchanged']);
    addConditions(this.#tx, target, o);
    addOp(this.#tx, target.rel, DELETE, undefined);
    setupOnce(this.#tx); // the owner lock and staging dir now (more than a lone file: lone.ts); errors surface at commit()
  }

  // mkdir, removeTree, emptyDir: recorded here, planned at commit by src/transaction/tree.ts.

  mkdir(path: string): void {
    this.#treeOp('mkdir', path);
  }

  removeTree(path: string): void {
    this.#treeOp('removeTree', path);
  }

  emptyDir(path: string): void {
    this.#treeOp('emptyDir', path);
  }

  #treeOp(op: TreeOp['op'], path: string): void {
    this.#assertOpen(op);
    if (this.#tx.gen !== undefined) {
      throw new TxnError(codes.ETARGET, `tx.${op}() is not available in the generations layout: a generation holds exactly the files the transaction writes (write the files you want; the others are not carried over unless written). Use the in-place layout for directory operations.`, { path, txnId: this.id });
    }
    const target = checkTarget(this.dir, dirArgument(path));
    this.#tx.treeOps.push({ op, rel: target.rel });
    setupOnce(this.#tx); // the owner lock and staging dir now (more than a lone file: lone.ts); errors surface at commit()
  }

  createWriteStream(path: string, options?: WriteOptions): Writable {
    this.#assertOpen('createWriteStream');
    const target = checkTarget(this.dir, path);
    const o = checkOptionsObject(options, 'options', writeDataKeys);
    const encoding = encodingOption(o.encoding, 'utf8');
    const mode = modeOption(o.mode);
    addConditions(this.#tx, target, o);
    const n = this.#nextStaged++;
    addOp(this.#tx, target.rel, n, mode);
    const tracked = stagingStream({ setup: () => setupOnce(this.#tx), stillStaging: () => stillStaging(this.#tx), staged: this.#tx.staged, durable: this.#tx.o.durable }, n, mode, encoding, target.rel);
    this.#tx.streams.push(tracked);
    return tracked.stream;
  }

  expect(path: string, version: FileVersion): void {
    this.#assertOpen('expect');
    const target = checkTarget(this.dir, path);
    this.#tx.conditions.push({ target, expected: checkVersion(version, 'version'), via: 'expect' });
  }

  async read(path: string): Promise<ReadResult> {
    this.#assertOpen('read');
    return readNow(this.#tx, checkTarget(this.dir, path));
  }

  async version(path: string): Promise<FileVersion> {
    this.#assertOpen('version');
    return versionNow(this.#tx, checkTarget(this.dir, path));
  }

  async commit(): Promise<CommitResult> {
    // Aborted by its signal: the rejection below comes only once the abort it started has removed
    // what was staged, so that a caller (or its recover()) never meets that abort half-way.
    if (this.#abortedBySignal) await this.#aborting?.catch(noop);
    this.#assertOpen('commit');
    return runCommit(this.#tx);
  }

  async abort(): Promise<void> {
    // A call while an abort is under way (one an AbortSignal started, say) waits for it, so a
    // resolved abort() always means the staging dir is gone.
    if (this.#aborting !== undefined) return this.#aborting;
    if (this.#tx.state === 'aborted' || this.#tx.state === 'failed') return;
    if (this.#tx.state !== 'open') {
      throw new TxnError(codes.ESTATE, `Cannot abort: transaction ${this.id} in '${this.dir}' is ${this.#tx.state}; only an open transaction can be aborted. Use the outcome of commit() instead.`, { txnId: this.id });
    }
    this.#aborting = this.#abortOpen();
    return this.#aborting;
  }

  async #abortOpen(): Promise<void> {
    this.#tx.state = 'aborting';
    try {
      await quiesce(this.#tx);
      await discardSetup(this.#tx);
    } catch (err) {
      throw new TxnError(codes.EFS, `Aborting transaction ${this.id} in '${this.dir}' could not remove its staging dir (${(err as Error).message}); nothing was committed. Run recover('${this.dir}') once the cause is fixed to remove it.`, { cause: err, txnId: this.id });
    } finally {
      this.#tx.state = 'aborted';
      this.#tx.detachSignal();
    }
  }

  /**
   * `await using tx = begin(...)`: aborts the transaction if it was not committed when the scope
   * ends (an exception, an early return). Does nothing after commit() or abort().
   *
   * @example
   * ```ts
   * {
   *   await using tx = begin({ dir: 'out' });
   *   tx.write('a.json', await build()); // if build() throws, the transaction is aborted here
   *   await tx.commit();
   * }
   * ```
   */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#tx.state === 'open') await this.abort();
  }
}

const writeKeys = ['mode', 'ifUnchanged', 'exclusive'] as const;
/** Options of the calls that take data (strings among it): adopt() takes a file, so no encoding. */
const writeDataKeys = [...writeKeys, 'encoding'] as const;
