/**
 * inline.ts: which filesystem calls the seam (fs.ts) makes inline, synchronously on the calling
 * thread, instead of through libuv's thread pool.
 *
 * Why: a small commit is about twenty calls one after another (mkdir, lstat, link, rename,
 * rmdir, ...), each a few microseconds of kernel work on a local disk. Through the thread pool each
 * also costs a request, a hop to a pool thread and back and a promise: 35 to 60 µs on this
 * machine, most of a small commit's time (docs/benchmarks.md, issue 14). write-file-atomic pays it
 * five times per write, a one-file commit about twenty. Made inline those calls cost what the
 * kernel takes.
 *
 * What keeps it from hurting the host process (the event loop waits while a call runs):
 * - Only below a root on a local filesystem (`inlineUnder`, decided once per real root by its
 *   mount type: platform/local-root.ts), or in a directory a single-file write found on one (its
 *   device's mount: `holdInline`, then local-root.ts's `noteWriteDir`). On NFS, SMB, sshfs or any
 *   FUSE mount a call is a round trip to a server or a daemon, and stays in the pool.
 * - Only calls that touch metadata (lstat, stat, utimes, mkdir, link, ...) or a small buffer:
 *   never an fsync (those take milliseconds, and several in flight at once is the point), a read
 *   of a whole file above `INLINE_READ_MAX`, a copy, a write above `INLINE_WRITE_MAX`, an unlink
 *   or rename that may free more than `INLINE_FREE_MAX`, a tree removal. fs.ts chooses per call.
 * - At most `INLINE_PER_TURN` inline calls per turn of the event loop; past that, calls go through
 *   the pool until the next turn. A transaction of 100,000 files makes most of its per-file calls
 *   in the pool, as before, and the loop is never held for more than that many calls in a row.
 * - Only for the real filesystem (node-fs.ts). A test that swaps the implementation (useFsImpl)
 *   gets every call through its own asynchronous methods.
 *
 * The calls and their order are the same either way, and each is reported to the fault hook
 * before it runs, as before: the crash harness and the fault loops see no difference.
 */
import * as path from 'node:path';

/** Inline calls allowed per turn of the event loop (see the header). */
export const INLINE_PER_TURN = 32;

/** The largest write made inline: a page-cache copy of a small file. */
export const INLINE_WRITE_MAX = 64 * 1024;

/**
 * The largest file read inline (the state file of an `update()`, a small file a precondition or a
 * snapshot reads): open, `fstat` and one read, from the page cache. A bigger one, one that grew
 * past its `fstat` size, or anything but a regular file is read through the pool.
 */
export const INLINE_READ_MAX = 64 * 1024;

/**
 * The most bytes an inline unlink or rename may free (a file's last name dropped): freeing is
 * fast for a file written back (1.4 ms a GiB on ext4) but not for one still in the page cache
 * (33 ms a GiB), so only small files, whose size the caller knows.
 */
export const INLINE_FREE_MAX = 1024 * 1024;

/**
 * Real roots, and whether calls below them may be inline (on a local filesystem). A root that may
 * not is recorded too: below it the nearest recorded root decides, so a FUSE or network mount
 * used as a root inside a local one keeps its calls in the thread pool. `held`: a directory
 * `holdInline` recorded and nothing decided yet, not inline meanwhile.
 */
const roots = new Map<string, boolean | 'held'>();

/**
 * The most directories `holdInline` records. A process that writes single files into more
 * directories than this gets the calls of the others decided as before (by the nearest recorded
 * root, else in the thread pool), and the map stays small: each lookup walks the path, not the map.
 */
export const MAX_HELD_DIRS = 4096;
let held = 0;
let left = INLINE_PER_TURN;
let refillPending = false;

function refill(): void {
  left = INLINE_PER_TURN;
  refillPending = false;
}

/**
 * Record whether calls below the real root `root` (absolute, resolved) may run inline: `allowed`
 * when it is on a local filesystem.
 */
export function inlineUnder(root: string, allowed = true): void {
  roots.set(root, allowed);
}

/**
 * Before a single-file write's first call in `dir` (absolute, as the write names it): unless `dir`
 * has a record of its own, record it as not inline until its filesystem is known
 * (`inlinePending`, then `inlineUnder`). Without this, a recorded root above `dir` would decide
 * for it, and a FUSE or network mount inside a local root would get inline calls. Does nothing
 * past `MAX_HELD_DIRS` directories.
 */
export function holdInline(dir: string): void {
  if (roots.has(dir) || held >= MAX_HELD_DIRS) return;
  held += 1;
  roots.set(dir, 'held');
}

/** Whether `dir` is held by `holdInline` and not decided yet. */
export function inlinePending(dir: string): boolean {
  return roots.get(dir) === 'held';
}

/** Forget every root (tests). */
export function resetInline(): void {
  roots.clear();
  held = 0;
  refill();
}

/**
 * Whether calls on `p` may run inline: the nearest recorded root at or above `p` allows it (for
 * tests and reports; spends no budget).
 */
export function inlineAllowed(p: string): boolean {
  // Walk up `p`: a handful of Map lookups, whatever the number of roots (a service may use many).
  for (let dir = p; ; ) {
    const allowed = roots.get(dir);
    if (allowed !== undefined) return allowed === true;
    const up = path.dirname(dir);
    if (up === dir) return false;
    dir = up;
  }
}

/**
 * Whether a call on `p` may run inline now: `p` is below a local root and this turn's budget is
 * not spent. Spends one unit of the budget when it says yes. The budget is refilled by a
 * setImmediate: where that never runs (a test's fake timers), calls go through the pool once it is
 * spent, slower but never stuck.
 */
export function mayInline(p: string): boolean {
  if (roots.size === 0 || left <= 0 || !inlineAllowed(p)) return false;
  left -= 1;
  if (!refillPending) {
    refillPending = true;
    setImmediate(refill);
  }
  return true;
}
