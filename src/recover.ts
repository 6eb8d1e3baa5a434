/**
 * recover.ts: finish or discard what dead transactions left in a root.
 *
 * Recovery reads only `<root>/.txnfs/`, never the root itself, so it costs O(pending transactions)
 * however many files the root holds. With no home, or no transaction in it, it returns at once
 * without taking a lock or creating anything.
 *
 * Under the root lock, each `.txn-<id>` is classified by its owner lock and its records:
 *
 *   owner alive                           → skipped (never touched: invariant 4)
 *   journal fails its checksum            → corrupt: reported, left in place (invariant 8)
 *   journal + rollback marker             → rolled back (finish the rollback that was under way)
 *   journal                               → rolled forward (the commit point was passed)
 *   no journal                            → discarded (the commit point was never reached)
 *   owner lock with no staging dir        → discarded (a crash between lock and mkdir)
 *
 * Committed transactions are applied oldest first, before anything else in the root may commit
 * (commit calls `recoverLocked` under the same lock), so an old journal can never overwrite newer
 * data (invariant 7). Every action is idempotent, so a crash during recovery is finished by the
 * next recovery (invariant 5).
 */
import * as path from 'node:path';
import * as fs from './fs.js';
import { codes, errnoOf, isTxnError, TxnError } from './errors.js';
import { rollBack, rollForward } from './apply.js';
import { syncDir } from './durable.js';
import { CorruptJournal, readJournal, type Journal } from './journal.js';
import { homeOf, OWNER_LOCK_RE, ownerLockOf, rootLockPath, STAGING_RE, stagingDirOf, TOMB_PREFIX } from './layout.js';
import { lockState, removeDeadLock, withRootLock, type LockState, type LockTiming } from './lock.js';
import { checkOptionsObject, commonKeys, resolveCommon, resolveDir, type CommonOptions } from './options.js';
import { hasRollbackMarker, removeStaging, writeRollbackMarker } from './staging.js';

/** What a transaction found in a root's home is, as recovery sees it. */
export type TxnState = 'staging' | 'committed' | 'rolling-back' | 'corrupt' | 'orphan-lock';

/** One transaction found in a root's home. */
export interface FoundTxn {
  readonly id: string;
  readonly state: TxnState;
  /** 'held': its owner is alive; 'dead': gone or stale; 'absent': no owner lock. */
  readonly owner: LockState;
  /** Entries in its journal (0 when it has none). */
  readonly entries: number;
  /** For 'corrupt': why the journal was rejected. */
  readonly reason?: string | undefined;
}

/** A transaction recovery acted on. */
export interface RecoveredTxn {
  readonly id: string;
  /** Entries in its journal (0 for a discarded transaction that never reached its commit point). */
  readonly entries: number;
  /** Entries this recovery changed (the rest were done before the crash). */
  readonly changed: number;
  /** For a transaction rolled back because it could not be rolled forward: why. */
  readonly reason?: string | undefined;
}

/** A transaction recovery could not resolve, and why. */
export interface UnresolvedTxn {
  readonly id: string;
  readonly path: string;
  readonly reason: string;
  readonly error?: TxnError | undefined;
}

/** What `recover()` did (or, with `dryRun`, would do). */
export interface RecoverReport {
  /** The real path of the root. */
  readonly dir: string;
  readonly dryRun: boolean;
  /** Dead transactions past their commit point, now fully applied. */
  readonly rolledForward: RecoveredTxn[];
  /** Dead transactions that were rolling back (or failed to apply), now fully undone. */
  readonly rolledBack: RecoveredTxn[];
  /** Dead transactions that never reached their commit point, removed. */
  readonly discarded: RecoveredTxn[];
  /** Transactions whose owner is alive, left alone. */
  readonly skipped: { readonly id: string; readonly state: TxnState }[];
  /** Journals that failed their checksum, left in place for a person. */
  readonly corrupt: UnresolvedTxn[];
  /** Transactions whose apply and rollback both failed (e.g. EIO), left in place. */
  readonly failed: UnresolvedTxn[];
  readonly durationMs: number;
}

/** Options of {@link recover}. */
export interface RecoverOptions extends CommonOptions {
  /**
   * Classify and report without changing anything (and without taking the root lock).
   * @default false
   */
  readonly dryRun?: boolean | undefined;
  /** Called as entries are applied, e.g. to draw a progress bar. */
  readonly onProgress?: ((progress: RecoverProgress) => void) | undefined;
}

export interface RecoverProgress {
  readonly id: string;
  readonly direction: 'forward' | 'back';
  readonly done: number;
  readonly total: number;
}

interface Classified extends FoundTxn {
  readonly staging: string;
  readonly lock: string;
  readonly journal?: Journal | undefined;
}

/** List the transaction ids present in a home (staging dirs and owner locks). */
async function listIds(home: string): Promise<{ ids: string[]; tombs: string[]; rootLock: boolean }> {
  let names: string[];
  try {
    names = await fs.readdir(home);
  } catch (err) {
    if (errnoOf(err) === 'ENOENT' || errnoOf(err) === 'ENOTDIR') return { ids: [], tombs: [], rootLock: false };
    throw err;
  }
  const ids = new Set<string>();
  const tombs: string[] = [];
  for (const name of names) {
    const m = STAGING_RE.exec(name) ?? OWNER_LOCK_RE.exec(name);
    if (m?.[1] !== undefined) ids.add(m[1]);
    else if (name.startsWith(TOMB_PREFIX)) tombs.push(name);
  }
  return { ids: [...ids].sort(), tombs, rootLock: names.includes(path.basename(rootLockPath(home))) };
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.lstat(p);
    return true;
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return false;
    throw err;
  }
}

async function classify(home: string, id: string, stale: number): Promise<Classified> {
  const staging = stagingDirOf(home, id);
  const lock = ownerLockOf(home, id);
  const owner = await lockState(lock, stale);
  const base = { id, staging, lock, owner };
  if (!(await exists(staging))) return { ...base, state: 'orphan-lock', entries: 0 };
  let journal: Journal | undefined;
  try {
    journal = await readJournal(staging);
  } catch (err) {
    if (err instanceof CorruptJournal) return { ...base, state: 'corrupt', entries: 0, reason: err.message };
    throw err;
  }
  if (journal === undefined) return { ...base, state: 'staging', entries: 0 };
  const state: TxnState = (await hasRollbackMarker(staging)) ? 'rolling-back' : 'committed';
  return { ...base, state, entries: journal.entries.length, journal };
}

/**
 * List every transaction in the home of `dir`, with its state and whether its owner is alive.
 * Read-only; takes no lock.
 */
export async function inspect(dir: string, options: { lockStale?: number } = {}): Promise<FoundTxn[]> {
  const root = await fs.realpath(resolveDir(dir, 'dir')).catch(() => resolveDir(dir, 'dir'));
  const home = homeOf(root);
  const { ids } = await listIds(home);
  const stale = options.lockStale ?? 10_000;
  const found: FoundTxn[] = [];
  for (const id of ids) {
    const c = await classify(home, id, stale);
    found.push({ id: c.id, state: c.state, owner: c.owner, entries: c.entries, ...(c.reason === undefined ? {} : { reason: c.reason }) });
  }
  return found;
}

/** Everything `recoverLocked` needs. */
export interface RecoverContext {
  readonly root: string;
  readonly home: string;
  readonly durable: boolean;
  readonly timing: LockTiming;
  readonly concurrency: number;
  readonly dryRun: boolean;
  readonly onProgress?: ((progress: RecoverProgress) => void) | undefined;
}

function emptyReport(dir: string, dryRun: boolean, started: number): RecoverReport {
  return { dir, dryRun, rolledForward: [], rolledBack: [], discarded: [], skipped: [], corrupt: [], failed: [], durationMs: performance.now() - started };
}

/**
 * Recover every dead transaction in `ctx.home`. The caller holds the root lock (unless dry-run).
 * Used by `recover()` and, before its commit point, by every commit.
 */
export async function recoverLocked(ctx: RecoverContext): Promise<RecoverReport> {
  const started = performance.now();
  const report = emptyReport(ctx.root, ctx.dryRun, started);
  const { ids, tombs } = await listIds(ctx.home);
  const found: Classified[] = [];
  for (const id of ids) found.push(await classify(ctx.home, id, ctx.timing.stale));
  let removedSomething = false;

  // Committed (or rolling back) first, oldest commit point first: invariant 7.
  const committed = found
    .filter((t) => t.owner !== 'held' && t.journal !== undefined)
    .sort((a, b) => (a.journal?.created ?? 0) - (b.journal?.created ?? 0));
  for (const t of committed) {
    const journal = t.journal as Journal;
    if (ctx.dryRun) {
      (t.state === 'rolling-back' ? report.rolledBack : report.rolledForward).push({ id: t.id, entries: journal.entries.length, changed: 0 });
      continue;
    }
    const apply = {
      root: ctx.root,
      staging: t.staging,
      journal,
      durable: ctx.durable,
      concurrency: ctx.concurrency,
    };
    const progress = (direction: 'forward' | 'back') => (done: number, total: number) => ctx.onProgress?.({ id: t.id, direction, done, total });
    try {
      if (t.state === 'rolling-back') {
        const outcome = await rollBack({ ...apply, onProgress: progress('back') });
        report.rolledBack.push({ id: t.id, entries: journal.entries.length, changed: outcome.changed });
      } else {
        try {
          const outcome = await rollForward({ ...apply, onProgress: progress('forward') });
          report.rolledForward.push({ id: t.id, entries: journal.entries.length, changed: outcome.changed });
        } catch (applyError) {
          // Cannot finish forward (a target became a directory, EACCES, ...): undo behind a
          // durable marker, exactly as a live commit does, so the root ends all-old.
          await writeRollbackMarker(t.staging, ctx.durable);
          const outcome = await rollBack({ ...apply, onProgress: progress('back') });
          const reason = `could not be rolled forward (${(applyError as Error).message}); rolled back instead`;
          report.rolledBack.push({ id: t.id, entries: journal.entries.length, changed: outcome.changed, reason });
        }
      }
      await removeStaging(t.staging, ctx.durable);
      await removeDeadLock(t.lock, ctx.timing.stale);
      removedSomething = true;
    } catch (err) {
      const error = isTxnError(err) ? err : new TxnError(codes.EINCOMPLETE, `Recovery of transaction ${t.id} failed: ${(err as Error).message}. Its records were left in place; fix the cause and run recover() again.`, { cause: err, path: t.staging, txnId: t.id });
      report.failed.push({ id: t.id, path: t.staging, reason: error.message, error });
    }
  }

  for (const t of found) {
    if (t.owner === 'held') {
      report.skipped.push({ id: t.id, state: t.state });
      continue;
    }
    if (t.state === 'corrupt') {
      report.corrupt.push({ id: t.id, path: t.staging, reason: t.reason ?? 'corrupt' });
      continue;
    }
    if (t.state !== 'staging' && t.state !== 'orphan-lock') continue;
    report.discarded.push({ id: t.id, entries: 0, changed: 0 });
    if (ctx.dryRun) continue;
    // The commit point was never reached: nothing outside the staging dir was touched.
    await fs.removeTree(t.staging);
    await removeDeadLock(t.lock, ctx.timing.stale);
    removedSomething = true;
  }

  if (!ctx.dryRun) {
    for (const tomb of tombs) {
      // A tomb is a lock directory in the middle of removal. One older than the stale time was
      // left by a crash; a fresh one may be about to be renamed back, so it is left alone.
      const p = `${ctx.home}/${tomb}`;
      const info = await fs.lstat(p).catch(() => undefined);
      if (info !== undefined && info.mtimeMs < Date.now() - ctx.timing.stale) {
        await fs.removeTree(p);
        removedSomething = true;
      }
    }
    // One fsync makes every removal above durable; without it a power loss could bring back a
    // finished journal (harmless, it replays as a no-op, but then the root is not clean).
    if (removedSomething && ctx.durable) await syncDir(ctx.home);
  }
  return { ...report, durationMs: performance.now() - started };
}

const recoverKeys = [...commonKeys, 'dryRun', 'onProgress'] as const;

/**
 * Roll forward or discard whatever dead transactions left in `dir`. Safe to call at every boot and
 * concurrently with live transactions in other processes: it never touches a transaction whose
 * owner is alive, and it reads only `<dir>/.txnfs/`.
 *
 * Resolves with a report; journals that fail their checksum are reported in `corrupt` and left in
 * place (they never make it reject). Rejects with `ELOCKED` if another process holds the root lock
 * for longer than `lockTimeout`.
 *
 * @example
 * ```ts
 * const report = await recover('out');
 * if (report.corrupt.length > 0) console.error('needs a person:', report.corrupt);
 * ```
 */
export async function recover(dir?: string, options?: RecoverOptions): Promise<RecoverReport> {
  const started = performance.now();
  const o = checkOptionsObject(options, 'options', recoverKeys);
  const common = resolveCommon(o);
  const dryRun = o.dryRun ?? false;
  if (typeof dryRun !== 'boolean') throw new TypeError(`The "dryRun" option must be a boolean. Received ${String(dryRun)}`);
  const onProgress = o.onProgress;
  if (onProgress !== undefined && typeof onProgress !== 'function') throw new TypeError('The "onProgress" option must be a function.');
  const abs = resolveDir(dir, 'dir');
  let root: string;
  try {
    root = await fs.realpath(abs);
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return emptyReport(abs, dryRun, started);
    throw new TxnError(codes.EFS, `Cannot open the root '${abs}': ${(err as Error).message}`, { cause: err, path: abs });
  }
  const home = homeOf(root);
  // Fast path: nothing pending means no lock, no writes (a clean root stays untouched). A root
  // lock left by a dead process is not "nothing": taking the lock below reclaims it, and releasing
  // it leaves the home clean.
  const { ids, tombs, rootLock } = await listIds(home);
  if (ids.length === 0 && tombs.length === 0 && !rootLock) return emptyReport(root, dryRun, started);
  const ctx: RecoverContext = {
    root,
    home,
    durable: common.durable,
    timing: common.timing,
    concurrency: common.concurrency,
    dryRun,
    onProgress: onProgress as RecoverContext['onProgress'],
  };
  if (dryRun) return recoverLocked(ctx);
  const report = await withRootLock(rootLockPath(home), common.timing, common.signal, () => recoverLocked(ctx));
  return { ...report, durationMs: performance.now() - started };
}
