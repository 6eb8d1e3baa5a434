/**
 * open-retry.ts: how the seam (fs.ts) retries an open that fails with EMFILE/ENFILE, and a read by
 * path that fails with ESTALE.
 */
import { errnoOf } from '../errors.js';

/**
 * How long an open that fails with EMFILE/ENFILE is retried. Those errnos are usually transient
 * (another part of the process, or another process, is about to close descriptors), and
 * write-file-atomic users get the same from graceful-fs: a delay growing from `firstDelayMs` by
 * `factor` up to `maxDelayMs`, until `maxTotalMs` of waiting, then the last error. Other errnos
 * are not retried. Snapshot-tested (test/io/open-retry.test.ts).
 */
export const OPEN_RETRY: OpenRetry = Object.freeze({ firstDelayMs: 2, factor: 2, maxDelayMs: 100, maxTotalMs: 1500 });

export interface OpenRetry {
  readonly firstDelayMs: number;
  readonly factor: number;
  readonly maxDelayMs: number;
  /** Total waiting before giving up; 0 turns retrying off. */
  readonly maxTotalMs: number;
}

let openRetry: OpenRetry = OPEN_RETRY;

/** Swap the retry bound (tests only: fault injection turns it off to see every injected error). */
export function useOpenRetry(next: OpenRetry = OPEN_RETRY): OpenRetry {
  const prev = openRetry;
  openRetry = next;
  return prev;
}

function isTooManyFiles(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'EMFILE' || code === 'ENFILE';
}

/**
 * Run `open` (a call that opens a descriptor: it reports itself to the fault hook each time, so an
 * injected EMFILE is retried as a real one) again while it fails with EMFILE/ENFILE, within the
 * bound above. Only calls that are safe to repeat come here: a failed open had no effect.
 */
export async function retryingOpen<T>(open: () => Promise<T>): Promise<T> {
  let waited = 0;
  let delay = openRetry.firstDelayMs;
  for (;;) {
    try {
      return await open();
    } catch (err) {
      const bound = openRetry;
      if (!isTooManyFiles(err) || waited >= bound.maxTotalMs) throw err;
      const wait = Math.min(delay, bound.maxDelayMs, bound.maxTotalMs - waited);
      await new Promise((resolve) => setTimeout(resolve, wait));
      waited += wait;
      delay *= bound.factor;
    }
  }
}

/**
 * ESTALE on a read by path: NFS and sshfs answer so when the file the path named when it was looked
 * up was replaced (renamed over) or removed before it was opened or read. The path names the new
 * file now (or nothing: then the retry answers ENOENT), so a read is tried again at once, as the
 * kernel's own VFS retries a lookup that met ESTALE. Bounded: a path that stays stale is the
 * caller's error. (libuv has no name for this errno, Node says 'Unknown system error -116':
 * errnoOf names it.)
 */
export const STALE_RETRIES = 5;

/** Run `read` (a whole read by path, safe to repeat) again while it fails with ESTALE, at most STALE_RETRIES times. */
export async function retryingStale<T>(read: () => Promise<T>): Promise<T> {
  for (let tries = 0; ; tries++) {
    try {
      return await read();
    } catch (err) {
      if (errnoOf(err) !== 'ESTALE' || tries >= STALE_RETRIES) throw err;
    }
  }
}
