/**
 * root.ts: `openRoot()`, a long-lived handle on one root for a service that commits often (a
 * config store, job state, a cache).
 *
 * What it keeps between commits: the root's home (`.txnfs/`). A plain begin() commit makes the home
 * (`mkdir`) and removes it at its end (`rmdir`, No litter: protocol/home.ts), because nothing tells
 * it another commit is coming. An open root tells it: the home stays until close() (or this
 * process's exit), and each commit finds it with one `lstat`. Those are two of the dearest calls of
 * a small commit (an `rmdir` costs 70-100 µs on ext4, more than any other call of a one-file
 * commit but its rename), measured in docs/performance.md (36). A journaled commit still fsyncs the
 * root before its commit point: it finds the home made, and cannot tell whether its maker did
 * (protocol/staging.ts, createStaging).
 *
 * What it does not keep: anything the protocol decides per commit. Every commit of the handle is a
 * plain transaction in that root (the same Transaction, the same steps): it resolves the root,
 * checks the home's owner and mode, takes the root lock and runs the recovery gate, so other
 * processes (and other handles, and begin() in this one) commit there as before, and a home
 * another process removed meanwhile is made again.
 *
 * Open: the root must exist and be a directory (as for begin()); then recover() finishes or
 * discards what a crash left there, once, and its report is the handle's `recovered`. Close: later
 * begin() calls are refused (ESTATE); transactions already begun finish as plain ones would.
 */
import { badArgument, codes, TxnError } from '../errors.js';
import { checkOptionsObject, commonKeys, resolveCommon, resolveDir, resolveWarnUnsafeFs, type CommonOptions } from '../options/options.js';
import { isGenerationsRoot } from '../generations/setup.js';
import { homeOf } from '../protocol/layout.js';
import { keepHome, removeHomeIfEmpty } from '../protocol/home.js';
import { recover } from '../protocol/recover.js';
import type { RecoverReport } from '../protocol/recover-types.js';
import { openRootDir } from '../protocol/root.js';
import { runScoped } from './scope.js';
import { Transaction } from './transaction.js';

/** Options of {@link openRoot} (defaults for every transaction of the handle) and of {@link Root.begin} (for one). */
export interface RootOptions extends CommonOptions {
  /**
   * Warn (once per root and process, `process.emitWarning` with code `TXNFS_UNSAFE_FS`) when the
   * root is on a network or FUSE filesystem, where mkdir + mtime locks are not safe with writers
   * on several hosts (docs/filesystems.md). Pass `false` when one host writes.
   * @default true
   */
  readonly warnUnsafeFs?: boolean | undefined;
}

const rootKeys = [...commonKeys, 'warnUnsafeFs'] as const;

/**
 * An open root: begin transactions in it, then close it. Made by {@link openRoot}.
 *
 * @example
 * ```ts
 * const root = await openRoot('state');
 * const tx = root.begin();
 * tx.write('counters.json', JSON.stringify(counters));
 * await tx.commit();
 * await root.close();
 * ```
 */
export class Root {
  /** The root directory, as an absolute path (as given, not resolved through symlinks). */
  readonly dir: string;
  /** What the recovery at open did (see {@link recover}). */
  readonly recovered: RecoverReport;
  readonly #options: Readonly<Record<string, unknown>>;
  readonly #release: () => boolean;
  readonly #home: string;
  #closed = false;

  /** @internal Use {@link openRoot}. */
  constructor(dir: string, options: Readonly<Record<string, unknown>>, home: string, recovered: RecoverReport) {
    this.dir = dir;
    this.#options = options;
    this.#home = home;
    this.recovered = recovered;
    this.#release = keepHome(home);
  }

  /** Whether {@link Root.close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Start a transaction in this root, as `begin({ dir: root.dir, ...options })` would, with the
   * handle's options as defaults. Synchronous: no I/O happens until the first write. Throws
   * TxnError ESTATE once the handle is closed.
   *
   * @example
   * ```ts
   * const root = await openRoot('cache');
   * const tx = root.begin({ durability: 'none' });
   * tx.write('cache/index.json', JSON.stringify(index));
   * await tx.commit();
   * ```
   */
  begin(options?: RootOptions): Transaction {
    const o = checkOptionsObject(options, 'options', rootKeys);
    if (this.#closed) {
      throw new TxnError(codes.ESTATE, `The root '${this.dir}' was closed. Open it again with openRoot(), or use begin({ dir }).`, { path: this.dir });
    }
    const merged: Record<string, unknown> = { ...this.#options };
    for (const key of rootKeys) if (o[key] !== undefined) merged[key] = o[key];
    return new Transaction(this.dir, resolveCommon(merged), undefined, resolveWarnUnsafeFs(merged));
  }

  /**
   * Run `fn` with a new transaction of this root; commit when it returns, abort when it throws (as
   * {@link transaction} does). Resolves with what `fn` returned.
   *
   * @example
   * ```ts
   * const root = await openRoot('state');
   * await root.transaction(async (tx) => {
   *   tx.write('events.csv', lines.join('\n'));
   *   tx.write('counters.json', JSON.stringify(counters));
   * });
   * ```
   */
  transaction<T>(options: RootOptions | undefined, fn: (tx: Transaction) => T | Promise<T>): Promise<T>;
  transaction<T>(fn: (tx: Transaction) => T | Promise<T>): Promise<T>;
  async transaction<T>(a: RootOptions | undefined | ((tx: Transaction) => T | Promise<T>), b?: (tx: Transaction) => T | Promise<T>): Promise<T> {
    const fn = typeof a === 'function' ? a : b;
    if (typeof fn !== 'function') throw badArgument('fn', 'a function', fn);
    return runScoped(this.begin(typeof a === 'function' ? undefined : a), fn);
  }

  /**
   * Stop keeping the home: it is removed now if it is empty (and no other open root of this
   * process keeps it), as after a plain commit. Later {@link Root.begin} calls throw ESTATE;
   * transactions begun before finish as plain ones would. Idempotent; never rejects for the home
   * (a home that cannot be removed is left, as a plain commit leaves it).
   *
   * @example
   * ```ts
   * const root = await openRoot('state');
   * process.once('SIGTERM', () => void root.close());
   * ```
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#release()) await removeHomeIfEmpty(this.#home);
  }

  /**
   * `await using root = await openRoot(...)`: closes the handle when the scope ends.
   *
   * @example
   * ```ts
   * {
   *   await using root = await openRoot('state');
   *   await root.transaction((tx) => tx.writeJson('job.json', { done: true }));
   * } // closed here
   * ```
   */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * Open `dir` for many commits: recover it once (finish or discard what a crash left there; the
 * report is `root.recovered`), then keep its `.txnfs/` home between commits until `close()`, instead
 * of making and removing it in every commit. For a service that commits often; one-off jobs use
 * {@link begin}. `options` are the defaults of every transaction the handle begins (a `signal`
 * also cuts the recovery at open). The root must exist and be a directory (TxnError EFS or
 * ETARGET). Without `close()`, the home is removed when the process exits; a process killed by a
 * signal leaves it empty, for the next writer or `recover()`. A generations root (its pointer) is
 * refused with ETARGET: its commits use `begin({ dir, layout: 'generations' })`.
 *
 * @example
 * ```ts
 * const root = await openRoot('state', { durability: 'full' });
 * if (root.recovered.corrupt.length > 0) throw new Error('state needs a person: run txnfs status');
 * await root.transaction(async (tx) => {
 *   tx.write('job.json', JSON.stringify(job));
 * });
 * await root.close();
 * ```
 */
export async function openRoot(dir?: string | URL, options?: RootOptions): Promise<Root> {
  const o = checkOptionsObject(options, 'options', rootKeys);
  const abs = resolveDir(dir, 'dir');
  // Checked now, not at the first begin(): a bad option is the caller's mistake at open.
  resolveCommon(o);
  resolveWarnUnsafeFs(o);
  // A generations pointer: every in-place commit there is refused (setup.ts), so the handle is.
  if (await isGenerationsRoot(abs)) {
    throw new TxnError(codes.ETARGET, `'${abs}' is the pointer of a generations root; openRoot() opens an in-place root. Use begin({ dir, layout: 'generations' }) there.`, { path: abs });
  }
  const real = await openRootDir(abs);
  const { warnUnsafeFs: _, ...common } = o;
  const recovered = await recover(abs, common as CommonOptions);
  return new Root(abs, o, homeOf(real), recovered);
}
