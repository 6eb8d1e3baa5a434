/**
 * status.ts: does a root need recovery? The report behind `txnfs status`, built on inspect().
 * docs/protocol.md: "Life of a transaction" (which states need recover()).
 *
 * A transaction whose owner is alive is in progress and needs nothing. A dead one needs recover()
 * (a staging dir is discarded, a committed or rolling-back one is finished, an orphan lock is
 * removed), except a corrupt journal, which recovery leaves for a person (invariant 8) and which
 * blocks every commit in the root. Read-only, takes no lock; one lstat per staged file.
 */
import { homeOf, ownerLockOf, stagingDirOf } from './layout.js';
import { defaults } from '../options/options.js';
import { findOrphans } from '../single/orphans.js';
import { deadTombs, inspect, type FoundTxn } from './recover.js';
import { openRootDir } from './root.js';
import { isGenerationsRoot } from '../generations/setup.js';
import { generationsStatus, type GenerationsStatus } from '../generations/recover.js';
import { genHomeOf } from '../generations/names.js';

/** 'ok': nothing to do. 'needs-recovery': `recover()` will resolve it. 'corrupt': needs a person. */
export type Health = 'ok' | 'needs-recovery' | 'corrupt';

/** One transaction, as `txnfs status` shows it. */
export interface TxnStatus extends FoundTxn {
  /** Its staging dir (its owner lock, for an orphan lock). */
  readonly path: string;
  /** Whether its owner process is alive (`owner === 'held'`): then it is in progress. */
  readonly ownerAlive: boolean;
  /** Milliseconds since `mtimeMs`. */
  readonly ageMs: number;
  /** What it needs: nothing (in progress), recover(), or a person. */
  readonly needs: 'nothing' | 'recovery' | 'person';
}

export interface StatusReport {
  /** The real path of the root. */
  readonly dir: string;
  /** The worst of the transactions' needs. */
  readonly health: Health;
  readonly transactions: TxnStatus[];
  /** Generations layout only: the current generation, the retained ones and the live pins. */
  readonly generations?: GenerationsStatus;
  /**
   * Lock tombs (`.txnfs/.tomb-*`: locks an older txnfs was removing) that crashed processes left
   * behind; `recover()` removes them. Their presence makes `health` 'needs-recovery'.
   */
  readonly tombs: string[];
  /**
   * Temp files and update() locks that dead single-file writers left (what `recover()` removes, as
   * it would judge them with the default lockStale), with the temps' total size in bytes.
   */
  readonly orphans: { readonly count: number; readonly bytes: number; readonly paths: string[] };
}

function needsOf(t: FoundTxn): TxnStatus['needs'] {
  if (t.owner === 'held') return 'nothing';
  // recover() leaves both for a person: a corrupt journal, and a foreign staging dir it will not touch.
  return t.state === 'corrupt' || t.state === 'foreign' ? 'person' : 'recovery';
}

/** The status of the root `dir`, which must exist. */
export async function status(dir: string, now: () => number = Date.now): Promise<StatusReport> {
  // A generations pointer: its transactions live in the txnfs home inside its generation home.
  const gen = (await isGenerationsRoot(dir)) ? await generationsStatus(dir) : undefined;
  const root = gen === undefined ? await openRootDir(dir, 'look') : genHomeOf(gen.pointer);
  const found = await inspect(root);
  const at = now();
  const transactions = found.map((t): TxnStatus => ({
    ...t,
    path: t.state === 'orphan-lock' ? ownerLockOf(homeOf(root), t.id) : stagingDirOf(homeOf(root), t.id),
    ownerAlive: t.owner === 'held',
    ageMs: Math.max(0, at - t.mtimeMs),
    needs: needsOf(t),
  }));
  const tombs = await deadTombs(root);
  const orphanFiles = await findOrphans(homeOf(root), defaults.lockStale);
  const orphans = { count: orphanFiles.paths.length, bytes: orphanFiles.bytes, paths: orphanFiles.paths };
  // Orphans count as needing recovery: they hold disk space (a killed stream's temp can be large)
  // and recover() removes them, so `txnfs recover --dry-run` exits 3 for them too.
  const health: Health = transactions.some((t) => t.needs === 'person')
    ? 'corrupt'
    : transactions.some((t) => t.needs === 'recovery') || tombs.length > 0 || orphans.count > 0
      ? 'needs-recovery'
      : 'ok';
  return gen === undefined ? { dir: root, health, transactions, tombs, orphans } : { dir: gen.pointer, health, transactions, tombs, orphans, generations: gen };
}
