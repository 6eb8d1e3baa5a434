/**
 * heartbeat.ts: keeps the mtime of every in-flight temp file fresh.
 *
 * Recovery judges a temp file by the identity in its name when the writer ran on this host in this
 * boot. A writer on another host (a shared network directory) or in an earlier boot cannot be asked
 * whether it runs, so recovery falls back to the temp's mtime, as proper-lockfile does for locks:
 * a temp not touched for `TEMP_STALE_MS` is an orphan. Writes touch the mtime themselves, but a
 * stream can sit idle between chunks and an fsync of a large file can take long, so one shared,
 * unref'd timer touches every temp this process has open every `HEARTBEAT_MS`.
 *
 * The same registry removes the temps still open if the process exits normally in the middle of
 * a write (`process.exit()` while a write is pending), as write-file-atomic does, so recover() is
 * needed only after a real crash. The exit handler only ever unlinks temp names: a temp already
 * renamed is gone (ENOENT), and one not yet renamed never will be, because the process is ending.
 *
 * Cost: a Set insert and delete per write; the timer exists only while some temp is open, and
 * it never keeps the process alive. The exit handler is registered once, at the first write.
 */
import * as fs from '../io/fs.js';

/** How often an open temp file's mtime is refreshed (ms). */
export const HEARTBEAT_MS = 5_000;
/**
 * A temp file whose writer cannot be judged by identity is an orphan once its mtime is this old
 * (ms): six missed heartbeats, so a busy event loop is not mistaken for a dead writer.
 */
export const TEMP_STALE_MS = 30_000;

/**
 * The temps this thread is writing, shared by every copy of txnfs loaded in it (`globalThis`, as
 * the lock registry is, src/protocol/lock/owners.ts): a temp named by this thread and not listed
 * here was abandoned by it (a write whose removal of its temp failed), and recover() removes it at
 * once (orphans.ts) rather than waiting for this process to exit. A writer registers its temp's
 * path before it creates the file, so no recover() can see a live temp unlisted.
 */
const REGISTRY = Symbol.for('txnfs.temps.v1');
const open: Set<string> = ((globalThis as Record<symbol, unknown>)[REGISTRY] ??= new Set<string>()) as Set<string>;
let timer: NodeJS.Timeout | undefined;

/** Whether this thread (any copy of txnfs in it) is writing the temp at `path`. */
export function isWritingHere(path: string): boolean {
  return open.has(path);
}

/**
 * Names in the registry that are never touched: a second name of another file (a one-file commit's
 * undo link, src/protocol/direct.ts), whose mtime is that file's own. Shared like the registry.
 */
const UNTOUCHED = Symbol.for('txnfs.temps.untouched.v1');
const untouched: Set<string> = ((globalThis as Record<symbol, unknown>)[UNTOUCHED] ??= new Set<string>()) as Set<string>;

function beat(): void {
  const now = new Date();
  for (const p of open) {
    if (untouched.has(p)) continue;
    // A temp may be renamed or removed between the snapshot and the call: nothing to refresh then.
    fs.utimes(p, now, now).catch(() => undefined);
  }
}

let exitHandler: (() => void) | undefined;

function removeOpenTemps(): void {
  for (const p of open) {
    try {
      fs.removeTreeSync(p);
    } catch {
      // Exiting anyway: what cannot be removed now, recover() removes.
    }
  }
}

/**
 * Keep `path` fresh until the returned function is called (idempotent); remove it at exit until
 * then. Call it before the file is created (see the registry above).
 */
export function keepFresh(path: string): () => void {
  if (exitHandler === undefined) {
    exitHandler = removeOpenTemps;
    process.once('exit', exitHandler);
  }
  open.add(path);
  if (timer === undefined) {
    timer = setInterval(beat, HEARTBEAT_MS);
    timer.unref();
  }
  let done = false;
  return () => {
    if (done) return;
    done = true;
    open.delete(path);
    if (open.size === 0 && timer !== undefined) {
      clearInterval(timer);
      timer = undefined;
    }
  };
}

/**
 * Keep `path` judged live as a temp this thread writes (`isWritingHere`), and removed at exit,
 * until the returned function is called, without ever touching it: for a hard link to another
 * file (a replaced file's undo link), which the heartbeat's utimes would change. Call it before the
 * link is made.
 */
export function holdName(path: string): () => void {
  untouched.add(path);
  const stop = keepFresh(path);
  return () => {
    stop();
    untouched.delete(path);
  };
}
