/**
 * lock/judge.ts: how a waiter or recovery judges one entry of a lock directory, and removes it.
 *
 * Dead: same host and the process certainly gone (identity.ts), this very thread with no
 * acquisition using the token (a release that failed half-way), or not refreshed for its stale
 * time. A dead entry is removed by its exact name only. An older txnfs's `owner` files and tombs
 * are judged here too. docs/protocol.md, "Locks and liveness".
 */
import * as path from 'node:path';
import { threadId } from 'node:worker_threads';
import * as fs from '../../io/fs.js';
import { lstatIfPresent } from '../../io/if-present.js';
import { errnoOf } from '../../errors.js';
import { isProcessGone, parseIdentity, selfIdentity, type ProcessIdentity } from '../identity.js';
import { OWNER_FILE } from '../layout.js';
import { acquiring, held, hostTag, identityOf, parseEntry, staleFloor, type OwnerRecord } from './owners.js';

/**
 * True when `owner` is this very thread of this very process, yet no acquisition of it carries
 * that token: the entry was left behind by a release or an acquisition that failed half-way (EIO on
 * an rmdir). Without this, such an entry looks alive (our pid runs) and blocks this thread until
 * `stale` ms pass. An entry of another thread is never judged so: this thread cannot see that
 * thread's registry, and the lock is alive (invariant 4).
 */
function abandonedBySelf(owner: OwnerRecord): boolean {
  const me = selfIdentity();
  if (owner.host !== hostTag(me.host) || owner.pid !== me.pid || owner.start !== me.start || owner.thread !== threadId) return false;
  for (const r of held.values()) if (r.token === owner.token) return false;
  return !acquiring.has(owner.token);
}

/** Why an entry of a lock directory is not (or is) in the way: judged one name at a time. */
export interface Judged {
  readonly name: string;
  readonly dead: boolean;
  /** It was gone by the time we looked at it: left, or removed by someone who judged it. */
  readonly vanished?: boolean;
  /** The owner, for messages; undefined for an entry that is not an owner entry. */
  readonly pid?: number | undefined;
  readonly sameHost?: boolean | undefined;
}

/** mtime of `p`, or undefined when it is gone. */
export async function mtimeOf(p: string): Promise<number | undefined> {
  return (await lstatIfPresent(p))?.mtimeMs;
}

/**
 * Judge one entry `name` of the lock directory `dir`. `stale` is the caller's stale time; an owner
 * that declared a longer one is given that. An entry that vanished while we looked is dead (it is
 * not in the way).
 */
export async function judge(dir: string, name: string, stale: number): Promise<Judged> {
  const owner = parseEntry(name);
  if (owner !== undefined) {
    const id = identityOf(owner);
    const sameHost = !id.host.startsWith('tag:');
    if (isProcessGone(id) || abandonedBySelf(owner)) return { name, dead: true, pid: owner.pid, sameHost };
    const mtime = await mtimeOf(path.join(dir, name));
    if (mtime === undefined) return { name, dead: true, vanished: true, pid: owner.pid, sameHost };
    const limit = Math.max(owner.stale, stale, staleFloor);
    return { name, dead: mtime < Date.now() - limit, pid: owner.pid, sameHost };
  }
  if (name === OWNER_FILE) {
    // An older txnfs's lock. Its heartbeat was the directory's mtime, but waiters of this version
    // touch that too (their entries come and go), so the record's own age is what is judged: a
    // leftover of a crash, since an older and this txnfs cannot share a root at the same time.
    const legacy = await readLegacyOwner(dir);
    if (legacy !== undefined && isProcessGone(legacy)) return { name, dead: true, pid: legacy.pid, sameHost: legacy.host === selfIdentity().host };
    const mtime = await mtimeOf(path.join(dir, name));
    const limit = Math.max(legacy?.stale ?? 0, stale, staleFloor);
    return { name, dead: mtime === undefined || mtime < Date.now() - limit, pid: legacy?.pid, sameHost: legacy === undefined ? undefined : legacy.host === selfIdentity().host };
  }
  // Something txnfs never makes here: judged by its age alone.
  const mtime = await mtimeOf(path.join(dir, name));
  return { name, dead: mtime === undefined || mtime < Date.now() - Math.max(stale, staleFloor) };
}

/** Remove the dead entry `name` of `dir`, by that exact name only. Gone already is fine. */
export async function removeEntry(dir: string, name: string): Promise<void> {
  const p = path.join(dir, name);
  try {
    if (name === OWNER_FILE) await fs.unlink(p);
    else if (parseEntry(name) !== undefined) await unlinkEntry(p);
    else await fs.removeTree(p);
  } catch (err) {
    // ENOENT: another waiter removed it first. ENOTEMPTY: not an entry we made; leave it.
    const code = errnoOf(err);
    if (code !== 'ENOENT' && code !== 'ENOTEMPTY') throw err;
  }
}

/**
 * Remove the owner entry at `p`: an empty file (an older build made empty directories, removed
 * with rmdir: EISDIR on Linux, EPERM elsewhere, says which). The unlink frees no data, so it may
 * run inline (io/inline.ts): through the thread pool, the release of the root lock cost a hop of
 * about 150 µs, more than the directory's rmdir it replaced.
 */
export async function unlinkEntry(p: string): Promise<void> {
  try {
    await fs.unlink(p, 0);
  } catch (err) {
    const code = errnoOf(err);
    if (code !== 'EISDIR' && code !== 'EPERM') throw err;
    // ENOTDIR: it was a file after all, and the EPERM was about it (a sticky directory, another
    // user's entry): that is the error to report, not the rmdir's.
    await fs.rmdir(p).catch((rmdirErr: unknown) => {
      throw errnoOf(rmdirErr) === 'ENOTDIR' ? err : rmdirErr;
    });
  }
}

/**
 * Remove the lock directory if it is empty; an owner that arrived meanwhile keeps it. True when it
 * is gone, false when an owner is in it.
 */
export async function removeDirIfEmpty(dir: string): Promise<boolean> {
  try {
    await fs.rmdir(dir);
    return true;
  } catch (err) {
    // ENOTEMPTY/EEXIST: an owner arrived. EPERM: the same on fusefat. ENOENT: gone already.
    const code = errnoOf(err);
    if (code === 'ENOENT') return true;
    if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'EPERM') return false;
    throw err;
  }
}

interface LegacyOwner extends ProcessIdentity {
  readonly stale: number;
}

/** The `owner` file an older txnfs wrote in its lock directories (and tombs). */
async function readLegacyOwner(dir: string): Promise<LegacyOwner | undefined> {
  let text: Buffer;
  try {
    text = await fs.readFile(path.join(dir, OWNER_FILE));
  } catch {
    return undefined;
  }
  try {
    const value = JSON.parse(text.toString('utf8')) as Record<string, unknown>;
    const id = parseIdentity(value);
    if (id === undefined) return undefined;
    return { ...id, stale: typeof value.stale === 'number' ? value.stale : 0 };
  } catch {
    return undefined;
  }
}

/**
 * How long a lock directory may be empty, or an older txnfs's tomb (a lock directory renamed for
 * removal) lack its owner record, before nobody is judged to be using it: an acquirer makes the
 * directory and then its entry, a releaser removes its entry and then the directory, an older
 * txnfs removed a tomb's record and then the tomb, each two steps microseconds apart. 2 s
 * (proper-lockfile's minimum stale time) leaves a wide margin. One that stalls longer loses
 * nothing: an acquirer whose directory is gone makes it again.
 */
export const OWNERLESS_GRACE_MS = 2000;

/**
 * Whether a tomb (`.tomb-*`, made only by an older txnfs) may be removed now: its owner is gone,
 * or it has had no owner record and no change for the grace.
 */
export async function isAbandonedTomb(tomb: string): Promise<boolean> {
  const owner = await readLegacyOwner(tomb);
  if (owner !== undefined) return isProcessGone(owner);
  const mtime = await mtimeOf(tomb);
  return mtime !== undefined && mtime < Date.now() - OWNERLESS_GRACE_MS;
}

