/**
 * lock/wait.ts: waiting for a lock directory to change.
 */
import * as fs from '../../io/fs.js';

/**
 * Resolve after `ms`, or as soon as the directory `wake` changes (when given); reject with the
 * signal's reason on abort.
 */
export function sleep(ms: number, signal: AbortSignal | undefined, wake?: string): Promise<void> {
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

