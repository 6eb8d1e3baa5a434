/**
 * lock.ts: the root lock and the owner locks, over proper-lockfile.
 *
 * proper-lockfile gives a lock that works across processes and on network filesystems (mkdir is
 * atomic there, mtime is the heartbeat). txnfs adds three things through the `fs` option it accepts:
 *
 * 1. Every lock directory holds an `owner` file {host, pid, start, token, stale}. A lock whose owner
 *    is certainly gone (same host, pid absent or reused; see identity.ts) is reclaimed at once
 *    instead of after the stale time, so recovery at boot after a crash does not wait. So is a
 *    lock that names this very thread of this very process but that none of its live locks
 *    carries (a release or an acquisition that failed half-way left it behind). A lock of another
 *    thread of this process is alive (invariant 4): it is judged by its mtime heartbeat only.
 * 2. A lock directory is never removed blindly: it is renamed to a unique tomb first (only one
 *    renamer can win), then the tomb is checked to be the lock that was judged dead or is ours,
 *    and only then deleted; otherwise it is renamed back. This closes the race where two processes
 *    judge the same lock stale and the second deletes the lock the first just took.
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
  return owner !== undefined && ownerIsDone(tomb, owner);
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
      await fs.mkdir(p);
      // The owner file goes in before proper-lockfile reports the lock as acquired, so a lock we
      // hold always names us (or, for the instant in between, is judged by mtime alone).
      try {
        await writeSmallFile(path.join(p, OWNER_FILE), JSON.stringify(record), false);
      } catch (err) {
        await fs.removeTree(p).catch(() => undefined);
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
  const owner = await readOwner(lockDir);
  if (owner === undefined || !ownerIsDone(lockDir, owner)) return false;
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
  const limit = Math.max(owner?.stale ?? 0, stale, staleFloor);
  return info.mtimeMs < Date.now() - limit ? 'dead' : 'held';
}

/** Remove a dead owner lock (after its staging dir is gone). Safe against a concurrent re-lock. */
export async function removeDeadLock(lockDir: string, stale: number): Promise<void> {
  await removeLockIf(lockDir, async (tomb) => {
    const owner = await readOwner(tomb);
    if (owner !== undefined && ownerIsDone(lockDir, owner)) return true;
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
