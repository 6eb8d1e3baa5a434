/**
 * protocol/gate.ts: step 3 of a commit (docs/protocol.md): under the root lock, every dead
 * transaction in the root is finished first (recover.ts, `recoverLocked`, with the committing
 * transaction itself left out), so that no older journal can be rolled forward over this commit's
 * data later (invariant 7). Refuses to commit over what could not be finished.
 */
import { codes, TxnError } from '../errors.js';
import type { LockTiming } from './lock.js';
import { recoverLocked, type RecoverReport } from './recover.js';
import type { TrustedHome } from './staging.js';

export interface Gate {
  readonly root: string;
  readonly home: TrustedHome;
  readonly durable: boolean;
  readonly timing: LockTiming;
  readonly concurrency: number;
  /** The committing transaction's id: it is not looked at (its owner lock is held by the caller). */
  readonly self: string;
  /** The root as the caller named it, for messages. */
  readonly dir: string;
  /** Filled with the single-file records of the home (recover.ts, `RecoverContext.singles`). */
  readonly singles?: string[] | undefined;
  /** The home as the root lock's acquisition listed it (recover.ts, `RecoverContext.listed`). */
  readonly listed?: readonly string[] | undefined;
}

/**
 * Recover first; then reject with ECORRUPT (a corrupt journal) or EINCOMPLETE (a transaction that
 * could not be finished), or ELOCKED (one past its commit point whose owner still looks alive).
 * Resolves with what recovery did.
 */
export async function gate(g: Gate): Promise<RecoverReport> {
  const rec = await recoverLocked({
    root: g.root,
    home: g.home.home,
    trusted: g.home.trusted,
    durable: g.durable,
    timing: g.timing,
    concurrency: g.concurrency,
    dryRun: false,
    self: g.self,
    singles: g.singles,
    listed: g.listed,
  });
  const blocked = rec.corrupt[0] ?? rec.failed[0];
  if (blocked !== undefined) {
    throw new TxnError(
      rec.corrupt.length > 0 ? codes.ECORRUPT : codes.EINCOMPLETE,
      `Cannot commit in '${g.dir}': a dead transaction there could not be recovered (${blocked.reason}). Committing over it could let old data overwrite new. Inspect '${blocked.path}' (txnfs status), fix or remove it, then retry.`,
      { path: blocked.path, txnId: g.self, cause: rec.failed[0]?.error },
    );
  }
  // A transaction past its commit point holds the root lock while it is alive, and we hold it now:
  // if its owner lock still looks alive, that owner died (after a reboot only the lock's age
  // tells, and the owner lock can be younger than the root lock) or stalled past lockStale.
  // Applying now would let its journal be rolled forward after us, older data over newer
  // (invariant 7). Refuse; retrying after lockStale succeeds.
  const pending = rec.skipped.find((t) => t.state === 'committed' || t.state === 'rolling-back');
  if (pending !== undefined) {
    throw new TxnError(
      codes.ELOCKED,
      `Cannot commit in '${g.dir}' yet: transaction ${pending.id} passed its commit point and its owner still looks alive (its lock was refreshed less than lockStale = ${g.timing.stale} ms ago). It must be finished before anything else applies; retry after lockStale.`,
      { txnId: g.self },
    );
  }
  return rec;
}
