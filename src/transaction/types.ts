/**
 * transaction/types.ts: the public options and results of a transaction (`begin()`, `write()`,
 * `remove()`, `writeJson()`, `commit()`). Types only; the Transaction is transaction.ts.
 */
import type { CommonOptions } from '../options/options.js';
import type { FileVersion } from './preconditions.js';
import type { Layout } from '../generations/setup.js';
// For the {@link} references of the documentation.
import type { begin } from './begin.js';

/** Options of {@link begin}. */
export interface BeginOptions extends CommonOptions {
  /**
   * The root: every target is a path inside it. It must exist. A path string or a `file:` URL.
   * @default process.cwd()
   */
  readonly dir?: string | URL | undefined;
  /**
   * `'in-place'`: targets are replaced inside `dir`, which must exist. `'generations'`: `dir` is a
   * pointer (a symlink) to an immutable generation; a commit builds the next generation and swaps
   * the pointer, so a reader that resolves it once never sees a mix (docs/snapshots.md). `dir`
   * may be missing (the first commit creates it) or a plain directory (converted at the first
   * commit).
   * @default 'in-place'
   */
  readonly layout?: Layout | undefined;
  /**
   * Generations layout: how many of the newest generations to keep (the current one included),
   * besides any a reader pinned. At least 2: the previous generation is always kept.
   * @default 2
   */
  readonly keepGenerations?: number | undefined;
  /**
   * Warn (once per root and process, `process.emitWarning` with code `TXNFS_UNSAFE_FS`) when the
   * root is on a network or FUSE filesystem, where mkdir + mtime locks are not safe with writers
   * on several hosts (docs/filesystems.md). Pass `false` when one host writes.
   * @default true
   */
  readonly warnUnsafeFs?: boolean | undefined;
}

/** Options of `tx.write()`. */
export interface WriteOptions {
  /**
   * Permission bits of the file (e.g. `0o600`), set exactly (the umask does not apply).
   * @default the existing target's mode; for a new file `0o666` minus the umask
   */
  readonly mode?: number | undefined;
  /**
   * Commit only if the target is still as it was when it was read: pass the version from
   * `tx.read()` or `tx.version()`. Checked under the root lock before the commit point; if the
   * file changed, the whole commit fails with `EPRECONDITION` and nothing changes.
   * @default undefined (no condition)
   * @example
   * ```ts
   * const { data, version } = await tx.read('state.json');
   * tx.write('state.json', nextState(data), { ifUnchanged: version });
   * ```
   */
  readonly ifUnchanged?: FileVersion | undefined;
  /**
   * Create-only: commit only if the target does not exist at commit time (like `O_EXCL`);
   * otherwise the whole commit fails with `EPRECONDITION`.
   * @default false
   */
  readonly exclusive?: boolean | undefined;
  /**
   * Encoding of string data and of string chunks (of an iterable, a stream, or
   * `tx.createWriteStream()` writes), as for `writeFile`. Not taken by `tx.adopt()`.
   * @default 'utf8'
   * @example
   * ```ts
   * tx.write('legacy.txt', text, { encoding: 'latin1' });
   * ```
   */
  readonly encoding?: BufferEncoding | undefined;
}

/** Options of `tx.remove()`. */
export interface RemoveOptions {
  /**
   * Commit only if the file is still as it was when it was read (see `WriteOptions.ifUnchanged`).
   * @default undefined (no condition)
   */
  readonly ifUnchanged?: FileVersion | undefined;
}

/** Options of `tx.writeJson()`. */
export interface WriteJsonOptions extends WriteOptions {
  /** Indentation, as for `JSON.stringify`. @default undefined (compact) */
  readonly spaces?: number | string | undefined;
  /** Replacer, as for `JSON.stringify`. @default undefined */
  readonly replacer?: ((this: unknown, key: string, value: unknown) => unknown) | (number | string)[] | null | undefined;
}

/** The state of a transaction. */
export type TransactionState = 'open' | 'committing' | 'committed' | 'aborting' | 'aborted' | 'failed';

/** What a commit applied. */
export interface CommitResult {
  /** The transaction id (also the name of its staging dir, `.txn-<id>`). */
  readonly id: string;
  /** Entries in the journal: files written plus files removed. */
  readonly entries: number;
  /** Files written (created or replaced). */
  readonly written: number;
  /** Files removed (a `remove()` of a file that did not exist is not counted). */
  readonly removed: number;
  /** Bytes written. */
  readonly bytes: number;
  /** Wall time of commit(), in milliseconds. */
  readonly durationMs: number;
  /** Ids of dead transactions this commit had to finish first (invariant 7). */
  readonly recovered: readonly string[];
  /**
   * Problems after the data was durably applied (e.g. the staging dir could not be removed). The
   * commit stands; `recover()` cleans what is left. Also one line per target that a writer outside
   * txnfs changed between this commit's resolve and its apply: that newer version was kept, and
   * this commit's change to it dropped (docs/protocol.md, the roll-forward rule).
   */
  readonly warnings: readonly string[];
  /** Generations layout: the generation this commit published (1 for the first commit). */
  readonly generation?: number;
}
