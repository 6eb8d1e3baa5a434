/**
 * lock.ts: the root lock and the owner locks.
 *
 * A lock is a directory (`<home>/lock`, `<home>/.txn-<id>.lock`, `<home>/.upd-<hash>.lock`) that
 * holds one *owner entry* per process trying to take it: an empty directory whose name carries the
 * owner's record, `o.<host>.<pid>.<start>.<thread>.<stale>.<token>` (see `entryName`). The lock
 * is held by the owner whose entry was, when it listed the directory right after making it, the
 * only one there. (docs/protocol.md, "Locks".)
 *
 * Why names and not proper-lockfile's single directory: a lock that is removed by its path when it
 * is judged stale cannot be taken over safely. Two waiters judge the same dead lock; the first
 * removes it and takes a new one; the second then removes the new one by the same path and takes
 * it too (moxystudio/node-proper-lockfile#121; issue 12, item 8: 2 ECOMPROMISED in 108 commits
 * after a SIGKILLed holder, even with the lock renamed aside and re-checked first). Here each owner
 * has a name of its own, and a waiter removes a dead owner by that exact name: whatever it judged,
 * it can only ever remove that one owner, never one that arrived after it looked.
 *
 * - Acquire: mkdir the lock directory (EEXIST is fine), mkdir our entry in it, list it. Alone:
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
 * Cost of an uncontended lock: mkdir, mkdir, readdir, stat (proper-lockfile's mtime probe), and
 * two rmdirs at release.
 *
 * The owner entries themselves (their names, judging one, removing a dead one, an older txnfs's
 * leftovers) and this thread's registry are in lock-owners.ts; this module acquires, waits, hands
 * off and releases.
 */
import * as path from 'node:path';
import lockfile from 'proper-lockfile';
import * as fs from '../io/fs.js';
import { readdirIfPresent } from '../io/if-present.js';
import { codes, errnoOf, TxnError } from '../errors.js';
import { acquiring, entryName, held, judge, mtimeOf, newRecord, OWNERLESS_GRACE_MS, removeDirIfEmpty, removeEntry, rootQueues, type Judged, type OwnerRecord } from './lock-owners.js';
import { MAX_TIMER_MS } from '../options/options.js';

// Where the owner entries are made, parsed and judged (lock-owners.ts); re-exported for recovery and tests.
export { isAbandonedTomb, OWNERLESS_GRACE_MS, thisHostTag } from './lock-owners.js';

/** Lock timing, already validated and defaulted (see options.ts). */
export interface LockTiming {
  /** A lock not refreshed for this long (ms) is stale and may be taken over. */
  readonly stale: number;
  /** Refresh interval (ms). */
  readonly update: number;
  /** How long to wait for a held lock before failing with ELOCKED (ms). */
  readonly timeout: number;
}

/** A lock this process holds. */
export interface HeldLock {
  /** The lock directory. */
  readonly path: string;
  /** Throws ECOMPROMISED unless the lock still holds our entry. */
  verify(): Promise<void>;
  /** Release (idempotent). Never removes an entry that is not ours. */
  release(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Acquisition

/** An attempt found other entries in the lock directory. */
class Contended extends Error {
  override readonly name = 'Contended';
  readonly code = 'ELOCKED';
  constructor(readonly others: readonly string[]) {
    super('lock is held or contended');
  }
}

/**
 * One attempt: make our entry, list the directory, keep the entry only if it is alone. Called by
 * proper-lockfile as its `mkdir` of the entry path, so that on success it owns the entry (heartbeat,
 * compromise, exit cleanup) as its lock.
 */
async function claim(entry: string): Promise<void> {
  const dir = path.dirname(entry);
  const mine = path.basename(entry);
  for (let tries = 0; ; tries++) {
    try {
      await fs.mkdir(dir);
    } catch (err) {
      if (errnoOf(err) !== 'EEXIST') throw err;
    }
    try {
      await fs.mkdir(entry);
    } catch (err) {
      // ENOENT: the last owner removed the empty directory between our two mkdirs. Start again;
      // a few times in a row means something keeps removing it: report it as contention.
      if (errnoOf(err) === 'ENOENT') {
        if (tries < 8) continue;
        throw new Contended([]);
      }
      // ENOSPC (no inode left), EIO, ...: do not leave an empty lock directory behind.
      await removeDirIfEmpty(dir).catch(() => undefined);
      throw err;
    }
    let names: string[];
    try {
      names = await fs.readdir(dir);
    } catch (err) {
      await fs.rmdir(entry).catch(() => undefined);
      throw err;
    }
    const others = names.filter((n) => n !== mine);
    if (others.length === 0) return;
    // Someone else is here: a holder, or a waiter that arrived with us. Back off; the caller
    // judges the others and waits.
    try {
      await fs.rmdir(entry);
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT') throw err;
    }
    throw new Contended(others);
  }
}

// The `fs` proper-lockfile uses: callback style, routed through the seam. It mkdirs an entry
// (our claim), stats and utimes it (heartbeat), rmdirs it (release), rmdirSync at exit. One per
// lock directory's parent, because proper-lockfile caches the mtime precision it probes on this
// object, and that differs between filesystems (whole seconds on some).
type Cb<T = void> = (err: NodeJS.ErrnoException | null, value?: T) => void;
function makeAdapter() {
  return {
    mkdir(p: string, cb: Cb): void {
      claim(p).then(() => cb(null), (err: NodeJS.ErrnoException) => cb(err));
    },
    stat(p: string, cb: Cb<{ mtime: Date }>): void {
      fs.stat(p).then((info) => cb(null, { mtime: new Date(info.mtimeMs) }), (err: NodeJS.ErrnoException) => cb(err));
    },
    utimes(p: string, atime: Date, mtime: Date, cb: Cb): void {
      fs.utimes(p, atime, mtime).then(() => cb(null), (err: NodeJS.ErrnoException) => cb(err));
    },
    rmdir(p: string, cb: Cb): void {
      (async () => {
        await fs.rmdir(p);
        await removeDirIfEmpty(path.dirname(p));
      })().then(() => cb(null), (err: NodeJS.ErrnoException) => cb(err));
    },
    rmdirSync(p: string): void {
      // At exit, for entries this process holds: the entry is ours by name; the directory goes
      // only if empty.
      try {
        fs.rmdirSync(p);
        fs.rmdirSync(path.dirname(p));
      } catch {
        // Left for recovery: same-host waiters see this process gone at once.
      }
    },
  };
}
const adapters = new Map<string, ReturnType<typeof makeAdapter>>();
function adapterFor(lockDir: string): ReturnType<typeof makeAdapter> {
  const key = path.dirname(lockDir);
  let a = adapters.get(key);
  if (a === undefined) {
    // Bounded: a service that touches many roots keeps the most recent ones.
    if (adapters.size >= 256) adapters.delete(adapters.keys().next().value as string);
    a = makeAdapter();
    adapters.set(key, a);
  }
  return a;
}

function sleep(ms: number, signal: AbortSignal | undefined, wake?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    let watcher: fs.Watcher | undefined;
    const finish = (fn: () => void): void => {
      clearTimeout(timer);
      watcher?.close();
      signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const onAbort = (): void => finish(() => reject(signal?.reason));
    const timer = setTimeout(() => finish(resolve), ms);
    // Wake as soon as the lock directory changes (an owner left): the hand-off then costs no poll
    // interval. Where watching is not available (no inotify, a FUSE or network mount that reports
    // nothing) the timer still wakes us. Waiters woken by one release retry at slightly different
    // moments (now, or 1 or 2 ms later, at random): retrying together, each would see the others'
    // entries and all would back off again.
    if (wake !== undefined) {
      watcher = fs.watch(wake, () => {
        watcher?.close();
        const r = Math.random();
        if (r < 0.4) setImmediate(() => finish(resolve));
        else setTimeout(() => finish(resolve), r < 0.7 ? 1 : 2);
      });
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Judge the entries `names` of `dir` and remove the dead ones. Returns the live ones (judged), so
 * that the caller can wait for them or name them.
 */
async function clearDead(dir: string, names: readonly string[], stale: number): Promise<Judged[]> {
  const live: Judged[] = [];
  for (const name of names) {
    const j = await judge(dir, name, stale);
    if (j.dead) await removeEntry(dir, name);
    else live.push(j);
  }
  return live;
}

export interface AcquireOptions {
  /** Keep trying until `timing.timeout`; otherwise fail at once when held. */
  readonly wait: boolean;
  readonly signal?: AbortSignal | undefined;
  /** What the lock protects, for messages: 'root lock', 'owner lock'. */
  readonly what: string;
}

/** Acquire the lock directory `lockDir`. */
export async function acquire(lockDir: string, timing: LockTiming, options: AcquireOptions): Promise<HeldLock> {
  const state: { compromised: Error | undefined; released: boolean } = { compromised: undefined, released: false };
  const deadline = Date.now() + timing.timeout;
  let delay = 1;
  let release: (() => Promise<void>) | undefined;
  let record: OwnerRecord;
  let entry: string;
  for (;;) {
    options.signal?.throwIfAborted();
    // A new name for every attempt, never one used before: a waiter that listed our entry of a
    // failed attempt may judge it (it is gone: "dead") and remove it by that name a moment later.
    // Were the name reused, that removal could hit the entry of our next, successful attempt.
    const attempt = newRecord(timing.stale);
    const attemptEntry = path.join(lockDir, entryName(attempt));
    acquiring.add(attempt.token);
    try {
      release = await lockfile.lock(attemptEntry, {
        lockfilePath: attemptEntry,
        realpath: false,
        retries: 0,
        stale: timing.stale,
        update: timing.update,
        fs: adapterFor(lockDir),
        onCompromised: (err) => {
          // Recorded, not thrown: proper-lockfile calls this from a timer, where a throw would
          // take down the host process. The commit checks it before its commit point.
          state.compromised = err;
          if (held.get(lockDir) === attempt) held.delete(lockDir);
        },
      });
      held.set(lockDir, attempt);
      record = attempt;
      entry = attemptEntry;
      break;
    } catch (err) {
      if (!(err instanceof Contended)) throw err;
      const live = await clearDead(lockDir, err.others, timing.stale);
      // Only dead owners (now removed) or a waiter that arrived with us and left: try again.
      if (live.length === 0 && err.others.length > 0) continue;
      if (!options.wait || Date.now() >= deadline) throw lockedError(lockDir, live[0], timing, options);
      // Jitter, so that two waiters that arrived together and both backed off do not meet again.
      const wait = Math.min(delay, Math.max(1, deadline - Date.now())) * (0.5 + Math.random());
      await sleep(wait, options.signal, live.length > 0 ? lockDir : undefined);
      delay = Math.min(delay * 2, 100);
    } finally {
      acquiring.delete(attempt.token);
    }
  }
  const releaseLock = release;
  return {
    path: lockDir,
    async verify() {
      if (state.compromised === undefined && (await mtimeOf(entry)) === undefined) {
        state.compromised = new Error(`lock directory '${lockDir}' no longer holds this process's entry`);
      }
      if (state.compromised === undefined) return;
      // Not ours any more: recovery in this process must judge it like anyone else's.
      if (held.get(lockDir) === record) held.delete(lockDir);
      throw new TxnError(
        codes.ECOMPROMISED,
        `The ${options.what} at '${lockDir}' was taken over by another process (this process stalled for longer than lockStale = ${timing.stale} ms). Nothing was committed; retry the transaction.`,
        { cause: state.compromised, path: lockDir },
      );
    },
    async release() {
      if (state.released) return;
      state.released = true;
      try {
        await releaseLock();
      } catch (err) {
        // ERELEASED: proper-lockfile already let go (compromised). ENOENT: our entry was removed
        // by someone who judged us dead. Either way nothing of ours is left to remove.
        const code = errnoOf(err);
        if (code !== 'ERELEASED' && code !== 'ENOENT') throw err;
      } finally {
        if (held.get(lockDir) === record) held.delete(lockDir);
      }
    },
  };
}

function lockedError(lockDir: string, holder: Judged | undefined, timing: LockTiming, options: AcquireOptions): TxnError {
  const who = holder?.pid === undefined ? 'another process' : `process ${holder.pid}${holder.sameHost === false ? ' on another host' : ''}`;
  return new TxnError(
    codes.ELOCKED,
    `The ${options.what} at '${lockDir}' is held by ${who}` +
      (options.wait ? ` and was not released within ${timing.timeout} ms` : '') +
      `. Retry later; if that process is gone, its lock is reclaimed automatically (at once on this host, after ${timing.stale} ms from another host).`,
    { path: lockDir },
  );
}

// ---------------------------------------------------------------------------------------------
// Recovery's view

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
export async function lockState(lockDir: string, stale: number): Promise<LockState> {
  if (held.has(lockDir)) return 'held';
  const names = await readdirIfPresent(lockDir);
  if (names === undefined) return 'absent';
  let dead = 0;
  for (const name of names) {
    const j = await judge(lockDir, name, stale);
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
export async function removeDeadLock(lockDir: string, stale: number): Promise<void> {
  const names = await readdirIfPresent(lockDir);
  if (names === undefined) return;
  const live = await clearDead(lockDir, names, stale);
  if (live.length === 0) await removeDirIfEmpty(lockDir);
}

// ---------------------------------------------------------------------------------------------
// The in-thread queue of the root lock

/** Resolve when `p` does; reject with ELOCKED after `ms`, or with the signal's reason. */
function waitTurn(p: Promise<unknown>, lockDir: string, timing: LockTiming, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const finish = (fn: () => void): void => {
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const onAbort = (): void => finish(() => reject(signal?.reason));
    const timedOut = (): void => finish(() => reject(new TxnError(
      codes.ELOCKED,
      `The root lock at '${lockDir}' is held by another transaction in this process and was not released within ${timing.timeout} ms. Retry later.`,
      { path: lockDir },
    )));
    // A timer longer than MAX_TIMER_MS fires after 1 ms, so a long lockTimeout (or Infinity) is
    // waited out in chunks.
    const deadline = Date.now() + timing.timeout;
    let timer: NodeJS.Timeout | undefined;
    const arm = (): void => {
      // Even a deadline already passed fires from a timer: a turn that is free now (the previous
      // holder done) must win over a lockTimeout of 0.
      const left = Math.max(0, deadline - Date.now());
      timer = setTimeout(left > MAX_TIMER_MS ? arm : timedOut, Math.min(left, MAX_TIMER_MS));
    };
    arm();
    if (signal?.aborted) {
      onAbort();
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    p.then(() => finish(resolve));
  });
}

/**
 * Run `fn` holding the root lock of `home`. In-process callers queue first, in call order (no
 * polling), with the same `lockTimeout` as callers in other processes; the lock is released
 * whatever `fn` does.
 */
export async function withRootLock<T>(lockDir: string, timing: LockTiming, signal: AbortSignal | undefined, fn: (lock: HeldLock) => Promise<T>): Promise<T> {
  const previous = rootQueues.get(lockDir) ?? Promise.resolve();
  let done!: () => void;
  const mine = new Promise<void>((resolve) => {
    done = resolve;
  });
  const chain = previous.then(() => mine);
  rootQueues.set(lockDir, chain);
  try {
    await waitTurn(previous, lockDir, timing, signal);
    const lock = await acquire(lockDir, timing, { wait: true, signal, what: 'root lock' });
    let result: T;
    try {
      result = await fn(lock);
    } catch (err) {
      // The work's failure is what the caller must see: a release failing on top of it (the same
      // EIO, often) must not replace it. A commit that failed after its commit point would
      // otherwise be reported as "failed before its commit point, nothing changed".
      await lock.release().catch(() => undefined);
      throw err;
    }
    await lock.release();
    return result;
  } finally {
    // Pass the turn on only once the previous holder is done: a caller that timed out must not
    // let its successor overtake the holder it gave up on.
    void previous.then(() => {
      done();
      if (rootQueues.get(lockDir) === chain) rootQueues.delete(lockDir);
    });
  }
}
