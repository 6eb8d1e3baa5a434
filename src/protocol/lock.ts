/**
 * lock.ts: the root lock and the owner locks (the public face of src/protocol/lock/).
 *
 * A lock is a directory (`<home>/.txn-<id>.lock`, `<home>/.upd-<hash>.lock`) that holds one
 * *owner entry* per process trying to take it: an empty file whose name carries the owner's
 * record, `o.<host>.<pid>.<start>.<thread>.<stale>.<token>` (see `entryName`). The lock is held by
 * the owner whose entry was, when it listed the directory right after making it, the only one
 * there. The root lock `<home>/lock` is flat: its entries are `<home>/lock.o.<...>`, in the home
 * itself, and only those count in the home's listing (owners.ts, FLAT_PREFIX). (docs/protocol.md,
 * "Locks".)
 *
 * Why names and not proper-lockfile's single directory: a lock that is removed by its path when it
 * is judged stale cannot be taken over safely. Two waiters judge the same dead lock; the first
 * removes it and takes a new one; the second then removes the new one by the same path and takes
 * it too (moxystudio/node-proper-lockfile#121; issue 12, item 8: 2 ECOMPROMISED in 108 commits
 * after a SIGKILLed holder, even with the lock renamed aside and re-checked first). Here each owner
 * has a name of its own, and a waiter removes a dead owner by that exact name: whatever it judged,
 * it can only ever remove that one owner, never one that arrived after it looked.
 *
 * - Acquire: mkdir the lock directory (EEXIST is fine), create our entry in it, list it. Alone:
 *   held. Not alone: remove our entry again and wait; any owner listed is judged, and a dead one
 *   is removed by its name. Two that arrive together both see each other and both back off (with
 *   jitter); one that arrives while the lock is held sees the holder. Whoever listed alone made its
 *   entry before every later arrival listed, so a later arrival always sees it: one holder at most.
 * - Dead: same host and the process certainly gone (identity.ts), or this very thread of this
 *   process with no acquisition using the token (a release that failed half-way), or an entry not
 *   refreshed for its stale time. A lock of another thread of this process is alive (invariant 4).
 * - Heartbeat and compromise: each entry is a proper-lockfile lock of its own (its `lockfilePath`),
 *   so proper-lockfile keeps its mtime fresh, reports a lost or stolen entry as compromised (recorded
 *   here, never thrown from its timer, which would crash the host), and removes the entry at exit.
 *   `verify()` checks that our entry still exists right before a commit point.
 * - Release: remove our entry, then the lock directory if it is empty (rmdir only removes an empty
 *   one, so this never disturbs an owner that arrived meanwhile; one that made the directory and is
 *   about to make its entry gets ENOENT and starts again).
 * - Hand-off: a waiter watches the lock directory (inotify on Linux) and retries as soon as it
 *   changes, so a released lock is taken within a fraction of a millisecond, not a poll interval.
 *
 * Leftovers of an older txnfs (a lock directory holding an `owner` file; `.tomb-*` directories)
 * are judged by that record and removed when dead. Running an older and this txnfs on one root at
 * the same time is not supported: their locks do not see each other.
 *
 * Within one thread, acquisitions of the same root lock queue on a promise chain first, so
 * in-process contention costs no polling. What this thread holds or is acquiring lives in one
 * registry per thread shared by every loaded copy of txnfs (`globalThis`, under a `Symbol.for`
 * key): npm can install two copies side by side, and a lock one copy holds must never look
 * abandoned to the other.
 *
 * Cost of an uncontended lock: mkdir, create and close of the entry, readdir (stat,
 * proper-lockfile's mtime probe, is answered from the claim), and unlink and rmdir at release; the
 * flat root lock: create and close, readdir (which the recovery gate reads too), unlink.
 *
 * The parts, one concern each, under src/protocol/lock/: owners.ts (entry names, this thread's
 * registry), judge.ts (is an entry dead; removing it by name; an older txnfs's leftovers),
 * adapter.ts (one attempt, and the fs proper-lockfile is given), acquire.ts (acquire, wait, hand
 * off, verify, release), state.ts (recovery's view), queue.ts (the root lock's in-thread queue).
 */
export { acquire, type HeldLock, type LockTiming } from './lock/acquire.js';
export { lockState, removeDeadLock, sweepEmptyLock, type LockState } from './lock/state.js';
export { rootLockContended, withRootLock } from './lock/queue.js';
export { isAbandonedTomb } from './lock/judge.js';
export { isFlatEntry, thisHostTag } from './lock/owners.js';
