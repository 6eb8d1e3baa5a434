// The public options and results of a transaction on an S3 store. Types only; the transaction is
// transaction.ts.
import type { FileVersion } from '../transaction/preconditions.js';
import type { S3Store } from './store.js';
// For the {@link} references of the documentation.
import type { begin } from './transaction.js';

/** Options of {@link begin} for an S3 store. */
export interface S3BeginOptions {
  /** The store, from `s3Store()`. */
  readonly store: S3Store;
  /** Aborts the transaction while it is open; during commit, up to the commit point. @default undefined */
  readonly signal?: AbortSignal | undefined;
  /**
   * Rebase attempts after a lost race for a generation before giving up with ELOCKED. Between
   * attempts the writer waits a random time up to min(1 s, 10 ms × 2^attempt) (full jitter), so
   * the default allows about half a minute of losing before ELOCKED.
   * @default 50
   */
  readonly maxRetries?: number | undefined;
  /** Uploads in flight at once. Memory is bounded by `concurrency × partSize`. @default 4 */
  readonly concurrency?: number | undefined;
  /** Bytes per multipart part; data longer than one part is uploaded in parts. At least 5 MiB (S3's floor). @default 8 MiB */
  readonly partSize?: number | undefined;
}

/** Options of `write()` on an S3 store. */
export interface S3WriteOptions {
  /** Commit only if the path still has this content version (from `read()` / `version()`). */
  readonly ifUnchanged?: FileVersion | undefined;
  /** Commit only if the path does not exist at the commit point. @default false */
  readonly exclusive?: boolean | undefined;
}

/** Options of `writeJson()` on an S3 store. */
export interface S3WriteJsonOptions extends S3WriteOptions {
  readonly spaces?: number | string | undefined;
  readonly replacer?: ((this: unknown, key: string, value: unknown) => unknown) | (number | string)[] | null | undefined;
}

/** What a commit on an S3 store did. */
export interface S3CommitResult {
  readonly id: string;
  /** The generation this commit created (1 for the first commit of a store); for a commit with no changes, the head it checked its conditions against. */
  readonly generation: number;
  readonly entries: number;
  readonly written: number;
  readonly removed: number;
  readonly bytes: number;
  /** Lost races for a generation that this commit rebased over. */
  readonly rebases: number;
  readonly durationMs: number;
  /** Problems after the commit point (an unused staged key left for recover()). The commit stands. */
  readonly warnings: readonly string[];
}
