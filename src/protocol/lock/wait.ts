/**
 * lock/wait.ts: waiting for a lock directory to change.
 */
import * as fs from '../../io/fs.js';

/** What wakes a sleeper early: a change in `dir`; with `names`, only a change of one of them. */
export interface Wake {
  readonly dir: string;
  readonly names?: ReadonlySet<string> | undefined;
  /**
   * Wake at once, from the change's own event, without the jitter below or a turn of the event
   * loop: for the one waiter that keeps its entry (adapter.ts, `keep`), whom no other waiter
   * retries against.
   */
  readonly immediate?: boolean | undefined;
}

/**
 * Resolve after `ms`, or as soon as `wake` sees a change (when given); reject with the signal's
 * reason on abort.
 */
export function sleep(ms: number, signal: AbortSignal | undefined, wake?: Wake): Promise<void> {
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
    //
    // A waiter that stepped back is woken only by the entries it saw leaving (`names`: the holder,
    // or an earlier waiter keeping its entry), not by the coming and going of other waiters'
    // attempts: with several waiters, each attempt woke all the others, whose attempts woke it
    // again, a storm of calls that slowed the holder itself (4 processes on one root). An event
    // without a name (the platform did not say) wakes it.
    if (wake !== undefined) {
      const names = wake.names;
      let woken = false;
      const wakeUp = (): void => {
        if (woken) return;
        woken = true;
        watcher?.close();
        // The keeper resolves from the event itself: no other waiter retries against it, and a
        // turn of the loop (setImmediate) was 0.15-0.27 ms of each hand-off's median with 4
        // processes on one root (0.06-0.09 without it; docs/performance.md, item 33).
        if (wake.immediate === true) {
          finish(resolve);
          return;
        }
        const r = Math.random();
        if (r < 0.4) setImmediate(() => finish(resolve));
        else setTimeout(() => finish(resolve), r < 0.7 ? 1 : 2);
      };
      watcher = fs.watch(wake.dir, (name) => {
        if (names !== undefined && name !== undefined && !names.has(name)) return;
        wakeUp();
      });
      // An entry that left between the caller's listing and this watch was missed by it: one
      // listing now tells (without it, such a waiter slept its whole backoff, up to 100 ms).
      if (watcher !== undefined && names !== undefined) {
        fs.readdir(wake.dir, true).then((listed) => {
          for (const n of names) if (!listed.includes(n)) wakeUp();
        }, wakeUp);
      }
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

