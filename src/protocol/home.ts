/**
 * home.ts: no litter. A home (`<dir>/.txnfs/`) exists only while txnfs has something in it.
 * docs/protocol.md: "No litter: the home exists only while it is used".
 *
 * After a single-file write, a commit, an abort or a recover() with nothing left pending, the home
 * is removed if it is empty, so the user's directory holds only the user's files (a `.txnfs/` in
 * every directory written to showed up in listings, rsync and `aws s3 sync`). The removal is one
 * rmdir(2): it removes only an empty directory, atomically, so it can never take anything of
 * another writer with it (a temp file, a staging dir, a lock: all live inside the home, and any of
 * them makes the rmdir fail with ENOTEMPTY, which is the common, expected outcome under load).
 *
 * The other side of the race is every creator of something inside a home: it may find the home
 * gone between making it and using it (another writer's rmdir landed in between). Each creator
 * therefore treats ENOENT inside the home as "make the home again and retry" ({@link inHome}),
 * bounded so that a directory that really vanished (the root itself removed) still fails.
 *
 * The removal is not fsynced. It runs after everything that had to be durable is (the home's own
 * fsync after a commit's cleanup, or the target's directory after a single-file rename, which
 * then makes it durable at no extra cost): a power loss can at most bring back an empty home,
 * which the next write, commit or recover() removes.
 *
 * Cost: one rmdir per write or commit, plus, for the next one, the mkdir of the home (and, for a
 * transaction, the fsync of the root that a new home needs).
 *
 * Kept homes: a root opened with openRoot() (transaction/root.ts) is in use for as long as its
 * handle is open, so its home is kept between commits ({@link keepHome}): the rmdir above is skipped
 * there, and the next commit finds the home with one lstat instead of a mkdir and an lstat. The
 * handle's close() removes it as above; so does this process's exit (an `exit` listener, for a
 * handle never closed). A process killed by a signal leaves the empty home, as a crash does, for
 * the next writer or recover() to remove. Other processes, and other copies of this module, do not
 * see the keep: their rmdir of an empty home still lands, and the next commit here makes it again
 * (the creators' ENOENT retry below), which costs that commit the calls the keep saves.
 */
import * as fs from '../io/fs.js';
import { errnoOf } from '../errors.js';

/**
 * How often a creator re-makes a home that vanished under it before giving up. Each retry means
 * another writer's rmdir landed between this one's mkdir and its use of the home, which takes a
 * writer that finishes in that instant: a hundred in a row does not happen while the directory
 * exists.
 */
export const HOME_RETRIES = 100;

/**
 * rmdir failures that are the expected outcome: the home holds something, or is gone already.
 * fusefat answers EPERM, not ENOTEMPTY, for a directory that is not empty.
 */
const EXPECTED = new Set(['ENOTEMPTY', 'EEXIST', 'ENOENT', 'EBUSY', 'EPERM']);

/**
 * What this process last did with a home: `used` (made or found it) or `removed` (its rmdir
 * landed). A home it removed last, or has never seen, is most likely not there: a root at rest
 * has none (no litter), so the next writer makes it with a `mkdir` first rather than an `lstat`
 * that fails (staging.ts: one call saved on every commit after a commit, and on a process's first
 * commit in a root, a CLI's only one). Only a hint; bounded.
 */
const homeHints = new Map<string, 'used' | 'removed'>();

function hint(home: string, what: 'used' | 'removed'): void {
  if (homeHints.size >= 1024 && !homeHints.has(home)) homeHints.clear();
  homeHints.set(home, what);
}

/**
 * Whether `home` is most likely gone (see `homeHints`): this process removed it last or has never
 * seen it. Records it as used, since the caller is about to make or find it.
 */
export function likelyGone(home: string): boolean {
  const gone = homeHints.get(home) !== 'used';
  hint(home, 'used');
  return gone;
}

/** Record that this process made or found `home` (see `homeHints`). */
export function usedHome(home: string): void {
  hint(home, 'used');
}

/** Homes kept by open roots (openRoot), with how many handles keep each. */
const keptHomes = new Map<string, number>();

/** At exit: kept homes that are empty go, as No litter asks (see the header). */
function removeKeptHomesAtExit(): void {
  for (const home of keptHomes.keys()) {
    try {
      fs.rmdirSync(home);
    } catch {
      // Not empty (a transaction still in it), gone, or not removable: left, as a crash leaves it.
    }
  }
}

/**
 * Keep `home` between commits until the returned release is called (see the header). The release
 * returns true when no other keeper is left: the caller then removes the home if it is empty.
 * Calling it again is a no-op that returns false.
 */
export function keepHome(home: string): () => boolean {
  if (keptHomes.size === 0) process.on('exit', removeKeptHomesAtExit);
  keptHomes.set(home, (keptHomes.get(home) ?? 0) + 1);
  let released = false;
  return () => {
    if (released) return false;
    released = true;
    const left = (keptHomes.get(home) ?? 1) - 1;
    if (left > 0) {
      keptHomes.set(home, left);
      return false;
    }
    keptHomes.delete(home);
    if (keptHomes.size === 0) process.off('exit', removeKeptHomesAtExit);
    return true;
  };
}

/**
 * Remove the home `home` if it is empty, unless an open root keeps it ({@link keepHome}). Never
 * rejects: a home that is not empty (another writer's temp, a live transaction, a lock), already
 * gone, or not removable is simply left, and nothing depends on the outcome. Resolves with the
 * error of a removal that failed for another reason (EIO, EACCES, EROFS), so that a commit can
 * name it in its warnings.
 */
export async function removeHomeIfEmpty(home: string): Promise<Error | undefined> {
  if (keptHomes.has(home)) return undefined;
  try {
    await fs.rmdir(home);
    hint(home, 'removed');
    return undefined;
  } catch (err) {
    return EXPECTED.has(errnoOf(err) ?? '') ? undefined : (err as Error);
  }
}

/**
 * Run `use`, which creates something inside a home made by `make`, making the home again when
 * either fails with ENOENT (another writer removed the home, empty, in between). `make` runs
 * first and before each retry. Other failures are thrown as they are; so is the last ENOENT after
 * {@link HOME_RETRIES} attempts (the directory itself is gone).
 */
export async function inHome<T>(make: () => Promise<void>, use: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      await make();
      return await use();
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT' || attempt >= HOME_RETRIES) throw err;
    }
  }
}

/**
 * `inHome` for a caller that opened the home already (`first`): `use` gets that one on the first
 * attempt and one made again by `reopen` on each retry, so the common case costs no call here.
 */
export function inOpenedHome<H, T>(first: H, reopen: () => Promise<H>, use: (home: H) => Promise<T>): Promise<T> {
  let home: H | undefined;
  return inHome(
    async () => {
      home = home === undefined ? first : await reopen();
    },
    () => use(home as H),
  );
}

/**
 * Whether `err` (from taking a lock in `home`) means the home is gone: another writer removed it,
 * empty, so nothing was pending there any more.
 */
export async function homeVanished(err: unknown, home: string): Promise<boolean> {
  if (errnoOf(err) !== 'ENOENT') return false;
  try {
    await fs.lstat(home);
    return false;
  } catch (e) {
    return errnoOf(e) === 'ENOENT';
  }
}

/** Whether `dir` exists as a directory (following symlinks). */
export async function isDir(dir: string): Promise<boolean> {
  try {
    return (await fs.stat(dir)).kind === 'dir';
  } catch {
    return false;
  }
}
