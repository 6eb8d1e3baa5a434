/**
 * orphans.ts: what recover(dir) does about single-file writes: remove the temp files and update()
 * locks that dead writers left in `<dir>/.txnfs/`.
 *
 * A temp file is judged by the writer its name records (tempname.ts), without opening it:
 *
 *   writer ran on this host in this boot, and is certainly gone (pid absent or reused) → orphan
 *   writer is this very thread, which no longer writes it (its removal failed)          → orphan
 *   writer ran on this host in this boot, and certainly still runs                    → kept, whatever its age
 *   anything else (another host, an earlier boot, a start time it could not read)     → orphan once its
 *                                                                                        mtime is older than
 *                                                                                        max(lockStale, 30 s)
 *
 * Live writers refresh their temps' mtime every 5 s (heartbeat.ts), so the last rule never takes
 * a live writer's temp unless that writer stalls for longer than the stale time; its rename then
 * fails and its file is untouched. A name that is not a temp name is never touched: a user's file
 * cannot be removed by this code, whatever it is called. An update() lock is judged as any txnfs
 * lock is (lock.ts) and removed through the same tomb-rename that is safe against a concurrent
 * re-lock.
 *
 * No root lock is needed: a temp name belongs to one writer only, and two recoveries removing the
 * same orphan are harmless (the second sees ENOENT). The removals are not fsynced: an orphan that
 * comes back after a power loss is removed by the next recover().
 *
 * Cost: per temp, string parsing and one small /proc read (two for a writer that is gone), plus an
 * lstat when the writer cannot be judged by identity; after a commit, none for a writer this
 * thread found alive within COMMIT_ALIVE_FOR_MS. Nothing outside `.txnfs/` is read.
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import * as fs from '../io/fs.js';
import { lstatIfPresent, readdirIfPresent, unlinkIfPresent } from '../io/if-present.js';
import { isProcessAlive, isProcessGone, type ProcessIdentity } from '../protocol/identity.js';
import { TEMP_PREFIX, UPDATE_LOCK_PREFIX } from '../protocol/layout.js';
import { lockState, removeDeadLock } from '../protocol/lock.js';
import { parseTempName, writerIdentity } from './tempname.js';
import { isWritingHere, TEMP_STALE_MS } from './heartbeat.js';
import { threadId } from 'node:worker_threads';

const UPDATE_LOCK_RE = /^\.upd-[0-9a-f]{16}\.lock$/;

/**
 * The name of the update() lock of the file called `base` in the same directory: a hash, so it
 * stays short however long `base` is. Two names that collide merely share a lock.
 */
export function updateLockName(base: string): string {
  return `${UPDATE_LOCK_PREFIX}${createHash('sha256').update(base).digest('hex').slice(0, 16)}.lock`;
}

/** Whether `name` is an update() lock's name. */
function isUpdateLockName(name: string): boolean {
  return UPDATE_LOCK_RE.test(name);
}

/** Whether a name in a home belongs to a single-file write (a temp file or an update() lock). */
export function isSingleFileRecord(name: string): boolean {
  return (name.startsWith(TEMP_PREFIX) && parseTempName(name) !== undefined) || (name.startsWith(UPDATE_LOCK_PREFIX) && isUpdateLockName(name));
}

/**
 * How long the clean-up after a commit (transaction/committer.ts) takes a writer this thread found
 * alive for alive, without asking /proc again. Where several processes commit to one root, every
 * commit's gate lists the others' lone files (each staged before its writer waits for the root
 * lock), and judging them read /proc/<pid>/stat 2-3 times per commit: four processes of 40
 * commits each read it 133 times per process, 39 with this (docs/performance.md, item 38). A temp of
 * a writer that died within this time after it was last found alive is left to a later commit or
 * recover(): it is only litter, and nothing waits for it. recover() and `txnfs status` judge afresh.
 */
export const COMMIT_ALIVE_FOR_MS = 1000;

/** Identity key (host, pid, start) → when this thread last found that writer alive. */
const foundAlive = new Map<string, number>();

/** Whether writer `id` is alive: by a verdict younger than `aliveFor` ms, else by /proc (remembered). */
function writerAlive(id: ProcessIdentity, aliveFor: number): boolean {
  // This process itself is judged without /proc (identity.ts): nothing to remember.
  if (id.pid === process.pid) return isProcessAlive(id);
  const key = `${id.host}|${id.pid}|${id.start}`;
  const now = Date.now();
  if (aliveFor > 0) {
    const at = foundAlive.get(key);
    if (at !== undefined && now - at < aliveFor) return true;
  }
  if (!isProcessAlive(id)) {
    foundAlive.delete(key);
    return false;
  }
  // Bounded: a service meets few writers at a time; a map that grew past this is started again.
  if (foundAlive.size >= 4096) foundAlive.clear();
  foundAlive.set(key, now);
  return true;
}

async function isOrphanTemp(home: string, name: string, staleMs: number, aliveFor: number): Promise<boolean> {
  const writer = parseTempName(name);
  if (writer === undefined) return false;
  const id = writerIdentity(writer);
  if (id !== undefined) {
    // Alive first: a commit in a root where others write judges their live temps every time, and
    // each question reads /proc/<pid>/stat once. Asked the other way round, a live writer cost
    // two reads (the two answers exclude each other, so the order changes no outcome).
    if (writerAlive(id, aliveFor)) {
      // This very thread's temp that it no longer writes: abandoned, its removal failed
      // (heartbeat.ts keeps the thread's registry). Only when the name's start time is this
      // process's too (alive): one without it is judged by its age, as before.
      if (writer.thread === threadId && id.pid === process.pid) return !isWritingHere(path.join(home, name));
      return false;
    }
    if (isProcessGone(id)) return true;
  }
  const info = await lstatIfPresent(path.join(home, name));
  if (info === undefined) return false; // its writer renamed or removed it meanwhile
  return info.mtimeMs < Date.now() - Math.max(staleMs, TEMP_STALE_MS);
}

export interface OrphanOptions {
  /** The caller's lock stale time (ms); temps are given at least `TEMP_STALE_MS`. */
  readonly stale: number;
  /** Report without removing. */
  readonly dryRun: boolean;
  /**
   * Take a writer this thread found alive less than this many ms ago for alive, without reading
   * /proc again (the clean-up after a commit: COMMIT_ALIVE_FOR_MS). Absent or 0: judge afresh.
   */
  readonly aliveFor?: number | undefined;
}

/** Orphans found (and, without `dryRun`, removed): their paths and the bytes of their temp files. */
export interface Orphans {
  readonly paths: string[];
  readonly bytes: number;
}

/**
 * Remove the orphans among `names` (entries of `home` for which `isSingleFileRecord` holds).
 * Returns their paths (with `dryRun`: the paths that would be removed) and their temps' size,
 * measured before the removal (a killed createWriteStream can leave hundreds of MB: worth saying).
 */
export async function removeOrphans(home: string, names: readonly string[], options: OrphanOptions): Promise<Orphans> {
  const removed: string[] = [];
  let bytes = 0;
  for (const name of names) {
    const p = path.join(home, name);
    try {
      if (isUpdateLockName(name)) {
        if ((await lockState(p, options.stale)) !== 'dead') continue;
        if (!options.dryRun) {
          await removeDeadLock(p, options.stale);
          // A live updater may have taken the lock between the judgement and the removal; then
          // the tomb-rename put it back, and it is not ours to report.
          if (await fs.lstat(p).then(() => true, () => false)) continue;
        }
      } else {
        if (!(await isOrphanTemp(home, name, options.stale, options.aliveFor ?? 0))) continue;
        const size = (await fs.lstat(p)).size;
        if (!options.dryRun) await unlinkIfPresent(p);
        bytes += size;
      }
      removed.push(p);
    } catch {
      // An orphan is only untidy: one that cannot be removed (EACCES in a shared directory, a
      // directory given a temp's name) must not fail the recovery of everything else. It stays,
      // and the next recover() tries again.
    }
  }
  return { paths: removed, bytes };
}

/** The orphans in `home` now, removing nothing (for `txnfs status`). A missing home has none. */
export async function findOrphans(home: string, stale: number): Promise<Orphans> {
  const names = await readdirIfPresent(home);
  if (names === undefined) return { paths: [], bytes: 0 };
  return removeOrphans(home, names.filter(isSingleFileRecord).sort(), { stale, dryRun: true });
}
