/**
 * recover-types.ts: the public options and report of `recover()` (docs/protocol.md, "Recovery").
 * Types only; the recovery is recover.ts.
 */
import type { CommonOptions } from '../options/options.js';
import type { TxnError } from '../errors.js';
import type { GenerationsRecovery } from '../generations/recover.js';
import type { TxnState } from './classify.js';
// For the {@link} references of the documentation.
import type { recover } from './recover.js';

/** A transaction recovery acted on. */
export interface RecoveredTxn {
  /** The transaction id. */
  readonly id: string;
  /** Entries in its journal (0 for a discarded transaction that never reached its commit point). */
  readonly entries: number;
  /** Entries this recovery changed (the rest were done before the crash). */
  readonly changed: number;
  /** For a transaction rolled back because it could not be rolled forward: why. */
  readonly reason?: string | undefined;
}

/** A transaction recovery could not resolve, and why. */
export interface UnresolvedTxn {
  /** The transaction id. */
  readonly id: string;
  /** Its staging dir, `<dir>/.txnfs/.txn-<id>`: what a person should look at. */
  readonly path: string;
  /** Why it was left: the journal's checksum failed, or which apply and rollback step failed. */
  readonly reason: string;
  /** For a `failed` transaction: the error of the last attempt (its `cause` is the fs error). */
  readonly error?: TxnError | undefined;
}

/** What `recover()` did (or, with `dryRun`, would do). */
export interface RecoverReport {
  /** The real path of the root. */
  readonly dir: string;
  /** True when nothing was changed (the `dryRun` option): the lists say what would be done. */
  readonly dryRun: boolean;
  /** Dead transactions past their commit point, now fully applied. */
  readonly rolledForward: RecoveredTxn[];
  /** Dead transactions that were rolling back (or failed to apply), now fully undone. */
  readonly rolledBack: RecoveredTxn[];
  /** Dead transactions that never reached their commit point, removed. */
  readonly discarded: RecoveredTxn[];
  /** Transactions whose owner is alive, left alone. */
  readonly skipped: {
    /** The transaction id. */
    readonly id: string;
    /** What it is doing, as {@link FoundTxn.state}. */
    readonly state: TxnState;
  }[];
  /** Journals that failed their checksum, left in place for a person. */
  readonly corrupt: UnresolvedTxn[];
  /**
   * Staging dirs that txnfs did not make as it makes them (owned by an untrusted uid, writable by
   * others, or holding a symlink or another unexpected type): never acted on, left in place for
   * a person. They do not block commits.
   */
  readonly foreign: UnresolvedTxn[];
  /** Transactions whose apply and rollback both failed (e.g. EIO), left in place. */
  readonly failed: UnresolvedTxn[];
  /**
   * Targets that a dead transaction would have replaced or removed, but someone else changed after
   * its commit point (a later writeFile, another program, a person): the newer version was kept and
   * the transaction's staged copy dropped (invariant 7). Also targets a rollback left as someone
   * changed them after the apply. Empty with `dryRun` (nothing is compared then).
   */
  readonly superseded: SupersededTarget[];
  /** Temp files and update() locks of dead single-file writers, removed (with `dryRun`: to remove). */
  readonly orphans: string[];
  /** The size of the temp files among `orphans`, in bytes (measured before they were removed). */
  readonly orphanBytes: number;
  /** Wall time of the call, in milliseconds. */
  readonly durationMs: number;
  /** Generations layout only: the pointer, and the generations collected (docs/snapshots.md). */
  readonly generations?: GenerationsRecovery;
}

/** A target a recovery left alone because it was changed after the commit point. */
export interface SupersededTarget {
  /** The transaction whose change was dropped. */
  readonly id: string;
  /** The target, relative to the root ('/'-joined). */
  readonly target: string;
}

/** Options of {@link recover}. */
export interface RecoverOptions extends CommonOptions {
  /**
   * Classify and report without changing anything (and without taking the root lock).
   * @default false
   */
  readonly dryRun?: boolean | undefined;
  /**
   * Called after each entry of a transaction is applied (rolled forward or back), e.g. to draw a
   * progress bar for a large transaction. Keep it cheap: it is called once per entry.
   * @default undefined (no progress reports)
   */
  readonly onProgress?: ((progress: RecoverProgress) => void) | undefined;
  /**
   * Generations layout: how many of the newest generations to keep (as `begin()`'s option); the
   * rest, unless pinned by a live reader, are collected.
   * @default 2
   */
  readonly keepGenerations?: number | undefined;
}

/** What {@link RecoverOptions.onProgress} is called with. */
export interface RecoverProgress {
  /** The transaction being applied. */
  readonly id: string;
  /** 'forward': finishing it (it passed its commit point); 'back': undoing it. */
  readonly direction: 'forward' | 'back';
  /** Entries applied so far. */
  readonly done: number;
  /** Entries in its journal. */
  readonly total: number;
}
