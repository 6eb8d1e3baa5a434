/**
 * classify.ts: what recovery finds in a root's home (docs/protocol.md, "Life of a transaction",
 * the table of what recovery finds; step 3 of a commit). Lists the home, and judges each
 * transaction by its owner lock and its records, without changing anything: `classify` for
 * `recoverLocked` (recover.ts, and every commit's recovery gate) and `inspect` for people and
 * `txnfs status`.
 *
 * A staging dir is acted on only when it is a real directory made by a trusted uid, with records
 * of the types txnfs makes; every record is lstat'ed, never followed (invariant 3).
 */
import * as path from 'node:path';
import * as fs from '../io/fs.js';
import { errnoOf } from '../errors.js';
import { lstatIfPresentStrict, readdirIfPresent } from '../io/if-present.js';
import { CorruptJournal, readJournal, type Journal } from './journal.js';
import { filesDir, homeOf, journalPath, OWNER_LOCK_RE, ownerLockOf, rootLockPath, STAGING_RE, stagingDirOf, TOMB_PREFIX } from './layout.js';
import { isAbandonedTomb, isFlatEntry, lockState, type LockState } from './lock.js';
import { checkOptionsObject, defaults, lockStaleOption, resolveDir } from '../options/options.js';
import { hasRollbackMarker, trustHome } from './staging.js';
import { isSingleFileRecord } from '../single/orphans.js';

/** What a transaction found in a root's home is, as recovery sees it. */
export type TxnState = 'staging' | 'committed' | 'rolling-back' | 'corrupt' | 'foreign' | 'orphan-lock';

/** One transaction found in a root's home. */
export interface FoundTxn {
  /** The transaction id: its staging dir is `<dir>/.txnfs/.txn-<id>`. */
  readonly id: string;
  /**
   * 'staging': not committed (discarded by recovery if its owner is dead); 'committed': past its
   * commit point (recovery finishes it); 'rolling-back': recovery finishes the rollback; 'corrupt':
   * the journal fails its checksum (left for a person); 'foreign': not made by a trusted uid, or
   * holding something txnfs does not make there, such as a symlink (left untouched, reported);
   * 'orphan-lock': an owner lock without a
   * staging dir (removed once its owner is dead).
   */
  readonly state: TxnState;
  /** 'held': its owner is alive; 'dead': gone or stale; 'absent': no owner lock. */
  readonly owner: LockState;
  /** Entries in its journal (0 when it has none). */
  readonly entries: number;
  /** For 'corrupt' and 'foreign': why it was rejected. */
  readonly reason?: string | undefined;
  /**
   * When its staging dir last changed, in ms since the epoch: about when it began, or when it
   * reached its commit point. For an orphan lock, the lock's last refresh.
   */
  readonly mtimeMs: number;
  /** Staged files not applied yet (in its `files/`). */
  readonly staged: number;
  /** Their total size in bytes. */
  readonly bytes: number;
}

// Classification runs inside every commit, so it leaves out what only inspect() reports.
export interface Classified extends Omit<FoundTxn, 'mtimeMs' | 'staged' | 'bytes'> {
  readonly staging: string;
  readonly lock: string;
  readonly journal?: Journal | undefined;
}

/** List what a home holds: transaction ids (staging dirs, owner locks), tombs, single-file records, and whether a root lock exists. */
export async function listIds(home: string, listed?: readonly string[]): Promise<{ ids: string[]; tombs: string[]; singles: string[]; rootLock: boolean; legacyRootLock: boolean }> {
  let names: readonly string[];
  try {
    // `listed`: the home as the root lock's acquisition listed it (lock.ts, HeldLock.listing).
    names = listed ?? (await fs.readdir(home, true));
  } catch (err) {
    if (errnoOf(err) === 'ENOENT' || errnoOf(err) === 'ENOTDIR') return { ids: [], tombs: [], singles: [], rootLock: false, legacyRootLock: false };
    throw err;
  }
  const ids = new Set<string>();
  const tombs: string[] = [];
  const singles: string[] = [];
  for (const name of names) {
    const m = STAGING_RE.exec(name) ?? OWNER_LOCK_RE.exec(name);
    if (m?.[1] !== undefined) ids.add(m[1]);
    else if (name.startsWith(TOMB_PREFIX)) tombs.push(name);
    else if (isSingleFileRecord(name)) singles.push(name);
  }
  // The root lock: its entries in the home (owners.ts, FLAT_PREFIX), or a lock directory an
  // older txnfs left (`legacyRootLock`).
  const legacyRootLock = names.includes(path.basename(rootLockPath(home)));
  return { ids: [...ids].sort(), tombs, singles, rootLock: legacyRootLock || names.some(isFlatEntry), legacyRootLock };
}


function kindName(info: fs.Info): string {
  return info.kind === 'symlink' ? 'symlink' : info.kind === 'dir' ? 'directory' : info.kind === 'file' ? 'file' : 'special file';
}

/**
 * Why the staging dir `staging` (lstat'ed as `info`, a directory) is not one recovery may act on,
 * or undefined when it is. `trusted`: the uids whose staging dirs are trusted (staging.ts).
 * Each record is lstat'ed, never followed: a journal or files/ that is a symlink would make
 * recovery read, rename or delete wherever it points.
 */
async function foreignReason(staging: string, info: fs.Info, trusted: ReadonlySet<number> | undefined): Promise<string | undefined> {
  const untrusted = (what: string, i: fs.Info): string | undefined =>
    trusted !== undefined && !trusted.has(i.uid) ? `${what} is owned by uid ${i.uid}, which txnfs does not trust here (trusted: ${[...trusted].join(', ')})` : undefined;
  const own = untrusted(`'${staging}'`, info);
  if (own !== undefined) return own;
  // txnfs makes it 0700: group or others able to write it could have put anything inside.
  if (trusted !== undefined && (info.mode & 0o022) !== 0) return `'${staging}' is writable by other users (mode ${info.mode.toString(8)}); txnfs makes staging dirs 0700`;
  for (const [name, kind] of [['files', 'dir'], ['backup', 'dir'], ['journal', 'file'], ['rollback', 'file']] as const) {
    const p = path.join(staging, name);
    // A live transaction may finish and remove its files while we look.
    const i = await lstatIfPresentStrict(p);
    if (i === undefined) continue;
    if (i.kind !== kind) return `'${p}' is a ${kindName(i)}, not the ${kind === 'dir' ? 'directory' : 'regular file'} txnfs makes; txnfs does not follow it`;
    const owner = untrusted(`'${p}'`, i);
    if (owner !== undefined) return owner;
  }
  return undefined;
}

/**
 * What recovery knows of transaction `id`. `gate`: the caller is a commit's recovery gate, which
 * only needs to know whether a transaction whose owner is alive has passed its commit point (it
 * then refuses with ELOCKED; anything else of a live transaction is skipped, whatever it is): for
 * such a one, the absence of `journal` is the whole answer, one `lstat` where a full look costs
 * six calls (the staging dir, its four records, a read). Each other live transaction in the root
 * was paid for under the root lock by every commit: with four processes committing to one root,
 * 19 calls per commit, and the lock was held twice as long as the commit's own work.
 */
export async function classify(home: string, id: string, stale: number, trusted: ReadonlySet<number> | undefined, gate = false): Promise<Classified> {
  const staging = stagingDirOf(home, id);
  const lock = ownerLockOf(home, id);
  const owner = await lockState(lock, stale);
  const base = { id, staging, lock, owner };
  // A journal appears only under the root lock, which the gate's caller holds: a live owner
  // without one is staging (or cleaning up) and is left alone. Anything at that name, of any
  // kind, gets the full look below.
  if (gate && owner === 'held' && (await lstatIfPresentStrict(journalPath(staging))) === undefined) return { ...base, state: 'staging', entries: 0 };
  const info = await lstatIfPresentStrict(staging);
  if (info === undefined) return { ...base, state: 'orphan-lock', entries: 0 };
  if (trusted !== undefined && !trusted.has(info.uid)) {
    return { ...base, state: 'foreign', entries: 0, reason: `'${staging}' is owned by uid ${info.uid}, which txnfs does not trust here (trusted: ${[...trusted].join(', ')})` };
  }
  if (info.kind !== 'dir') {
    // txnfs only ever makes a directory here. A symlink would lead recovery to read a journal and
    // delete or create files wherever it points, outside the root: leave it for a person.
    return { ...base, state: 'corrupt', entries: 0, reason: `'${staging}' is a ${info.kind}, not a staging directory; txnfs does not follow it` };
  }
  const foreign = await foreignReason(staging, info, trusted);
  if (foreign !== undefined) return { ...base, state: 'foreign', entries: 0, reason: foreign };
  let journal: Journal | undefined;
  try {
    journal = await readJournal(staging);
  } catch (err) {
    if (err instanceof CorruptJournal) return { ...base, state: 'corrupt', entries: 0, reason: err.message };
    throw err;
  }
  if (journal === undefined) return { ...base, state: 'staging', entries: 0 };
  if (journal.id !== id) {
    // A journal renamed in from another staging dir: its files and backups are not these.
    return { ...base, state: 'foreign', entries: 0, reason: `the journal in '${staging}' belongs to transaction ${journal.id}` };
  }
  const state: TxnState = (await hasRollbackMarker(staging)) ? 'rolling-back' : 'committed';
  return { ...base, state, entries: journal.entries.length, journal };
}


/** Age and staged size of a classified transaction: one lstat per staged file. */
async function measure(c: Classified): Promise<Pick<FoundTxn, 'mtimeMs' | 'staged' | 'bytes'>> {
  const at = await lstatIfPresentStrict(c.state === 'orphan-lock' ? c.lock : c.staging);
  let staged = 0;
  let bytes = 0;
  if (c.state !== 'orphan-lock') {
    const files = filesDir(c.staging);
    const names = (await readdirIfPresent(files)) ?? [];
    for (const name of names) {
      const info = await lstatIfPresentStrict(path.join(files, name));
      if (info?.kind !== 'file') continue;
      staged++;
      bytes += info.size;
    }
  }
  return { mtimeMs: at?.mtimeMs ?? 0, staged, bytes };
}

/**
 * List every transaction in the home of `dir`, with its state, whether its owner is alive, its age
 * and what it has staged. Read-only; takes no lock. Costs one lstat per staged file.
 * `options.lockStale` (default 10000) is the stale time used to judge owners on other hosts.
 *
 * @example
 * ```ts
 * // A health check: transactions whose owner is gone, waiting for recover()
 * const stuck = (await inspect('out')).filter((t) => t.owner !== 'held');
 * if (stuck.length > 0) console.warn(`run recover('out'): ${stuck.map((t) => t.id).join(', ')}`);
 * ```
 */
export async function inspect(dir: string, options?: { lockStale?: number }): Promise<FoundTxn[]> {
  const stale = lockStaleOption(checkOptionsObject(options, 'options', ['lockStale']));
  const root = await fs.realpath(resolveDir(dir, 'dir')).catch(() => resolveDir(dir, 'dir'));
  const home = homeOf(root);
  const { ids } = await listIds(home);
  const found: FoundTxn[] = [];
  // Read-only: a home recovery would refuse trusts nobody here, so everything in it shows 'foreign'.
  const trusted = ids.length === 0 ? undefined : await trustHome(root, home, await fs.lstat(home)).catch((): ReadonlySet<number> => new Set<number>());
  for (const id of ids) {
    const c = await classify(home, id, stale, trusted);
    found.push({ id: c.id, state: c.state, owner: c.owner, entries: c.entries, ...(c.reason === undefined ? {} : { reason: c.reason }), ...(await measure(c)) });
  }
  return found;
}

/**
 * Whether the lock tomb `p` was left behind and recover() removes it: one older than the stale
 * time, or one whose owner is gone (a crash during a lock release), or one without an owner record
 * untouched for a short grace (its remover died between the record and the directory; see
 * lock.ts, OWNERLESS_GRACE_MS). A fresh one of a live process may be about to be renamed back.
 */
export async function isDeadTomb(p: string, stale: number): Promise<boolean> {
  const info = await fs.lstat(p).catch(() => undefined);
  return info !== undefined && (info.mtimeMs < Date.now() - stale || (await isAbandonedTomb(p)));
}

/**
 * The lock tombs in the home of the root `root` that recover() would remove now (paths).
 * Read-only; for `txnfs status`.
 */
export async function deadTombs(root: string, stale = defaults.lockStale): Promise<string[]> {
  const home = homeOf(root);
  const { tombs } = await listIds(home);
  const dead: string[] = [];
  for (const tomb of tombs.sort()) if (await isDeadTomb(path.join(home, tomb), stale)) dead.push(path.join(home, tomb));
  return dead;
}
