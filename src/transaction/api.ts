/**
 * transaction/api.ts: what a transaction offers, as one interface with the public TSDoc of every
 * call; `Transaction` (transaction.ts) implements it, and its methods inherit these comments (in
 * editors and in the API reference). Split from the class so that the facade reads as code: each
 * call checks its state and arguments and hands the work on.
 */
import type { Writable } from 'node:stream';
import type { WriteData } from './data.js';
import type { FileVersion, ReadResult } from './preconditions.js';
import type { CommitResult, RemoveOptions, WriteJsonOptions, WriteOptions } from './types.js';
// For the {@link} references of the documentation.
import type { begin, transaction } from './begin.js';
import type { Transaction } from './transaction.js';

/**
 * The calls of a {@link Transaction}: staging writes, removals and tree operations, conditions,
 * and its end (commit or abort). Start one with {@link begin} or {@link transaction}.
 *
 * @example
 * ```ts
 * const tx: TransactionApi = begin({ dir: 'out' });
 * tx.write('a.json', JSON.stringify(a));
 * await tx.commit();
 * ```
 */
export interface TransactionApi extends AsyncDisposable {
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
  write(path: string, data: WriteData, options?: WriteOptions): Promise<void>;

  /**
   * Stage `value` as JSON (with a trailing newline).
   * @example
   * ```ts
   * tx.writeJson('manifest.json', { files, at: Date.now() }, { spaces: 2 });
   * ```
   */
  writeJson(path: string, value: unknown, options?: WriteJsonOptions): Promise<void>;

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
  tempDir(): Promise<string>;

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
  adopt(path: string, file: string, options?: Omit<WriteOptions, 'encoding'>): Promise<void>;

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
  copy(from: string, to: string, options?: Pick<WriteOptions, 'mode' | 'ifUnchanged' | 'exclusive'>): Promise<void>;

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
  rename(from: string, to: string, options?: Pick<WriteOptions, 'mode' | 'ifUnchanged' | 'exclusive'>): Promise<void>;

  /**
   * {@link Transaction.rename}, under the name fs-extra uses.
   *
   * @example
   * ```ts
   * tx.move('incoming/batch-7.csv', 'archive/batch-7.csv');
   * await tx.commit();
   * ```
   */
  move(from: string, to: string, options?: Pick<WriteOptions, 'mode' | 'ifUnchanged' | 'exclusive'>): Promise<void>;

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
  remove(path: string, options?: RemoveOptions): void;

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
  mkdir(path: string): void;

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
  removeTree(path: string): void;

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
  emptyDir(path: string): void;

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
  createWriteStream(path: string, options?: WriteOptions): Writable;

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
  expect(path: string, version: FileVersion): void;

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
  read(path: string): Promise<ReadResult>;

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
  version(path: string): Promise<FileVersion>;

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
  commit(): Promise<CommitResult>;

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
  abort(): Promise<void>;
}
