/**
 * lock/state.ts: recovery's view of a lock: whether it has a live owner, and removing a dead or
 * empty one. A lock this thread holds is always held (invariant 4).
 */
import { readdirIfPresent } from '../../io/if-present.js';
import { entryPlace, held, isFlatEntry } from './owners.js';
import { judge, mtimeOf, OWNERLESS_GRACE_MS, removeDirIfEmpty } from './judge.js';
import { clearDead } from './acquire.js';

/**
 * The state of a transaction's owner lock, as recovery sees it: 'held' (a live owner: recovery
 * leaves the transaction alone), 'dead' (every owner has exited or stopped refreshing its entry),
 * 'absent' (no owner at all).
 */
export type LockState = 'held' | 'dead' | 'absent';

/**
 * Whether the lock at `lockDir` has a live owner. `stale` is the caller's stale time; an owner
 * that declared a longer one is given that.
 */
export async function lockState(lockDir: string, stale: number, flat = false): Promise<LockState> {
  if (held.has(lockDir)) return 'held';
  const { dir, names } = await entriesOf(lockDir, flat);
  if (names === undefined) return 'absent';
  if (flat && names.length === 0) return 'absent';
  let dead = 0;
  for (const name of names) {
    const j = await judge(dir, name, stale);
    if (!j.dead) return 'held';
    // One that left while we looked is not a dead owner: its owner released (a transaction that
    // just finished); judge the directory as if it had not been listed.
    if (j.vanished !== true) dead++;
  }
  if (dead === 0) {
    // No owner in it: an acquirer is between its mkdir of the directory and of its entry (then
    // it creates its staging dir next, which recovery must not take for a dead transaction's), or
    // the last owner is between its two rmdirs, or one of them crashed there. The first two last
    // microseconds; untouched for the grace, the directory is debris.
    const mtime = await mtimeOf(lockDir);
    if (mtime === undefined) return 'absent';
    return mtime < Date.now() - OWNERLESS_GRACE_MS ? 'dead' : 'held';
  }
  return 'dead';
}

/**
 * Remove the lock directory `lockDir` if it is empty (no owner, no acquirer's entry). True when it
 * is gone. Safe at any time: rmdir removes only an empty directory, and an acquirer between its
 * mkdir of the directory and of its entry gets ENOENT and starts again.
 */
export async function sweepEmptyLock(lockDir: string): Promise<boolean> {
  // Any other failure (EIO) leaves it to be judged like any lock: this is a tidy-up, never a
  // reason to fail.
  return removeDirIfEmpty(lockDir).catch(() => false);
}

/** Remove a dead lock (after its staging dir is gone). A live owner's entry is never touched. */
export async function removeDeadLock(lockDir: string, stale: number, flat = false): Promise<void> {
  const { dir, names } = await entriesOf(lockDir, flat);
  if (names === undefined) return;
  const live = await clearDead(dir, names, stale);
  if (live.length === 0 && !flat) await removeDirIfEmpty(lockDir);
}

/** The names of the entries of a lock, and the directory they are in (owners.ts, entryPlace). */
async function entriesOf(lockDir: string, flat: boolean): Promise<{ dir: string; names: string[] | undefined }> {
  const { dir } = entryPlace(lockDir, flat);
  const names = await readdirIfPresent(dir);
  return { dir, names: flat ? names?.filter(isFlatEntry) : names };
}

