/**
 * protocol/cleanup.ts: step 10 of a commit that applied (docs/protocol.md, "Clean up"): what is
 * left of the staging dir goes, and the owner lock with it.
 *
 * Only the journal's unlink is made under the root lock: it ends the transaction. What is left (an
 * empty files/, backups, journal.tmp) is a staging dir without a journal whose owner lock the
 * commit still holds, which every other commit and recovery skips (invariant 4), so it is removed
 * once the root lock is released (started then, not before: its unlinks would fill the thread
 * pool ahead of the release's calls), and the next commit in this root does not wait for it. Then
 * the owner lock goes, and an fsync of the home makes both durable: nothing orders the lock's
 * release and the fsync (a power loss may keep either change without the other, and recovery
 * finishes each case), but the lock goes only after the staging dir (a staging dir must never be
 * seen without its live lock). A one-file commit (direct.ts) has no journal: no unlink, and no
 * home fsync (a staging dir a power loss brings back holds nothing to replay); its rest starts at
 * once (see endCommit). Failures here are warnings: the commit stands.
 */
import { syncDir } from '../io/durable.js';
import { once } from '../io/limit.js';
import { step } from '../io/faults.js';
import { removeDirectStaging, type Direct } from './direct.js';
import { endJournal, removeEndedStaging, type Staging } from './staging.js';

const noop = (): void => undefined;

export interface EndCommit {
  readonly staging: Staging;
  /** The home, fsynced after the staging dir's removal (durable, journaled). */
  readonly home: string;
  readonly durable: boolean;
  /** The one-file commit, when it was one. */
  readonly direct: Direct | undefined;
  /** The backups the commit made (by entry), removed by name; undefined: look. */
  readonly backups: readonly number[] | undefined;
  /** Where failures go, as warnings of the commit. */
  readonly warnings: string[];
}

/**
 * Unlink the journal (the caller holds the root lock); resolves with `rest`, which starts the rest
 * (once, however often it is called) and returns a promise of it that never rejects (see the
 * header). Call it under the root lock, and `rest()` after releasing the lock.
 */
export async function endCommit(e: EndCommit): Promise<{ readonly rest: () => Promise<void> }> {
  const { staging, warnings } = e;
  const cleanupFailed = (err: unknown): void => {
    warnings.push(`The staging dir '${staging.dir}' could not be removed (${(err as Error).message}); recover() will remove it.`);
  };
  // A one-file commit has no journal to end; its step is reported all the same, so every commit
  // passes the same named steps.
  if (e.direct !== undefined) step('journal-removed');
  const ended = e.direct !== undefined || (await endJournal(staging.dir).then(() => true, (err: unknown) => {
    cleanupFailed(err);
    return false;
  }));
  const rest = once(() => removeRest(e, ended, cleanupFailed));
  // A one-file commit leaves one unlink (the undo link: the replaced file's last name, whose space
  // it frees) and two rmdirs: started now, beside the release, they cost the next commit nothing,
  // while after it they would add the unlink's round trip to this one (5% of a one-file commit).
  if (e.direct !== undefined) void rest();
  return { rest };
}

/** The rest of step 10 (see the header): the staging dir, then the owner lock, then the home fsync. */
function removeRest(e: EndCommit, ended: boolean, cleanupFailed: (err: unknown) => void): Promise<void> {
  const { staging, warnings } = e;
  const removed = ended
    ? (e.direct !== undefined ? removeDirectStaging(e.direct, staging.dir) : removeEndedStaging(staging.dir, e.durable, true, e.backups)).then(() => true, (err: unknown) => {
      cleanupFailed(err);
      return false;
    })
    : Promise.resolve(false);
  const released = removed.then(() => staging.ownerLock.release()).then(noop, (err: Error) => {
    warnings.push(`The owner lock could not be released (${err.message}).`);
  });
  // After the release: its two rmdirs in the home would wait behind the fsync of the home (ext4
  // holds a directory being changed until the running fsync's journal commit is done: 1 ms
  // measured), and made first they cost two inline calls, and the fsync makes them durable too.
  return Promise.all([removed, released]).then(async ([ok]) => {
    if (!ok || !e.durable || e.direct !== undefined) return;
    await syncDir(e.home).catch((err: Error) => {
      warnings.push(`The removal of the staging dir '${staging.dir}' could not be made durable (${err.message}); after a power loss recover() finishes it.`);
    });
  });
}
