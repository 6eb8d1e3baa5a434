/**
 * lock/queue.ts: the root lock, with an in-thread queue in front of it. Acquisitions of one root
 * lock in this thread wait their turn on a promise chain (kept in the registry every loaded copy
 * of txnfs shares), so in-process contention costs no polling, then take the lock directory like
 * any other process (acquire.ts).
 */
import { codes, TxnError } from '../../errors.js';
import { MAX_TIMER_MS } from '../../options/options.js';
import { rootQueues } from './owners.js';
import { acquire, type HeldLock, type LockTiming } from './acquire.js';

/**
 * When (Date.now()) an acquisition of a root lock (by path) in this thread last had to wait: for a
 * holder in this thread (the queue below) or in another process. A commit reads it to choose
 * whether to wait for its staged files' fsyncs before it takes the lock
 * (transaction/committer.ts, `settleStaging`): where others commit too, the lock must not be held
 * across an fsync. One entry per root this thread committed to. A heuristic of this copy of txnfs:
 * it is not in the registry every copy shares (owners.ts), whose shape is versioned by its key.
 */
const contended = new Map<string, number>();

/**
 * How long a wait counts (ms). Between writers that take turns, an acquisition that happens to
 * find the lock free is common; each wait keeps the next second's commits from holding the lock
 * across their fsync.
 */
export const CONTENDED_FOR_MS = 1000;

/** Whether an acquisition of the root lock `lockDir` in this thread waited within CONTENDED_FOR_MS. */
export function rootLockContended(lockDir: string): boolean {
  const at = contended.get(lockDir);
  return at !== undefined && Date.now() - at < CONTENDED_FOR_MS;
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
  const queued = rootQueues.get(lockDir);
  const previous = queued ?? Promise.resolve();
  let done!: () => void;
  const mine = new Promise<void>((resolve) => {
    done = resolve;
  });
  const chain = previous.then(() => mine);
  rootQueues.set(lockDir, chain);
  try {
    await waitTurn(previous, lockDir, timing, signal);
    // Flat: its entries live in the home itself (owners.ts, FLAT_PREFIX).
    const lock = await acquire(lockDir, timing, { wait: true, signal, what: 'root lock', flat: true });
    if (queued !== undefined || lock.waited === true) contended.set(lockDir, Date.now());
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
