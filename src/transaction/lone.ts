/**
 * lone.ts: a transaction's first written file, staged as a temp file in the home for as long as it
 * may be the transaction's only change (docs/protocol.md, "One file: the rename is the commit
 * point", and "Staging").
 *
 * A transaction that writes one file and nothing else commits by that file's rename (direct.ts):
 * nothing a crash leaves of it needs a journal, a backup or an undo by recovery. What it needed
 * the staging dir for was only a place that recovery can tell apart from a live transaction's:
 * the owner lock (two directories), the staging dir and `files/` (two more), each made and
 * removed on every commit, where removing a directory is the dearest metadata call there is
 * (about 60 µs on ext4: the inode goes through the orphan list). A single-file write's temp file
 * (src/single/tempname.ts) is such a place already: its name says which process, thread and
 * host made it, live writers refresh its mtime (heartbeat.ts), and `recover()` removes it exactly
 * when its writer is dead (orphans.ts), never while it runs. So the first file written is staged
 * under such a name in the home, and the owner lock and staging dir are made only if the
 * transaction turns out to need them:
 *
 *   - anything else staged, removed, created or asked for (a second write, `remove`, `mkdir`,
 *     `tempDir`, ...) makes the setup as before (setup.ts) and, at commit, before the root lock,
 *     the lone file is renamed into `files/<n>` (`promoteLone`): it is then a staged file like any
 *     other, under an owner lock taken before its staging dir existed, as ever;
 *   - a commit whose plan cannot take the direct way (a missing parent directory, a target that
 *     changed since the plan, hard links refused for the undo) promotes it the same way under the
 *     root lock, and goes the journaled way;
 *   - otherwise its rename over the target is the commit point (direct.ts), and the home's temp
 *     name is gone with it.
 *
 * Where only this uid can change names in the home (`TrustedHome.ours`: a home a transaction
 * made, 0755 less the umask), nobody else can swap the temp for another file between its staging
 * and its rename. A home others may write to (made by single-file writes in a shared directory)
 * gets the staging dir, whose 0700 gives that guarantee.
 *
 * Cost: the owner lock, the staging dir and `files/`: 4 `mkdir`s and 4 `rmdir`s saved on every
 * one-file commit, for the rename of a promoted transaction (one call).
 */
import * as fs from '../io/fs.js';
import { codes, errnoOf, TxnError } from '../errors.js';
import { lstatIfPresent, unlinkIfPresent } from '../io/if-present.js';
import type { DirectSource } from '../protocol/direct.js';
import { inOpenedHome } from '../protocol/home.js';
import { stagedFile } from '../protocol/layout.js';
import { openHome, type TrustedHome } from '../protocol/staging.js';
import { holdName, keepFresh } from '../single/heartbeat.js';
import { tempName } from '../single/tempname.js';
import { placeOnce, setupOnce, type TxState } from './state.js';

/** The lone file of a transaction (see the header). */
export interface Lone {
  /** Its staging number. */
  readonly n: number;
  /** Its target, relative to the root as given. */
  readonly rel: string;
  /** The temp file in the home; undefined until made, and when the home was not ours alone. */
  path: string | undefined;
  /** Ends its heartbeat and its removal at exit (heartbeat.ts). */
  stop: () => void;
  /** The undo link of a replaced target, while its commit may still need it (loneSource). */
  undo?: string;
  /** Ends the undo link's hold (heartbeat.ts, holdName), once it is made. */
  undoHeld?: () => void;
}

const noop = (): void => undefined;

/**
 * At `write(path, data)`, staging number `n`: stage it as the lone file when nothing else was asked
 * of the transaction (its first operation, no tree operation, no setup made) in the in-place
 * layout. Streams, `adopt` and `copy` stage in the staging dir as ever.
 */
export function markLone(tx: TxState, n: number, rel: string): void {
  if (tx.gen === undefined && tx.lone === undefined && tx.setup === undefined && n === 0 && tx.ops.length === 1 && tx.treeOps.length === 0) {
    tx.lone = { n, rel, path: undefined, stop: noop };
  }
}

/**
 * The mode to create the lone file with: the one given, else the target's (a replaced file keeps
 * its mode, planner.ts), else 0o666; the umask narrows it. A file in a staging dir is out of
 * others' reach (0700); the lone file is in the home, which others may list and enter (0755), so
 * it is made never more readable than the file it will become, as a single-file write's temp is
 * (a 0600 secret is not staged 0644). The target is looked at as given, before the commit
 * resolves it: a mode found through a symlink that leaves the root only narrows the temp's mode,
 * and the commit sets the final one either way (fix-ups, step 5).
 */
async function loneMode(tx: TxState, lone: Lone, dir: string): Promise<number> {
  const given = tx.modes.get(lone.n);
  if (given !== undefined) return given & 0o777;
  const existing = await lstatIfPresent(`${dir}/${lone.rel}`).catch(() => undefined);
  return existing?.kind === 'file' ? existing.mode & 0o777 : 0o666;
}

/** The lone file's record when job `n` stages it. */
export function loneJob(tx: TxState, n: number): Lone | undefined {
  return tx.lone?.n === n ? tx.lone : undefined;
}

/**
 * Create the lone file: a new temp name in the home, `O_CREAT|O_EXCL`, kept fresh from here. The
 * home is made again when another writer removes it, empty, in between (home.ts, `inHome`).
 * Undefined when the home is not ours alone (see the header), or when the transaction already
 * asked for its setup: the caller stages into the staging dir instead, and the transaction is no
 * longer lone.
 */
export async function createLone(tx: TxState, lone: Lone): Promise<fs.Handle | undefined> {
  // Writes issued one after another (a batch) are all issued before this microtask runs, and the
  // second has asked for the setup: then there is no lone file, and no call was made for one.
  await Promise.resolve();
  if (tx.setup !== undefined) {
    tx.lone = undefined;
    return undefined;
  }
  // The target's mode is looked up beside the root and home (through the root as given).
  const [place, mode] = await Promise.all([placeOnce(tx), loneMode(tx, lone, tx.dir)]);
  const handle = await inOpenedHome(
    place.home,
    () => openHome(place.root, tx.o.durable),
    async (home: TrustedHome) => {
      // A second change came while the root and home were opened (a batch of writes issued one
      // after another): the staging dir is being made anyway, so this file goes there at once,
      // and the commit has no lone file to move.
      if (!home.ours || tx.setup !== undefined) return undefined;
      for (let tries = 0; ; tries++) {
        const p = `${home.home}/${tempName()}`;
        // Registered before it exists, so that no recover() takes it for abandoned (orphans.ts).
        const stop = keepFresh(p);
        try {
          const h = await fs.create(p, mode);
          lone.path = p;
          lone.stop = stop;
          return h;
        } catch (err) {
          stop();
          // Two copies of txnfs in one thread can meet on a name (tempname.ts): take the next.
          if (errnoOf(err) !== 'EEXIST' || tries >= 8) throw err;
        }
      }
    },
  );
  if (handle === undefined) tx.lone = undefined;
  return handle;
}

/**
 * Whether the transaction is its lone file and nothing else, at commit (after staging settled):
 * then it commits by the lone file's rename (committer.ts).
 */
export function isLoneOnly(tx: TxState): boolean {
  return tx.lone?.path !== undefined && tx.setup === undefined && tx.ops.length === 1 && tx.treeOps.length === 0;
}

/**
 * The transaction is more than its lone file: make the setup (owner lock first, then the staging
 * dir) and rename the lone file into `files/<n>`, where every later step expects it. Nothing to
 * do when there is no lone file. Before the commit point only (staging settled).
 */
export async function promoteLone(tx: TxState): Promise<void> {
  const lone = tx.lone;
  if (lone === undefined) return;
  if (lone.path !== undefined) {
    const setup = await setupOnce(tx);
    await fs.rename(lone.path, stagedFile(setup.staging.dir, lone.n), 0);
    lone.stop();
  }
  tx.lone = undefined;
}

/**
 * The lone file as a one-file commit's source (protocol/direct.ts): the undo link of a replaced
 * file gets a temp name of its own, so that if this process dies holding it, `recover()` removes
 * it as it removes any dead writer's temp.
 */
export function loneSource(tx: TxState, home: string): DirectSource {
  const lone = tx.lone as Lone;
  const undo = `${home}/${tempName()}`;
  lone.undo = undo;
  // Held as a live writer's temp of this thread while it exists: a one-file commit releases the
  // root lock before it is done with it (committer.ts, concludeEarly), and other commits' gates
  // remove temps this thread does not hold (src/single/orphans.ts).
  return { staged: lone.path as string, dir: home, undo, ownerLock: undefined, hold: () => (lone.undoHeld = holdName(undo)) };
}

/**
 * A commit of its lone file failed because the file is gone: another process's recovery judged
 * this one dead (it stalled past the stale time, orphans.ts) and removed it. That is the cause the
 * caller can act on, as a taken-over owner lock is for a staging dir.
 */
export async function loneTakenOver(tx: TxState, err: unknown): Promise<TxnError | undefined> {
  const p = tx.lone?.path;
  if (p === undefined || errnoOf(err) !== 'ENOENT' || (await lstatIfPresent(p)) !== undefined) return undefined;
  return new TxnError(
    codes.ECOMPROMISED,
    `Transaction ${tx.id} lost its staged file '${p}' before its commit point: another process's recover() judged this process dead (it did not refresh the file for longer than the stale time) and removed it. Nothing changed; write the file again in a new transaction.`,
    { cause: err, path: p, txnId: tx.id },
  );
}

/** The lone file is done with: committed (renamed over its target), so only its heartbeat ends. */
export function endLone(tx: TxState): void {
  tx.lone?.stop();
  tx.lone = undefined;
}

/** Remove the lone file, if any (an abort, a commit that failed before its commit point). */
export async function discardLone(tx: TxState): Promise<void> {
  const lone = tx.lone;
  if (lone === undefined) return;
  // The undo link too: a commit that failed with its undo (EINCOMPLETE) leaves the new file in
  // place, and the old one is not wanted back (direct.ts).
  try {
    await Promise.all([lone.path, lone.undo].map((p) => (p === undefined ? undefined : unlinkIfPresent(p))));
  } finally {
    // Unregistered even when the removal failed: recover() then takes it for what it is, a temp
    // this thread abandoned (src/single/orphans.ts), and removes it.
    lone.stop();
    lone.undoHeld?.();
    tx.lone = undefined;
  }
}
