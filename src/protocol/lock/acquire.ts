/**
 * lock/acquire.ts: acquiring a lock directory, waiting for it, and the lock one holds.
 *
 * Acquire: one attempt (`claim`, adapter.ts) through proper-lockfile; when others are listed,
 * judge them (judge.ts), remove the dead ones by name, and wait: woken by a watch of the lock
 * directory as soon as it changes (a hand-off costs no poll interval), else by a jittered backoff
 * timer. Every attempt uses a new owner name (never reused: see `acquire`). The lock returned
 * verifies that our entry is still there right before a commit point, and releases it.
 */
import { createRequire, Module } from 'node:module';
import * as path from 'node:path';
import { putNewSignalListenersFirst, signalListenersBefore } from './signals.js';
import { codes, errnoOf, TxnError } from '../../errors.js';
import { acquiring, entryName, entryPlace, held, newRecord, type OwnerRecord } from './owners.js';
import { judge, mtimeOf, removeEntry, type Judged } from './judge.js';
import { adapterFor, Contended, listings, patience, sole } from './adapter.js';
import { sleep } from './wait.js';

// signals.ts took its snapshot of the signal listeners when it was evaluated, before anything of
// this module's body ran; proper-lockfile (which adds signal-exit's) loads right here, by a
// require in the body, not an import: a bundler hoists every import of a dependency to the top
// of its output, ahead of that snapshot (the bundle of dist/bundle/ did, and an app's once
// listener then got it killed: test/protocol/lock/signals.test.ts). Loaded at import, not on
// first use: an app's signal listeners are usually registered after that, the order
// signals.ts restores.
const lockfile = loadLockfile();
putNewSignalListenersFirst(signalListenersBefore);

/**
 * proper-lockfile, loaded without graceful-fs. Its modules require graceful-fs only as the default
 * of their `fs` option, and every lock of txnfs passes its own (adapter.ts: the seam). Loading
 * graceful-fs cost 2-5 ms of every process's import of txnfs, and it patches Node's own
 * `fs.close` and `fs.closeSync` for the whole process, the app's calls included. So while
 * proper-lockfile loads, the module cache answers its `require('graceful-fs')` with a stand-in
 * that throws if it is ever used. Right after, that entry and the entries of proper-lockfile's
 * own modules (which hold the stand-in) leave the cache: this instance is txnfs's alone, and an
 * app that requires proper-lockfile or graceful-fs later (or fs-extra, which txnfs loads for a
 * tree removal) loads the real ones, as without txnfs. Where graceful-fs is loaded already (the
 * app loaded it, or proper-lockfile, first), proper-lockfile is loaded, or shared, as before.
 * All of this runs synchronously: nothing else can require in between.
 */
function loadLockfile(): typeof import('proper-lockfile') {
  const require = createRequire(import.meta.url);
  let gracefulFs: string | undefined;
  let packageDir: string | undefined;
  try {
    packageDir = path.dirname(require.resolve('proper-lockfile'));
    // Resolved from where proper-lockfile's own modules require it (lib/).
    gracefulFs = createRequire(path.join(packageDir, 'lib', 'lockfile.js')).resolve('graceful-fs');
  } catch {
    gracefulFs = undefined; // not where we look (a bundler's layout): loaded as proper-lockfile finds it
  }
  if (gracefulFs === undefined || packageDir === undefined || require.cache[gracefulFs] !== undefined) {
    return require('proper-lockfile') as typeof import('proper-lockfile');
  }
  const before = new Set(Object.keys(require.cache));
  const standIn = notLoaded(gracefulFs);
  require.cache[gracefulFs] = standIn;
  try {
    return require('proper-lockfile') as typeof import('proper-lockfile');
  } finally {
    if (require.cache[gracefulFs] === standIn) delete require.cache[gracefulFs];
    for (const key of Object.keys(require.cache)) {
      if (!before.has(key) && key.startsWith(packageDir + path.sep)) delete require.cache[key];
    }
  }
}

/** A module for `file` whose exports throw on use (see `loadLockfile`). */
function notLoaded(file: string): Module {
  const m = new Module(file);
  m.filename = file;
  m.loaded = true;
  m.exports = new Proxy(
    {},
    {
      get(_target, key) {
        throw new Error(`txnfs: proper-lockfile used its default fs (graceful-fs, not loaded) for '${String(key)}'; every lock of txnfs must pass its own fs (src/protocol/lock/adapter.ts)`);
      },
    },
  );
  return m;
}

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
  /**
   * A flat lock (the root lock): the names of the directory its entries live in (the home), as
   * the listing that made it ours saw them. A caller that would list the home right away (the
   * recovery gate) reads this instead.
   */
  readonly listing?: readonly string[] | undefined;
  /** An attempt found the lock held by a live owner, and this acquisition waited for it. */
  readonly waited?: boolean | undefined;
}

/**
 * Judge the entries `names` of `dir` and remove the dead ones. Returns the live ones (judged), so
 * that the caller can wait for them or name them.
 */
export async function clearDead(dir: string, names: readonly string[], stale: number): Promise<Judged[]> {
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
  /**
   * Nobody else ever takes this lock (a transaction's owner lock: its id is new). A lock
   * directory this call makes is then not listed after our entry is made (adapter.ts, `sole`).
   */
  readonly sole?: boolean | undefined;
  /**
   * The entries live beside `lockDir`, in its parent, named `<name>.o.<...>` (owners.ts,
   * FLAT_PREFIX): the root lock, whose parent is the home. The parent must exist.
   */
  readonly flat?: boolean | undefined;
}

/** Acquire the lock directory `lockDir`. */
export async function acquire(lockDir: string, timing: LockTiming, options: AcquireOptions): Promise<HeldLock> {
  const state: { compromised: Error | undefined; released: boolean } = { compromised: undefined, released: false };
  const began = Date.now();
  const deadline = began + timing.timeout;
  let delay = 1;
  let release: (() => Promise<void>) | undefined;
  let record: OwnerRecord;
  let entry: string;
  let listing: readonly string[] | undefined;
  let waited = false;
  const place = entryPlace(lockDir, options.flat === true);
  if (options.sole === true) sole.add(lockDir);
  try {
    for (;;) {
      options.signal?.throwIfAborted();
      // A new name for every attempt, never one used before: a waiter that listed our entry of a
      // failed attempt may judge it (it is gone: "dead") and remove it by that name a moment later.
      // Were the name reused, that removal could hit the entry of our next, successful attempt.
      // Every attempt carries when this acquisition began: the earliest waiter keeps its entry
      // and the others step back (adapter.ts, `keep`), so the lock is handed on in arrival order.
      const attempt = newRecord(timing.stale, began);
      const attemptEntry = path.join(place.dir, place.prefix + entryName(attempt));
      acquiring.add(attempt.token);
      if (options.wait) patience.set(attemptEntry, { until: deadline, stale: timing.stale, signal: options.signal });
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
        listing = listings.get(attemptEntry);
        break;
      } catch (err) {
        if (!(err instanceof Contended)) throw err;
        const live = await clearDead(place.dir, err.others, timing.stale);
        // Only dead owners (now removed) or a waiter that arrived with us and left: try again.
        if (live.length === 0 && err.others.length > 0) continue;
        if (!options.wait || Date.now() >= deadline) throw lockedError(lockDir, live[0], timing, options);
        waited = true;
        // Jitter, so that two waiters that arrived together and both backed off do not meet again.
        const wait = Math.min(delay, Math.max(1, deadline - Date.now())) * (0.5 + Math.random());
        await sleep(wait, options.signal, live.length > 0 ? { dir: place.dir, names: new Set(live.map((j) => j.name)) } : undefined);
        delay = Math.min(delay * 2, 100);
      } finally {
        acquiring.delete(attempt.token);
        patience.delete(attemptEntry);
        listings.delete(attemptEntry);
      }
    }
  } finally {
    if (options.sole === true) sole.delete(lockDir);
  }
  const releaseLock = release;
  return {
    path: lockDir,
    listing,
    waited,
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

