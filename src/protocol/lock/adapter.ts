/**
 * lock/adapter.ts: one attempt at a lock (`claim`), and the `fs` that proper-lockfile is given.
 *
 * proper-lockfile "mkdirs" the lock path and then keeps it fresh; here its mkdir is `claim` (make
 * our owner entry, list the directory, keep the entry only if it is alone), so that on success
 * proper-lockfile owns the entry as its lock: it refreshes its mtime every `update`, reports it
 * compromised when it is removed or its mtime changed under it, and removes it at exit. Every call
 * goes through the filesystem seam.
 */
import * as path from 'node:path';
import * as fs from '../../io/fs.js';
import { errnoOf } from '../../errors.js';
import { removeDirIfEmpty } from './judge.js';

/** An attempt found other entries in the lock directory. */
export class Contended extends Error {
  override readonly name = 'Contended';
  readonly code = 'ELOCKED';
  constructor(readonly others: readonly string[]) {
    super('lock is held or contended');
  }
}

/**
 * One attempt: make our entry, list the directory, keep the entry only if it is alone. Called by
 * proper-lockfile as its `mkdir` of the entry path, so that on success it owns the entry (heartbeat,
 * compromise, exit cleanup) as its lock.
 */
export async function claim(entry: string): Promise<void> {
  const dir = path.dirname(entry);
  const mine = path.basename(entry);
  for (let tries = 0; ; tries++) {
    try {
      await fs.mkdir(dir);
    } catch (err) {
      if (errnoOf(err) !== 'EEXIST') throw err;
    }
    try {
      await fs.mkdir(entry);
    } catch (err) {
      // ENOENT: the last owner removed the empty directory between our two mkdirs. Start again;
      // a few times in a row means something keeps removing it: report it as contention.
      if (errnoOf(err) === 'ENOENT') {
        if (tries < 8) continue;
        throw new Contended([]);
      }
      // ENOSPC (no inode left), EIO, ...: do not leave an empty lock directory behind.
      await removeDirIfEmpty(dir).catch(() => undefined);
      throw err;
    }
    let names: string[];
    try {
      names = await fs.readdir(dir);
    } catch (err) {
      await fs.rmdir(entry).catch(() => undefined);
      throw err;
    }
    const others = names.filter((n) => n !== mine);
    if (others.length === 0) return;
    // Someone else is here: a holder, or a waiter that arrived with us. Back off; the caller
    // judges the others and waits.
    try {
      await fs.rmdir(entry);
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT') throw err;
    }
    throw new Contended(others);
  }
}

// The `fs` proper-lockfile uses: callback style, routed through the seam. It mkdirs an entry
// (our claim), stats and utimes it (heartbeat), rmdirs it (release), rmdirSync at exit. One per
// lock directory's parent, because proper-lockfile caches the mtime precision it probes on this
// object, and that differs between filesystems (whole seconds on some).
type Cb<T = void> = (err: NodeJS.ErrnoException | null, value?: T) => void;
function makeAdapter() {
  return {
    mkdir(p: string, cb: Cb): void {
      claim(p).then(() => cb(null), (err: NodeJS.ErrnoException) => cb(err));
    },
    stat(p: string, cb: Cb<{ mtime: Date }>): void {
      fs.stat(p).then((info) => cb(null, { mtime: new Date(info.mtimeMs) }), (err: NodeJS.ErrnoException) => cb(err));
    },
    utimes(p: string, atime: Date, mtime: Date, cb: Cb): void {
      fs.utimes(p, atime, mtime).then(() => cb(null), (err: NodeJS.ErrnoException) => cb(err));
    },
    rmdir(p: string, cb: Cb): void {
      (async () => {
        await fs.rmdir(p);
        await removeDirIfEmpty(path.dirname(p));
      })().then(() => cb(null), (err: NodeJS.ErrnoException) => cb(err));
    },
    rmdirSync(p: string): void {
      // At exit, for entries this process holds: the entry is ours by name; the directory goes
      // only if empty.
      try {
        fs.rmdirSync(p);
        fs.rmdirSync(path.dirname(p));
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

