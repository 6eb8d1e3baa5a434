/**
 * lock.ts: the root lock and the owner locks, over proper-lockfile.
 *
 * proper-lockfile gives a lock that works across processes and on network filesystems (mkdir is
 * atomic there, mtime is the heartbeat). txnfs adds three things through the `fs` option it accepts:
 *
 * 1. Every lock directory holds an `owner` file {host, pid, start, thread, token, stale}, from the
 *    moment it exists: it is published complete (made under a private tomb name, record written,
 *    renamed into place), so no other process ever sees a lock without a record (one that does
 *    exist, from an older txnfs or a crash, is nobody's after OWNERLESS_GRACE_MS). A lock whose owner
 *    is certainly gone (same host, pid absent or reused; see identity.ts) is reclaimed at once
 *    instead of after the stale time, so recovery at boot after a crash does not wait. So is a
 *    lock that names this very thread of this very process but that none of its live locks
 *    carries (a release or an acquisition that failed half-way left it behind). A lock of another
 *    thread of this process is alive (invariant 4): it is judged by its mtime heartbeat only.
 * 2. A lock directory is never removed blindly: it is renamed to a unique tomb first (only one
 *    renamer can win), then the tomb is checked to be the lock that was judged dead or is ours,
 *    and only then deleted; otherwise it is renamed back. This closes the race where two processes
 *    judge the same lock stale and the second deletes the lock the first just took. A lock judged
 *    dead is re-checked (inode, token) right before the rename, so a waiter that lost the race to
 *    reclaim it does not move aside the lock its winner's successor just published.
 * 3. A compromised lock is recorded, never thrown from a timer (proper-lockfile's default would
 *    crash the host process). `verify()` re-checks ownership by token right before a commit point.
 *
 * Within one thread, acquisitions of the same root lock queue on a promise chain first, so
 * in-process contention costs no polling.
 *
 * What this thread holds, is acquiring or is moving lives in one registry per thread shared by
 * every loaded copy of txnfs (`globalThis`, under a `Symbol.for` key): npm can install two copies
 * side by side, and a lock one copy holds must never look abandoned to the other. Worker threads
 * have a `globalThis` of their own, so each owner record also names its thread, and only locks of
 * this very thread are ever judged against the registry.
 */
import * as path from 'node:path';
import { threadId } from 'node:worker_threads';
import lockfile from 'proper-lockfile';
import { nanoid } from 'nanoid';
import * as fs from './fs.js';
import { codes, errnoOf, TxnError } from './errors.js';
import { isProcessGone, parseIdentity, selfIdentity, type ProcessIdentity } from './identity.js';
import { OWNER_FILE, TOMB_PREFIX } from './layout.js';
import { writeSmallFile } from './durable.js';
import { MAX_TIMER_MS } from './options.js';
import { removeKnown } from './remove.js';

/** Lock timing, already validated and defaulted (see options.ts). */
export interface LockTiming {
  /** A lock not refreshed for this long (ms) is stale and may be taken over. */
  readonly stale: number;
  /** Refresh interval (ms). */
  readonly update: number;
  /** How long to wait for a held lock before failing with ELOCKED (ms). */
  readonly timeout: number;
}

interface OwnerRecord extends ProcessIdentity {
  /**
   * The worker thread (`threadId`, 0 for the main thread) that took the lock. Absent in records
   * written before it existed: such a lock of this process is judged alive, like another thread's.
   */
  readonly thread?: number | undefined;
  readonly token: string;
  readonly stale: number;
  readonly since: number;
}

/** A lock this process holds. */
export interface HeldLock {
  /** The lock directory. */
  readonly path: string;
  /** Set when proper-lockfile found the lock taken over or lost. */
  readonly compromised: Error | undefined;
  /** Throws ECOMPROMISED unless the lock directory still carries our token. */
  verify(): Promise<void>;
  /** Release (idempotent). Never removes a lock directory that is not ours. */
  release(): Promise<void>;
}

/**
 * This thread's locks, shared by every copy of txnfs loaded in it. The shape is versioned in the
 * key: a later txnfs that changes it must use a new key, never reinterpret this one.
 */
interface Registry {
  /** Tokens of the acquisitions under way in this thread. */
  readonly acquiring: Set<string>;
  /** Lock directory → owner record, for the locks this thread holds. */
  readonly held: Map<string, OwnerRecord>;
  /** Tombs this thread is in the middle of removing (between the rename and the end). */
  readonly moving: Set<string>;
  /** Root lock directory → the tail of its in-thread queue (withRootLock). */
  readonly rootQueues: Map<string, Promise<unknown>>;
}
const REGISTRY = Symbol.for('txnfs.locks.v1');
const registry: Registry = ((globalThis as Record<symbol, unknown>)[REGISTRY] ??= {
  acquiring: new Set(),
  held: new Map(),
  moving: new Set(),
  rootQueues: new Map(),
} satisfies Registry) as Registry;
const { acquiring, held, moving, rootQueues } = registry;

async function readOwner(lockDir: string): Promise<(OwnerRecord & { valid: true }) | undefined> {
  let text: Buffer;
  try {
    text = await fs.readFile(path.join(lockDir, OWNER_FILE));
  } catch {
    return undefined;
  }
  try {
    const value = JSON.parse(text.toString('utf8')) as Record<string, unknown>;
    const id = parseIdentity(value);
    if (id === undefined || typeof value.token !== 'string') return undefined;
    return {
      ...id,
      thread: typeof value.thread === 'number' ? value.thread : undefined,
      token: value.token,
      stale: typeof value.stale === 'number' ? value.stale : 0,
      since: typeof value.since === 'number' ? value.since : 0,
      valid: true,
    };
  } catch {
    return undefined;
  }
}

/**
 * True when `owner` is this very thread of this very process, yet none of its locks carries that
 * token: the lock was left behind by a release or an acquisition that failed half-way (EIO on the
 * rename to a tomb, on the removal, on proper-lockfile's mtime probe). Nothing in this thread uses
 * it. Without this, such a lock looks alive (our pid runs) and blocks this thread until `stale` ms
 * pass. The registry is shared by every copy of txnfs in this thread, so a lock another copy holds
 * is known here; a lock of another thread (or of a record without a thread) never counts as
 * abandoned: this thread cannot see that thread's registry, and the lock is alive (invariant 4).
 */
function abandonedBySelf(dir: string, owner: OwnerRecord): boolean {
  const me = selfIdentity();
  if (owner.host !== me.host || owner.pid !== me.pid || owner.start !== me.start || owner.thread !== threadId || moving.has(dir)) return false;
  for (const r of held.values()) if (r.token === owner.token) return false;
  if (acquiring.has(owner.token)) return false;
  return true;
}

/** The owner of the lock at `dir` certainly does not use it: gone, or this process, done with it. */
function ownerIsDone(dir: string, owner: OwnerRecord): boolean {
  return isProcessGone(owner) || abandonedBySelf(dir, owner);
}

/**
 * Whether a tomb (a lock directory renamed for removal) may be removed now: its owner is gone or
 * this process abandoned it. A tomb that another live process is still moving is never judged so.
 */
export async function isAbandonedTomb(tomb: string): Promise<boolean> {
  const owner = await readOwner(tomb);
  if (owner !== undefined) return ownerIsDone(tomb, owner);
  // No owner record. A tomb is made only by renaming a complete lock (or, as `.tomb-*` too, by an
  // acquirer preparing the lock it is about to publish), so its record is gone because a remover
  // unlinked it, or was never written because an acquirer is between its mkdir and its write. In
  // both cases the tomb's mtime was set by that step (an unlink or a mkdir in it); both are
  // followed at once by the next step. Untouched for the grace, the tomb belongs to nobody alive.
  return !moving.has(tomb) && (await ownerlessPastGrace(tomb));
}

/**
 * How long a lock directory or tomb may lack its owner record before nobody is judged to be using
 * it. Every lock is published complete (adapterFor: made under a private name, record written,
 * renamed into place), so a lock directory without a record comes only from an older txnfs (which
 * wrote the record right after its mkdir) or from a crash of one; a tomb without a record is one a
 * remover died in, or an acquirer's private directory in the instant before its record is written.
 * Those instants last microseconds; 2 s (proper-lockfile's own minimum stale time) leaves a wide
 * margin. One that stalls longer loses nothing: an acquirer whose private directory is gone
 * retries, a remover whose tomb is gone is done, and an older txnfs that lost its lock this way is
 * caught by the token check before its commit point.
 */
export const OWNERLESS_GRACE_MS = 2000;

/** True when `dir` has no owner record (none at all, not an unreadable one). */
async function ownerMissing(dir: string): Promise<boolean> {
  try {
    await fs.lstat(path.join(dir, OWNER_FILE));
    return false;
  } catch (err) {
    const code = errnoOf(err);
    if (code === 'ENOENT') return true;
    if (code === 'ENOTDIR') return false;
    throw err;
  }
}

/** True when `dir` has no owner record and has not changed for the grace. */
async function ownerlessPastGrace(dir: string): Promise<boolean> {
  let info: fs.Info;
  try {
    info = await fs.lstat(dir);
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return false;
    throw err;
  }
  return info.kind === 'dir' && info.mtimeMs < Date.now() - OWNERLESS_GRACE_MS && (await ownerMissing(dir));
}

function tombFor(lockDir: string): string {
  return path.join(path.dirname(lockDir), `${TOMB_PREFIX}${nanoid(10)}`);
}

/**
 * Remove `lockDir` only if `isTheOne(tomb)` confirms, after an atomic rename, that what we moved is
 * the lock we meant. Returns true when the lock is gone (removed by us or already absent).
 */
async function removeLockIf(lockDir: string, isTheOne: (tomb: string) => Promise<boolean>): Promise<boolean> {
  const tomb = tombFor(lockDir);
  try {
    await fs.rename(lockDir, tomb);
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return true;
    throw err;
  }
  moving.add(tomb);
  try {
    if (await isTheOne(tomb)) {
      await removeKnown(tomb, [path.join(tomb, OWNER_FILE)], []);
      return true;
    }
    // We moved a lock someone took after we looked: put it back. If that fails (a third process
    // locked meanwhile), its owner detects the loss through proper-lockfile's mtime check.
    try {
      await fs.rename(tomb, lockDir);
    } catch {
      await fs.removeTree(tomb).catch(() => undefined);
    }
    return false;
  } finally {
    moving.delete(tomb);
  }
}

// The `fs` proper-lockfile uses for one acquisition: callback style, routed through the seam. One
// adapter per acquisition, so it knows which owner record is its own even when two callers of
// this thread try the same lock directory at once.
type Cb<T = void> = (err: NodeJS.ErrnoException | null, value?: T) => void;
const adapterFor = (record: OwnerRecord) => ({
  mkdir(p: string, cb: Cb): void {
    (async () => {
      // The lock is published complete: made under a private tomb name, its owner record written,
      // then renamed into place. A lock directory at `p` therefore always names its owner; with a
      // plain mkdir there was an instant without a record, in which a waiter that had judged the
      // previous (dead) holder's lock could move this new one aside, making its taker fail with
      // ENOENT writing the record (issue 12, item 8). Should this process die in between, the
      // private directory is an abandoned tomb that recover() removes.
      const temp = tombFor(p);
      await fs.mkdir(temp);
      try {
        await writeSmallFile(path.join(temp, OWNER_FILE), JSON.stringify(record), false);
        // rename() replaces an empty directory: look first, so that an owner-less lock left by an
        // older txnfs is judged (reclaimIfOwnerGone), not silently replaced.
        if (await fs.lstat(p).then(() => true, () => false)) throw held_(p);
        await fs.rename(temp, p);
      } catch (err) {
        await removeKnown(temp, [path.join(temp, OWNER_FILE)], []).catch(() => undefined);
        const code = errnoOf(err);
        // ENOTEMPTY/EEXIST: someone published first. ENOENT: our private directory was removed as
        // an abandoned tomb while we stalled. Both mean "retry", which ELOCKED-by-EEXIST gives.
        if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOENT') throw held_(p);
        throw err;
      }
    })().then(() => cb(null), (err: NodeJS.ErrnoException) => cb(err));
  },
  stat(p: string, cb: Cb<{ mtime: Date }>): void {
    fs.stat(p).then((info) => cb(null, { mtime: new Date(info.mtimeMs) }), (err: NodeJS.ErrnoException) => cb(err));
  },
  utimes(p: string, atime: Date, mtime: Date, cb: Cb): void {
    fs.utimes(p, atime, mtime).then(() => cb(null), (err: NodeJS.ErrnoException) => cb(err));
  },
  rmdir(p: string, cb: Cb): void {
    const releasing = held.get(p) === record;
    const judge = async (tomb: string): Promise<boolean> => {
      const owner = await readOwner(tomb);
      // Our own lock: remove it only if it still carries our token. (While acquiring,
      // proper-lockfile removes the lock it just made when its mtime probe fails; judged by mtime
      // alone, that fresh lock of ours would be put back and left behind.)
      if (owner?.token === record.token) return true;
      if (releasing) return false;
      // proper-lockfile judged someone's lock stale by mtime: confirm it is still stale.
      const info = await fs.stat(tomb);
      return info.mtimeMs < Date.now() - Math.max(owner?.stale ?? 0, staleFloor);
    };
    removeLockIf(p, judge).then(() => cb(null), (err: NodeJS.ErrnoException) => cb(err));
  },
  rmdirSync(p: string): void {
    // Only called by proper-lockfile's exit handler for locks this process holds.
    fs.removeTreeSync(p);
  },
});

// proper-lockfile's own minimum; also the floor for judging others' locks.
const staleFloor = 2000;

/** What proper-lockfile's mkdir must fail with for "the lock is taken" (it turns EEXIST into ELOCKED). */
function held_(p: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`lock directory '${p}' exists`), { code: 'EEXIST' });
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** If the owner of `lockDir` is certainly gone, remove the lock. True when the lock is gone. */
async function reclaimIfOwnerGone(lockDir: string): Promise<boolean> {
  let before: fs.Info;
  try {
    before = await fs.lstat(lockDir);
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return true;
    throw err;
  }
  const owner = await readOwner(lockDir);
  if (owner === undefined) {
    // No record past the grace: an older txnfs died between its mkdir and its record.
    if (!(await ownerlessPastGrace(lockDir))) return false;
    return removeLockIf(lockDir, async (tomb) => (await fs.lstat(tomb)).ino === before.ino && (await ownerlessPastGrace(tomb)));
  }
  if (!ownerIsDone(lockDir, owner)) return false;
  // Many waiters judge one dead lock at once; the first to move it aside wins, and another may
  // publish a new lock at once. Judging took a while (/proc reads), so make sure, right before
  // moving it, that the lock is still the very directory judged: moving a live lock aside makes
  // its taker fail if a third takes the place meanwhile (the move back then fails). After the
  // move, the tomb's token decides again.
  const now = await fs.lstat(lockDir).catch((err: unknown) => {
    if (errnoOf(err) === 'ENOENT') return undefined;
    throw err;
  });
  if (now === undefined) return true;
  if (now.ino !== before.ino || (await readOwner(lockDir))?.token !== owner.token) return false;
  return removeLockIf(lockDir, async (tomb) => (await readOwner(tomb))?.token === owner.token);
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
  const record: OwnerRecord = { ...selfIdentity(), thread: threadId, token: nanoid(), stale: timing.stale, since: Date.now() };
  const state: { compromised: Error | undefined; released: boolean } = { compromised: undefined, released: false };
  const deadline = Date.now() + timing.timeout;
  let delay = 2;
  let release: (() => Promise<void>) | undefined;
  while (release === undefined) {
    options.signal?.throwIfAborted();
    acquiring.add(record.token);
    try {
      release = await lockfile.lock(lockDir, {
        lockfilePath: lockDir,
        realpath: false,
        retries: 0,
        stale: timing.stale,
        update: timing.update,
        fs: adapterFor(record),
        onCompromised: (err) => {
          // Recorded, not thrown: proper-lockfile calls this from a timer, where a throw would
          // take down the host process. The commit checks it before its commit point.
          state.compromised = err;
          if (held.get(lockDir) === record) held.delete(lockDir);
        },
      });
      held.set(lockDir, record);
    } catch (err) {
      if (errnoOf(err) !== 'ELOCKED') throw err;
      if (await reclaimIfOwnerGone(lockDir)) continue;
      if (!options.wait || Date.now() >= deadline) throw await lockedError(lockDir, record, timing, options, err);
      await sleep(Math.min(delay, Math.max(1, deadline - Date.now())) * (0.5 + Math.random()), options.signal);
      delay = Math.min(delay * 2, 100);
    } finally {
      acquiring.delete(record.token);
    }
  }
  const releaseLock = release;
  return {
    path: lockDir,
    get compromised() {
      return state.compromised;
    },
    async verify() {
      if (state.compromised === undefined) {
        const owner = await readOwner(lockDir);
        if (owner?.token === record.token) return;
        state.compromised = new Error(`lock directory '${lockDir}' no longer carries this process's token`);
      }
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
        // ERELEASED: proper-lockfile already let go (compromised). Nothing of ours to remove.
        if (errnoOf(err) !== 'ERELEASED') throw err;
      } finally {
        if (held.get(lockDir) === record) held.delete(lockDir);
      }
    },
  };
}

async function lockedError(lockDir: string, record: OwnerRecord, timing: LockTiming, options: AcquireOptions, cause: unknown): Promise<TxnError> {
  const owner = await readOwner(lockDir);
  const who = owner === undefined ? 'another process' : `process ${owner.pid}${owner.host === record.host ? '' : ' on another host'}`;
  return new TxnError(
    codes.ELOCKED,
    `The ${options.what} at '${lockDir}' is held by ${who}` +
      (options.wait ? ` and was not released within ${timing.timeout} ms` : '') +
      `. Retry later; if that process is gone, its lock is reclaimed automatically (at once on this host, after ${timing.stale} ms from another host).`,
    { cause, path: lockDir },
  );
}

/**
 * The state of a transaction's owner lock, as recovery sees it: 'held' (its process is alive and
 * refreshing it: recovery leaves the transaction alone), 'dead' (its process has exited, or the
 * lock was not refreshed for the stale time), 'absent' (no lock).
 */
export type LockState = 'held' | 'dead' | 'absent';

/**
 * Whether the lock at `lockDir` is held by a live owner. 'dead' when its owner is certainly gone or
 * it is stale; 'absent' when there is no lock. `stale` is the caller's stale time; an owner that
 * declared a longer one is given that.
 */
export async function lockState(lockDir: string, stale: number): Promise<LockState> {
  const mine = held.get(lockDir);
  let info: fs.Info;
  try {
    info = await fs.lstat(lockDir);
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return 'absent';
    throw err;
  }
  if (mine !== undefined) return 'held';
  const owner = await readOwner(lockDir);
  if (owner !== undefined && ownerIsDone(lockDir, owner)) return 'dead';
  // A lock without a record is never mid-acquisition (locks are published complete): past a
  // short grace for an older txnfs between its mkdir and its record, nobody holds it.
  if (owner === undefined && (await ownerlessPastGrace(lockDir))) return 'dead';
  const limit = Math.max(owner?.stale ?? 0, stale, staleFloor);
  return info.mtimeMs < Date.now() - limit ? 'dead' : 'held';
}

/** Remove a dead owner lock (after its staging dir is gone). Safe against a concurrent re-lock. */
export async function removeDeadLock(lockDir: string, stale: number): Promise<void> {
  await removeLockIf(lockDir, async (tomb) => {
    const owner = await readOwner(tomb);
    if (owner !== undefined && ownerIsDone(lockDir, owner)) return true;
    if (owner === undefined && (await ownerlessPastGrace(tomb))) return true;
    const info = await fs.stat(tomb);
    return info.mtimeMs < Date.now() - Math.max(owner?.stale ?? 0, stale, staleFloor);
  });
}

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
