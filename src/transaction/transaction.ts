/**
 * transaction.ts: the Transaction, the public facade. Each call checks the state and its
 * arguments here, then hands the work to the module that does it, passing the transaction's state
 * (TxState, state.ts) explicitly:
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
import { nanoid } from 'nanoid';
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
import { addOp, newTxState, setupOnce, stillStaging, type TxState } from './state.js';
import { stagingStream } from './stream.js';
import { dirArgument, type TreeOp } from './tree.js';
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
export class Transaction implements AsyncDisposable {
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
    this.id = nanoid(12).replace(/^[-_]/, 'x');
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

  /**
   * Stage `data` as the new content of `path` (relative to the root, or absolute inside it). The
   * data is written to the staging dir at once, in the background; the target changes only at
   * commit(). The returned promise may be ignored: a failure surfaces at commit().
   *
   * Throws at once (nothing staged) for a bad path (TxnError `EBADPATH`), data of a wrong type
   * (TypeError) or a transaction that is no longer open (`ESTATE`).
   *
   * @example
   * ```ts
   * tx.write('report.json', JSON.stringify(report));
   * tx.write('big.csv', fs.createReadStream('/tmp/big.csv'));
   * tx.write('secret.key', key, { mode: 0o600 });
   * ```
   */
  write(path: string, data: WriteData, options?: WriteOptions): Promise<void> {
    this.#assertOpen('write');
    const target = checkTarget(this.dir, path);
    const o = checkOptionsObject(options, 'options', writeDataKeys);
    const source = toEncodedSource(data, encodingOption(o.encoding, 'utf8'));
    const mode = modeOption(o.mode);
    addConditions(this.#tx, target, o);
    const staged = this.#nextStaged++;
    addOp(this.#tx, target.rel, staged, mode);
    return this.#tx.stager.enqueue(staged, 'bytes' in source ? source.bytes : source, target.rel);
  }

  /**
   * Stage `value` as JSON (with a trailing newline).
   * @example
   * ```ts
   * tx.writeJson('manifest.json', { files, at: Date.now() }, { spaces: 2 });
   * ```
   */
  writeJson(path: string, value: unknown, options?: WriteJsonOptions): Promise<void> {
    this.#assertOpen('writeJson');
    const o = checkOptionsObject(options, 'options', [...writeDataKeys, 'spaces', 'replacer']);
    const text = jsonText(value, o);
    const { spaces: _spaces, replacer: _replacer, ...writeOptions } = o;
    return this.write(path, text, writeOptions as WriteOptions);
  }

  /**
   * A private directory of this transaction, on the same filesystem as the root, where another
   * program can write files for {@link Transaction.adopt} to commit by rename, without copying a
   * byte. It lives inside the staging dir (`.txnfs/.txn-<id>/tmp`), so it goes away with the
   * transaction: at commit, at abort, and in `recover()` after a crash. Created on the first call;
   * later calls return the same path.
   *
   * @example
   * ```ts
   * const tx = begin({ dir: 'site' });
   * const tmp = await tx.tempDir();
   * execFileSync('convert', ['logo.svg', path.join(tmp, 'logo.png')]);
   * tx.adopt('img/logo.png', path.join(tmp, 'logo.png'));
   * await tx.commit();
   * ```
   */
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

  /**
   * Stage an existing file as the new content of `path`, by moving it into the staging dir: one
   * rename, no byte copied, whatever its size. Made for files another program wrote, typically
   * into {@link Transaction.tempDir}.
   *
   * The file is moved at once, in the background: from then on it belongs to the transaction, and
   * it goes away with it if the transaction is aborted or fails. As with `write()`, the returned
   * promise may be ignored: a failure surfaces at commit() and the root is left unchanged.
   *
   * `file` (absolute, or relative to the current directory) must be a regular file with one link
   * (another hard link could change the committed file behind txnfs's back), on the same
   * filesystem as the root's `.txnfs/` (else `ECROSSDEV`), and outside the root or inside this
   * transaction's `tempDir()` (moving any other file of the root would change the root outside
   * the transaction). Otherwise the commit fails with `ESTAGE` and the file is not moved. With
   * durability 'full' the file is fsynced before the commit point, since the program that wrote
   * it may not have. Modes follow `write()`: an existing target keeps its mode unless
   * `options.mode` is given; a new target gets the file's own mode.
   *
   * @example
   * ```ts
   * const tmp = await tx.tempDir();
   * await pipeline(download(url), fs.createWriteStream(`${tmp}/data.bin`));
   * tx.adopt('data.bin', `${tmp}/data.bin`);
   * await tx.commit();
   * ```
   */
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



  /**
   * Stage a copy of the file `from` (a path in the root, as for `write()`) as the new content of
   * `to`: a copy-on-write clone where the filesystem makes one (btrfs, XFS: no byte copied), a
   * byte copy elsewhere. `to` gets the content `from` has when it is staged (at once, in the
   * background); it lands at commit, all-or-nothing with the rest. Modes follow `write()`: an
   * existing `to` keeps its mode unless `options.mode` is given, a new one gets `from`'s mode.
   *
   * Throws at once for a bad path (`EBADPATH`), `from` equal to `to`, or a `from` this
   * transaction already writes or removes (its staged content is not what is on disk: write
   * that content to both instead). A `from` that is missing, not a regular file, or changing
   * while it is copied fails the commit (`ESTAGE`, `ETARGET`); the returned promise may be ignored.
   *
   * @example
   * ```ts
   * tx.copy('templates/index.html', 'site/index.html');
   * await tx.commit();
   * ```
   */
  copy(from: string, to: string, options?: Pick<WriteOptions, 'mode' | 'ifUnchanged' | 'exclusive'>): Promise<void> {
    this.#assertOpen('copy');
    return this.#clone('copy', from, to, options);
  }

  /**
   * Move the file `from` to `to` in this transaction (alias: {@link Transaction.move}): at commit
   * `to` holds what `from` held and `from` is gone, together with every other change, or nothing
   * changes. It is a copy (see {@link Transaction.copy}: a copy-on-write clone where possible)
   * plus a `remove(from)` in the same commit, conditioned on `from` still being the very file that
   * was copied (inode, size, mtime): if another writer changed `from` meanwhile, the commit fails
   * with `EPRECONDITION` and nothing changes, so a newer `from` is never lost. Throws at once as
   * `copy()` does.
   *
   * @example
   * ```ts
   * tx.rename('out/report.tmp.csv', 'out/report.csv');
   * tx.write('out/index.json', index);
   * await tx.commit(); // both, or neither
   * ```
   */
  rename(from: string, to: string, options?: Pick<WriteOptions, 'mode' | 'ifUnchanged' | 'exclusive'>): Promise<void> {
    this.#assertOpen('rename');
    return this.#clone('rename', from, to, options);
  }

  /**
   * {@link Transaction.rename}, under the name fs-extra uses.
   *
   * @example
   * ```ts
   * tx.move('incoming/batch-7.csv', 'archive/batch-7.csv');
   * await tx.commit();
   * ```
   */
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

  /**
   * Stage a file removal. Removing a file that does not exist at commit is not an error (like
   * `rm -f`); removing a directory is (`ETARGET`).
   *
   * @example
   * ```ts
   * tx.write('report-2024.csv', csv);
   * tx.remove('report-2023.csv'); // the new report appears and the old one goes, together
   * await tx.commit();
   * ```
   */
  remove(path: string, options?: RemoveOptions): void {
    this.#assertOpen('remove');
    const target = checkTarget(this.dir, path);
    const o = checkOptionsObject(options, 'options', ['ifUnchanged']);
    addConditions(this.#tx, target, o);
    addOp(this.#tx, target.rel, DELETE, undefined);
    setupOnce(this.#tx); // take the owner lock early, as for writes; errors surface at commit()
  }

  // mkdir, removeTree, emptyDir: recorded here, planned at commit by src/transaction/tree.ts.

  /**
   * Create the directory `path` (and its missing parents) at commit, like `fs.mkdir(path,
   * { recursive: true })` or fs-extra's `ensureDir`. An existing directory is left as it is; a
   * file or symlink on the way fails the commit (`ETARGET`). A rollback removes only what this
   * commit created. Not in the generations layout (`ETARGET` at the call).
   *
   * @example
   * ```ts
   * tx.mkdir('uploads/2026'); // exists after the commit, even though no file is written in it
   * await tx.commit();
   * ```
   */
  mkdir(path: string): void {
    this.#treeOp('mkdir', path);
  }

  /**
   * Remove the directory `path` and everything in it at commit, all-or-nothing with the rest of
   * the transaction (like `rm -rf` or fs-extra's `remove`). A missing `path` is not an error.
   * Each file is removed like {@link Transaction.remove} (backed up, restored by a rollback or by
   * recover() before the commit point), and the directories go once their files are gone.
   * Fails the commit with `ETARGET` when `path` is a file (use remove()), when the tree holds a
   * symlink, FIFO, socket or device, or when this transaction also writes or mkdirs inside it
   * (use {@link Transaction.emptyDir} to replace a tree's content). Not in the generations layout.
   * A `.txnfs` directory inside the tree (the records of a nested root or of writeFile) is never
   * touched, so the directory holding it stays.
   *
   * @example
   * ```ts
   * tx.write('reports/2026/summary.csv', csv);
   * tx.removeTree('reports/2019'); // the old year goes as the new summary lands
   * await tx.commit();
   * ```
   */
  removeTree(path: string): void {
    this.#treeOp('removeTree', path);
  }

  /**
   * Make the directory `path` hold exactly the files this transaction writes under it: every
   * other file in the tree, and every directory left empty, is removed at commit, in the same
   * all-or-nothing commit (the library form of `txnfs exec --delete-missing`; fs-extra's
   * `emptyDir` followed by the writes). The order of the calls does not matter: writes made
   * before or after emptyDir() are kept. `path` itself stays (it is created when missing). The
   * tree is listed at commit, under the root lock. Fails the commit with `ETARGET` when `path` is
   * a file, or the tree holds a symlink, FIFO, socket or device. Not in the generations layout.
   *
   * @example
   * ```ts
   * tx.emptyDir('site');
   * for (const [name, html] of pages) tx.write(`site/${name}`, html);
   * await tx.commit(); // site/ holds exactly `pages`: stale pages are gone, all at once
   * ```
   */
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
    setupOnce(this.#tx); // take the owner lock early, as for writes; errors surface at commit()
  }

  /**
   * A Writable whose bytes become the new content of `path` at commit. commit() waits for the
   * stream to finish while something still writes into it (a pipe, a write in flight, a pending
   * pipeline()); a stream that errored, or will never end, fails the commit (ESTAGE). Streams are not
   * counted against `concurrency`: each holds one descriptor from its first write to its end.
   *
   * @example
   * ```ts
   * await pipeline(source, tx.createWriteStream('export.ndjson'));
   * await tx.commit();
   * ```
   */
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

  /**
   * Make the commit conditional on `path` still being as `version` describes (from `tx.read()` or
   * `tx.version()`, or `{ exists: false }` for "must not exist"). The path need not be written by
   * this transaction: use it for an input the outputs were derived from. Checked under the root
   * lock before the commit point; a mismatch fails the commit with `EPRECONDITION`, nothing changed.
   *
   * @example
   * ```ts
   * const config = await tx.read('config.json');
   * tx.expect('config.json', config.version); // outputs below were derived from this config
   * tx.write('build/out.js', compile(config.data));
   * await tx.commit();
   * ```
   */
  expect(path: string, version: FileVersion): void {
    this.#assertOpen('expect');
    const target = checkTarget(this.dir, path);
    this.#tx.conditions.push({ target, expected: checkVersion(version, 'version'), via: 'expect' });
  }

  /**
   * Read `path` (inside the root) as it is now, with a content version to pass back as
   * `ifUnchanged` or to `expect()`. A missing file gives `data: undefined` and `{ exists: false }`.
   * The read takes no lock: it is the commit that checks, under the root lock, that the file still
   * has these bytes.
   *
   * @example
   * ```ts
   * // Two workers incrementing one counter never lose an update: the slower one gets
   * // EPRECONDITION and retries with a fresh read.
   * for (;;) {
   *   const tx = begin({ dir: 'state' });
   *   const { data, version } = await tx.read('counter.json');
   *   const n = data === undefined ? 0 : (JSON.parse(data.toString()) as { n: number }).n;
   *   tx.writeJson('counter.json', { n: n + 1 }, { ifUnchanged: version });
   *   try {
   *     await tx.commit();
   *     break;
   *   } catch (err) {
   *     if (!isTxnError(err) || err.code !== codes.EPRECONDITION) throw err;
   *   }
   * }
   * ```
   */
  async read(path: string): Promise<ReadResult> {
    this.#assertOpen('read');
    return readNow(this.#tx, checkTarget(this.dir, path));
  }

  /**
   * The identity version of `path` now (device, inode, size, mtime; no content read), to pass back
   * as `ifUnchanged` or to `expect()`. Cheaper than `read()` for large files; see
   * {@link FileVersion} for what it cannot see.
   *
   * @example
   * ```ts
   * // Replace a large file only if nobody replaced it since we looked at it.
   * const version = await tx.version('data.parquet');
   * tx.write('data.parquet', fs.createReadStream('/tmp/data.parquet'), { ifUnchanged: version });
   * await tx.commit(); // EPRECONDITION if it changed meanwhile
   * ```
   */
  async version(path: string): Promise<FileVersion> {
    this.#assertOpen('version');
    return versionNow(this.#tx, checkTarget(this.dir, path));
  }

  /**
   * Make every staged change visible, all together, or none of them.
   *
   * Resolves once the changes are applied and (with durability 'full') durable. Rejects with a
   * TxnError: `ESTAGE` (a write failed), `EBADPATH`/`ETARGET`/`ECROSSDEV` (a target cannot be
   * applied), `ELOCKED`, `ECOMPROMISED`, `ECORRUPT` (a corrupt journal blocks this root), `EFS`
   * (before the commit point): in all of these, nothing changed. `EAPPLY`: failed after the commit
   * point and rolled back, nothing changed. `EINCOMPLETE`: failed after the commit point and
   * could not roll back; run recover().
   *
   * @example
   * ```ts
   * const { written, removed, durationMs } = await tx.commit();
   * console.log(`${written} written, ${removed} removed in ${durationMs.toFixed(0)} ms`);
   * ```
   */
  async commit(): Promise<CommitResult> {
    // Aborted by its signal: the rejection below comes only once the abort it started has removed
    // what was staged, so that a caller (or its recover()) never meets that abort half-way.
    if (this.#abortedBySignal) await this.#aborting?.catch(noop);
    this.#assertOpen('commit');
    return runCommit(this.#tx);
  }

  /**
   * Discard everything staged. Idempotent once aborted; an error after commit() has started
   * (`ESTATE`). The root is never touched: nothing was applied before commit().
   *
   * @example
   * ```ts
   * const tx = begin({ dir: 'out' });
   * try {
   *   for (const part of parts) tx.write(part.name, await render(part));
   * } catch (err) {
   *   await tx.abort(); // nothing was written to out/
   *   throw err;
   * }
   * await tx.commit();
   * ```
   */
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
