/**
 * protocol/finish.ts: the one way a transaction past its commit point ends (docs/protocol.md,
 * step 9 and "If step 9 fails"), used by a live `commit()` and by `recover()` alike.
 *
 *   roll forward (apply.ts) ── fails ──▶ [live: is the root lock still ours?] ──▶ durable rollback
 *        │                                                                        marker, roll back
 *        ▼                                                                              │
 *   remove the staging dir, journal first (unless the caller does it itself) ◀──────────┘
 *
 * A transaction found with its rollback marker (a rollback that a crash interrupted) goes straight
 * to the rollback. Every step is idempotent, so a crash anywhere here followed by recover() ends
 * the same way (invariant 5).
 */
import { step } from '../io/faults.js';
import { rollBack, rollForward, type ApplyContext, type ApplyOutcome } from './apply.js';
import { removeStaging, writeRollbackMarker } from './staging.js';

export interface Finishing extends Omit<ApplyContext, 'onProgress'> {
  /** A rollback marker was found: finish the rollback, never roll forward. */
  readonly rollingBack?: boolean | undefined;
  /**
   * A live commit: undo only while this returns true (its root lock is still its own). If another
   * process took the lock over, that process is rolling this journal forward, and undoing under it
   * would mix the two.
   */
  readonly mayUndo?: (() => Promise<boolean>) | undefined;
  /**
   * Remove the staging dir after a roll-forward too. A live commit removes it itself, in two parts
   * around its root lock's release (transaction/committer.ts, protocol/cleanup.ts); after a
   * rollback it is always removed here.
   */
  readonly removeAfterForward: boolean;
  readonly onProgress?: ((direction: 'forward' | 'back', done: number, total: number) => void) | undefined;
}

export type Finished =
  | { readonly direction: 'forward'; readonly outcome: ApplyOutcome }
  | { readonly direction: 'back'; readonly outcome: ApplyOutcome; /** Why it did not roll forward. */ readonly cause?: unknown };

/**
 * The roll-forward failed and the transaction could not be rolled back here: its journal (and
 * marker, if written) stay for recover(). `cause` is what stopped the rollback (undefined when it
 * was not attempted because the root lock was no longer ours).
 */
export class Unfinished extends Error {
  constructor(
    readonly applyError: unknown,
    readonly ours: boolean,
    readonly undoError?: unknown,
  ) {
    super(`not finished: ${(applyError as Error)?.message ?? String(applyError)}`);
  }
}

/** Finish a transaction past its commit point: forward if it can, else back. See the header. */
export async function finish(t: Finishing): Promise<Finished> {
  const progress = (direction: 'forward' | 'back') => (done: number, total: number) => t.onProgress?.(direction, done, total);
  if (t.rollingBack === true) {
    const outcome = await rollBack({ ...t, onProgress: progress('back') });
    await removeStaging(t.staging, t.durable);
    return { direction: 'back', outcome };
  }
  let forward: ApplyOutcome;
  try {
    step('apply:start');
    forward = await rollForward({ ...t, onProgress: progress('forward') });
  } catch (applyError) {
    // Cannot finish forward (a target became a directory, EACCES, EIO, ...): undo behind a
    // durable marker, so that a crash mid-rollback is finished backwards, and the root ends all-old.
    const ours = t.mayUndo === undefined || (await t.mayUndo());
    if (!ours) throw new Unfinished(applyError, false);
    try {
      await writeRollbackMarker(t.staging, t.durable);
      step('rollback:start');
      const outcome = await rollBack({ ...t, onProgress: progress('back') });
      step('rollback:end');
      await removeStaging(t.staging, t.durable);
      return { direction: 'back', outcome, cause: applyError };
    } catch (undoError) {
      throw new Unfinished(applyError, true, undoError);
    }
  }
  if (t.removeAfterForward) await removeStaging(t.staging, t.durable);
  return { direction: 'forward', outcome: forward };
}
