/**
 * protocol/commit.ts: a live commit's steps around its commit point (docs/protocol.md, steps 5-9),
 * once the planner has made its journal: `prepare` (fix-ups, backups, and at once the fsyncs of
 * everything the journal names, journal.tmp, and both locks verified), then the caller renames
 * journal.tmp into place (`commitJournal`, journal.ts: the commit point), then `applyLive`
 * (through the finish driver that recovery uses).
 */
import { dirname } from 'node:path';
import * as fs from '../io/fs.js';
import { codes, TxnError } from '../errors.js';
import { syncDir, syncDirs } from '../io/durable.js';
import { writeJournalTmp, type Journal } from './journal.js';
import type { Original, PackedEntries } from './entries.js';
import { backupOriginal } from './backup.js';
import { setMode, setOwner } from '../platform/no-modes.js';
import { backupDir, backupFile, filesDir, stagedFile } from './layout.js';
import { eachLimit, settleAll } from '../io/limit.js';
import type { HeldLock } from './lock.js';
import type { Staging, TrustedHome } from './staging.js';
import { finish, Unfinished } from './finish.js';

/** What the steps need of the transaction that runs them. */
export interface CommitContext {
  readonly id: string;
  /** The root as the caller named it, for messages. */
  readonly dir: string;
  readonly setup: Setup;
  readonly rootLock: HeldLock;
  readonly durable: boolean;
  readonly concurrency: number;
  readonly signal: AbortSignal | undefined;
  /** lockStale (ms), for messages. */
  readonly lockStale: number;
  /**
   * Resolves once every staged file is sealed (durable and closed); rejects with the first staging
   * failure. `prepare` waits for it in its round, before the commit point (transaction/committer.ts,
   * `sealed`). Undefined: sealed already.
   */
  readonly sealed?: (() => Promise<void>) | undefined;
}

const noop = (): void => undefined;

/** The entries that get a backup (`backup/<i>`): those whose target existed. */
export function backedUp(entries: Planned['journal']['entries']): number[] {
  const out: number[] = [];
  for (let i = 0; i < entries.length; i++) if (entries.existed(i)) out.push(i);
  return out;
}

/**
 * The directories of what a plan relied on: the files its entries replace or remove (it recorded
 * them as the originals) and those its preconditions read. They are fsynced before the commit
 * point. A one-file commit releases the root lock before its rename is durable (direct.ts), so
 * any of these files may be such a rename, which a power loss could still take back; this
 * commit's own commit point must not outlive it. Without the fsync, a power loss could keep this
 * journal and lose the file it recorded: rolled forward, that entry is superseded (the target is
 * not the original it names) and the others apply, a mix. The rename's other side is the home (a
 * lone file's, the only kind released early), which the journaled way fsyncs in the same round
 * (`Staging.name`). Each directory once, and usually one: the targets' own, fsynced again after
 * the apply.
 */
export function reliedOn(root: string, plan: Planned): string[] {
  const out = new Set<string>();
  const { entries } = plan.journal;
  for (let i = 0; i < entries.length; i++) if (entries.existed(i)) out.add(dirname(`${root}/${entries.target(i)}`));
  for (const f of plan.readFiles) out.add(dirname(f));
  return [...out];
}

/** What a transaction made before it staged anything: its root, home and staging dir. */
export interface Setup {
  readonly root: string;
  readonly home: TrustedHome;
  readonly staging: Staging;
  /** Generations layout: the pointer (real parent path). `root` is then the generation home. */
  readonly pointer?: string | undefined;
}

/** The plan of a commit (the planner's result): its journal and what must happen before it. */
export interface Planned {
  readonly journal: Journal<PackedEntries>;
  /** Staged files whose mode or owner must change before the commit point. */
  readonly fixups: { readonly staged: number; readonly mode: number | undefined; readonly owner: { uid: number; gid: number } | undefined }[];
  readonly bytes: number;
  readonly written: number;
  readonly removed: number;
  /** No two entries can name one file, on any filesystem (ApplyContext.distinct). */
  readonly distinct: boolean;
  /**
   * Where the planner left it (PlanInput.deferMounts): ECROSSDEV when a target is at or below a
   * mount point inside the root. Run before the journaled way, and when a one-file rename fails
   * with EXDEV.
   */
  readonly checkMounts?: () => void;
  /**
   * The files (absolute) the preconditions found (ifUnchanged, expect()): the commit relied on
   * them, so their directories are made durable before its commit point, as its replaced and
   * removed targets' are (`prepare`, `reliedOn`).
   */
  readonly readFiles: readonly string[];
}


/** What the fix-ups need: the real root (for its filesystem's fallbacks), and where staged file `n` is. */
export interface FixupContext {
  readonly root: string;
  readonly durable: boolean;
  readonly concurrency: number;
  readonly stagedPath: (n: number) => string;
}

/** Step 5: fix-ups of the staged files' mode and owner, fsynced (durable), before any backup. */
export async function applyFixups(c: FixupContext, plan: Planned): Promise<void> {
  const { root, durable } = c;
  await eachLimit(plan.fixups, c.concurrency, async (f) => {
    const p = c.stagedPath(f.staged);
    // chown first: it clears setuid/setgid, so the exact mode is set after it (as replace.ts does).
    const { owner, mode } = f;
    if (owner !== undefined) await setOwner(root, () => fs.chown(p, owner.uid, owner.gid));
    if (mode !== undefined) await setMode(root, () => fs.chmod(p, mode));
    // The new mode or owner is inode metadata the journal relies on: a 0600 secret must not come
    // back 0644 after a power loss.
    if (durable) await fs.syncFile(p);
  });
}

/**
 * Everything before the commit point: fix-ups, backup links and the rollback marker's inode; then,
 * all at once, the fsyncs that make what the journal names durable, the journal's own write and
 * fsync (journal.tmp: it makes nothing visible), and the check that both locks are still ours.
 * Only the rename that follows (commitJournal) must wait for all of them, so they cost one round
 * of fsync latency, not two in a row.
 */
export async function prepare(c: CommitContext, plan: Planned, fixed = false): Promise<void> {
  const { setup, rootLock } = c;
  const dir = setup.staging.dir;
  const durable = c.durable;
  // `fixed`: a one-file commit that turned to this way had made them (direct.ts).
  if (!fixed) await applyFixups({ root: setup.root, durable, concurrency: c.concurrency, stagedPath: (n) => stagedFile(dir, n) }, plan);
  const { entries } = plan.journal;
  const withBackup = backedUp(entries);
  if (withBackup.length > 0) {
    await fs.mkdir(backupDir(dir));
    // A hard link, or a copy where links are refused (protected hard links, FAT): backup.ts.
    await eachLimit(withBackup, c.concurrency, async (i) => {
      const original = entries.original(i) as Original;
      const kind = await backupOriginal(`${setup.root}/${entries.target(i)}`, backupFile(dir, i), original, durable, setup.root);
      if (kind === 'copy') entries.markCopy(i);
    });
  }
  // The fsyncs that make the staging dir's own name durable (the home's, and the root's when the
  // home was new) run with these (`Staging.name`).
  const dirs: string[] = [];
  if (durable) {
    // Everything the journal will point to must be durable before the journal is: the staged
    // files' names (files/), the backup links (backup/), and those two directories' names (the
    // staging dir).
    dirs.push(dir);
    if (plan.written > 0) dirs.push(filesDir(dir));
    if (withBackup.length > 0) dirs.push(backupDir(dir));
    dirs.push(...reliedOn(setup.root, plan));
  }
  c.signal?.throwIfAborted();
  // journal.tmp is written before the round starts: its create and write are small calls, made
  // inline while nothing of ours is in the thread pool (src/io/inline.ts), and behind the round's
  // fsyncs they waited for its first wave (0.85 ms of a 10-file commit's 7.8). The lock checks
  // (an lstat each) come first for the same reason. Then every fsync at once, journal.tmp's first:
  // it carries data, and the directories' fsyncs that queue behind it mostly find their changes
  // already committed by the filesystem's journal.
  const journal = await writeJournalTmp(dir, plan.journal);
  const locksVerified = [setup.staging.ownerLock.verify(), rootLock.verify()];
  // Closed as soon as its fsync is done, still inside the round; a failure of the close is reported
  // only when nothing before it failed (settleAll reports the first failure in argument order,
  // which is the order the calls are issued in: a close is issued after all of them).
  let closeFailed: { readonly err: unknown } | undefined;
  const journalSynced = (durable ? journal.sync() : Promise.resolve()).finally(() =>
    journal.close().catch((err: unknown) => {
      closeFailed = { err };
    }),
  );
  // The staged files' own fsyncs, issued as each was written, end in this round too: the plan
  // needed only their facts (committer.ts, settleStaging). First in the list, so that a staging
  // failure is the one reported (ESTAGE), not what it caused after.
  await settleAll([c.sealed?.() ?? Promise.resolve(), ...locksVerified, journalSynced, setup.staging.name(), syncDirs(dirs, c.concurrency)]);
  if (closeFailed !== undefined) throw closeFailed.err;
}

/**
 * Step 9: apply the plan through the finish driver recovery uses (protocol/finish.ts). Resolves
 * with the targets another writer changed meanwhile (left as they are); the caller then removes
 * the staging dir (in two parts, around its root lock's release). Rejects with EAPPLY when the
 * apply failed and was rolled back (the staging dir removed, the owner lock released), with
 * EINCOMPLETE when it could not be undone here (the journal stays for recover()).
 */
export async function applyLive(c: CommitContext, plan: Planned): Promise<readonly string[]> {
  const { setup, rootLock } = c;
  let applyError: unknown;
  let ours = true;
  try {
    const done = await finish({
      root: setup.root,
      staging: setup.staging.dir,
      journal: plan.journal,
      durable: c.durable,
      concurrency: c.concurrency,
      live: true,
      distinct: plan.distinct,
      removeAfterForward: false,
      // Undo only while the root is still ours: if another process took it over, it is rolling
      // this journal forward, and undoing under it would mix the two.
      mayUndo: () => rootLock.verify().then(() => true, () => false),
    });
    if (done.direction === 'forward') return done.outcome.superseded;
    applyError = done.cause;
    if (c.durable) await syncDir(setup.home.home);
    await setup.staging.ownerLock.release();
  } catch (err) {
    if (err instanceof Unfinished) {
      applyError = err.applyError;
      ours = err.ours;
    } else if (applyError === undefined) {
      throw err;
    }
    // Else the home fsync or the owner lock's release after the rollback failed: reported, as the
    // rollback's own failure is, as not undone here (recover() finds nothing left to do).
    // Leave the journal (and any marker) for recovery, and let go of the owner lock so that
    // recover() (in this process or another) may finish the job.
    await setup.staging.ownerLock.release().catch(noop);
    if (!ours) {
      throw new TxnError(
        codes.EINCOMPLETE,
        `Transaction ${c.id} passed its commit point, but this process lost the root lock while applying it (it stalled for longer than lockStale = ${c.lockStale} ms) and another process took the transaction over; that process's recover() finishes it from the journal. Run recover('${c.dir}') and check its report to be certain of the outcome.`,
        { cause: applyError, path: setup.staging.dir, txnId: c.id },
      );
    }
    throw new TxnError(
      codes.EINCOMPLETE,
      `Applying transaction ${c.id} failed after its commit point (${(applyError as Error).message}) and could not be undone here. Its durable records remain in '${setup.staging.dir}'; run recover('${c.dir}') once the cause is fixed.`,
      { cause: applyError, path: setup.staging.dir, txnId: c.id },
    );
  }
  throw new TxnError(
    codes.EAPPLY,
    `Applying transaction ${c.id} in '${c.dir}' failed after its commit point (${(applyError as Error).message}); it was rolled back and no target changed. Fix the cause (see err.cause) and retry.`,
    { cause: applyError, txnId: c.id },
  );
}
