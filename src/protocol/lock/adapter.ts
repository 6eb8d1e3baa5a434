/**
 * lock/adapter.ts: one attempt at a lock (`claim`), and the `fs` that proper-lockfile is given.
 *
 * proper-lockfile "mkdirs" the lock path and then keeps it fresh; here its mkdir is `claim` (make
 * our owner entry, an empty file, list the directory, keep the entry only if it is alone), and its
 * rmdir an unlink of the entry, so that on success
 * proper-lockfile owns the entry as its lock: it refreshes its mtime every `update`, reports it
 * compromised when it is removed or its mtime changed under it, and removes it at exit. Every call
 * goes through the filesystem seam.
 */
import * as path from 'node:path';
import * as fs from '../../io/fs.js';
import { errnoOf } from '../../errors.js';
import { judge, removeDirIfEmpty, removeEntry, unlinkEntry } from './judge.js';
import { arrivalOf, isFlatEntry } from './owners.js';
import { sleep } from './wait.js';

/** An attempt found other entries in the lock directory. */
export class Contended extends Error {
  override readonly name = 'Contended';
  readonly code = 'ELOCKED';
  constructor(readonly others: readonly string[]) {
    super('lock is held or contended');
  }
}

/**
 * Lock directories that only their creator ever enters: a transaction's owner lock, named by an id
 * that is new (nobody else takes it; recovery only removes it, dead or empty). acquire.ts adds one
 * for the length of an attempt.
 */
export const sole = new Set<string>();

/**
 * How long an attempt may keep its entry while others are listed (acquire.ts sets it for the
 * length of an attempt, keyed by the entry's path): until `until` (ms since the epoch), while its
 * `signal` is not aborted. `stale` judges the others.
 */
export interface Patience {
  readonly until: number;
  readonly stale: number;
  readonly signal: AbortSignal | undefined;
}
export const patience = new Map<string, Patience>();

/**
 * A flat lock's entry (owners.ts, FLAT_PREFIX) → the listing of its directory that made it the
 * holder's: acquire.ts hands it on (HeldLock.listing) and forgets it.
 */
export const listings = new Map<string, readonly string[]>();

/** How long a kept entry waits between listings when no change wakes it. */
const KEEP_POLL_MS = 50;

/**
 * One attempt: make our entry, list the directory, keep the entry only if it is alone. Called by
 * proper-lockfile as its `mkdir` of the entry path, so that on success it owns the entry (heartbeat,
 * compromise, exit cleanup) as its lock.
 *
 * A lock directory in `sole` that this attempt made itself needs no listing: nobody else makes an
 * entry there, so ours is alone (one call saved on every transaction). One that existed already
 * (an id met twice, which nanoid makes vanishingly rare) is listed as any other.
 */
async function claim(entry: string): Promise<void> {
  const dir = path.dirname(entry);
  const mine = path.basename(entry);
  // A flat lock's entries live in a directory someone else made (the home), among other names.
  const flat = isFlatEntry(mine);
  const ours = (n: string): boolean => n !== mine && (!flat || isFlatEntry(n));
  for (let tries = 0; ; tries++) {
    let made = !flat;
    if (!flat) {
      try {
        await fs.mkdir(dir);
      } catch (err) {
        if (errnoOf(err) !== 'EEXIST') throw err;
        made = false;
      }
    }
    try {
      // An empty file: made and removed in about a fifth of the time of a directory on ext4
      // (21 against 100 µs for the pair), which frees a block on its removal.
      const h = await fs.create(entry, 0o644);
      await h.close().catch(async (err: unknown) => {
        await unlinkEntry(entry).catch(() => undefined);
        throw err;
      });
    } catch (err) {
      // ENOENT: the last owner removed the empty directory between our mkdir and create. Start again;
      // a few times in a row means something keeps removing it: report it as contention. A
      // flat lock's directory is not ours to make: its ENOENT is the caller's (a home gone).
      if (errnoOf(err) === 'ENOENT' && !flat) {
        if (tries < 8) continue;
        throw new Contended([]);
      }
      // ENOSPC (no inode left), EIO, ...: do not leave an empty lock directory behind.
      if (!flat) await removeDirIfEmpty(dir).catch(() => undefined);
      throw err;
    }
    if (made && sole.has(dir)) {
      claimed.set(entry, Date.now());
      return;
    }
    let names: string[];
    try {
      names = await fs.readdir(dir, true);
    } catch (err) {
      await unlinkEntry(entry).catch(() => undefined);
      throw err;
    }
    let others = names.filter(ours);
    const wait = patience.get(entry);
    if (others.length > 0 && wait !== undefined && isEarliest(mine, others)) ({ others, names } = await keep(entry, wait, others, names));
    if (others.length === 0) {
      claimed.set(entry, Date.now());
      if (flat) listings.set(entry, names);
      return;
    }
    // Someone else is here: a holder, or a waiter that arrived with us. Back off; the caller
    // judges the others and waits.
    await unlinkEntry(entry).catch((err: unknown) => {
      if (errnoOf(err) !== 'ENOENT') throw err;
    });
    throw new Contended(others);
  }
}

/** Whether the entry `mine` arrived before every one of `others` (owners.ts, `arrivalOf`). */
function isEarliest(mine: string, others: readonly string[]): boolean {
  const me = arrivalOf(mine);
  if (me === undefined) return false;
  return others.every((n) => {
    const other = arrivalOf(n);
    return other === undefined || other > me;
  });
}

/**
 * Keep our entry `entry` in its lock directory while others are listed, because it arrived before
 * all of them: wait for the directory to change, list it again, and take the lock as soon as our
 * entry is alone. The others are the holder and waiters that came later. Each of them that lists
 * the directory finds an earlier entry and steps back (see `claim`), so a released lock goes to
 * the waiter that has waited longest, at once: without this, waiters woken together by a release
 * all met each other, all stepped back, and tried again after a random delay, every time
 * (docs/benchmarks.md, four processes on one root).
 *
 * Mutual exclusion is the same rule as ever: the lock is ours only when a listing made after our
 * entry shows it alone. Keeping an entry only makes others step back. Dead entries (judge.ts) are
 * removed as any waiter would. Gives up, returning who is still there, when someone earlier
 * appears (clocks of two hosts disagree), our entry is gone (another host judged it stale: it is
 * not refreshed while we wait, hence the bound of half the stale time), the attempt's time is up
 * or its signal aborted: the caller then steps back as before. Resolves with the others still
 * there (none: the lock is ours) and the listing that showed them (`listing`: the caller's, until
 * this lists again), which a flat lock hands on (`listings`).
 */
async function keep(entry: string, wait: Patience, listed: string[], listing: string[]): Promise<{ others: string[]; names: string[] }> {
  const dir = path.dirname(entry);
  const mine = path.basename(entry);
  const until = Math.min(wait.until, Date.now() + wait.stale / 2);
  let others = listed;
  let last = listing;
  for (;;) {
    let names: string[];
    try {
      // Woken by the leaving of an entry listed before it (the holder, or an earlier waiter that
      // gave up), at once: later arrivals see our entry and step back by themselves, so their
      // coming and going is no reason to list the directory again.
      await sleep(Math.max(1, Math.min(KEEP_POLL_MS, until - Date.now())), wait.signal, { dir, names: new Set(others), immediate: true });
      names = await fs.readdir(dir, true);
    } catch {
      // Aborted, or the listing failed: step back with the last listing (the caller removes our
      // entry; the acquisition then sees the abort, or tries again).
      return { others, names: last };
    }
    // Our entry was removed (judged stale by another host): this attempt is over.
    const flat = isFlatEntry(mine);
    if (!names.includes(mine)) throw new Contended(flat ? names.filter(isFlatEntry) : names);
    const live: string[] = [];
    for (const name of names) {
      if (name === mine || (flat && !isFlatEntry(name))) continue;
      const j = await judge(dir, name, wait.stale);
      if (j.dead) await removeEntry(dir, name);
      else live.push(name);
    }
    others = live;
    last = names;
    if (live.length === 0 || !isEarliest(mine, live) || Date.now() >= until) return { others, names };
  }
}

/**
 * Entries claimed and not yet touched by proper-lockfile's `utimes`, with a time taken when the
 * claim succeeded, and whether their first `stat` was answered. Right after its `mkdir`,
 * proper-lockfile stats the new entry only to learn the mtime that its first refresh will compare
 * (its "is the mtime still ours?" check, against someone re-taking the lock by its path). An entry
 * here is named by a token nobody else uses, and nobody but its owner changes an entry's mtime:
 * the only thing that can happen to it is its removal, which the refresh's own stat still sees.
 * So the first stat is answered from here (no call: one saved per lock), and the first refresh's
 * stat, made for real, reports that same time; from the first `utimes` on, every stat is real.
 * The first acquisition under a home also makes proper-lockfile probe the mtime precision
 * (`utimes`, then `stat`): that `utimes` ends the entry's stay here, so the probe is real.
 */
const claimed = new Map<string, number | { readonly at: number }>();

// The `fs` proper-lockfile uses: callback style, routed through the seam. It "mkdirs" an entry
// (our claim: an empty file), stats and utimes it (heartbeat), "rmdirs" it (release: an unlink),
// "rmdirSync"s it at exit. One per
// lock directory's parent, because proper-lockfile caches the mtime precision it probes on this
// object, and that differs between filesystems (whole seconds on some).
type Cb<T = void> = (err: NodeJS.ErrnoException | null, value?: T) => void;
function makeAdapter() {
  return {
    mkdir(p: string, cb: Cb): void {
      claim(p).then(() => cb(null), (err: NodeJS.ErrnoException) => cb(err));
    },
    stat(p: string, cb: Cb<{ mtime: Date }>): void {
      const fresh = claimed.get(p);
      if (typeof fresh === 'number') {
        // The probe right after the claim (see `claimed`).
        claimed.set(p, { at: fresh });
        queueMicrotask(() => cb(null, { mtime: new Date(fresh) }));
        return;
      }
      claimed.delete(p);
      fs.stat(p).then(
        (info) => cb(null, { mtime: new Date(fresh === undefined ? info.mtimeMs : fresh.at) }),
        (err: NodeJS.ErrnoException) => cb(err),
      );
    },
    utimes(p: string, atime: Date, mtime: Date, cb: Cb): void {
      claimed.delete(p);
      fs.utimes(p, atime, mtime).then(() => cb(null), (err: NodeJS.ErrnoException) => cb(err));
    },
    rmdir(p: string, cb: Cb): void {
      claimed.delete(p);
      (async () => {
        await unlinkEntry(p);
        // A flat lock's directory (the home) is removed by whoever is done with it, not here.
        if (!isFlatEntry(path.basename(p))) await removeDirIfEmpty(path.dirname(p));
      })().then(() => cb(null), (err: NodeJS.ErrnoException) => cb(err));
    },
    rmdirSync(p: string): void {
      // At exit, for entries this process holds: the entry is ours by name; the directory goes
      // only if empty.
      try {
        // An empty file (a plain unlink, without loading fs-extra at exit); where the
        // implementation has no synchronous unlink (a test's), a tree removal of it.
        if (fs.hasLinkSync()) fs.unlinkSync(p);
        else fs.removeTreeSync(p);
        if (!isFlatEntry(path.basename(p))) fs.rmdirSync(path.dirname(p));
      } catch {
        // Left for recovery: same-host waiters see this process gone at once.
      }
    },
  };
}
const adapters = new Map<string, ReturnType<typeof makeAdapter>>();
export function adapterFor(lockDir: string): ReturnType<typeof makeAdapter> {
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

