/**
 * status.ts: does a root need recovery? The report behind `txnfs status`, built on inspect().
 *
 * A transaction whose owner is alive is in progress and needs nothing. A dead one needs recover()
 * (a staging dir is discarded, a committed or rolling-back one is finished, an orphan lock is
 * removed), except a corrupt journal, which recovery leaves for a person (invariant 8) and which
 * blocks every commit in the root. Read-only, takes no lock; one lstat per staged file.
 */
import { homeOf, ownerLockOf, stagingDirOf } from './layout.js';
import { inspect, type FoundTxn } from './recover.js';
import { openRoot } from './root.js';

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
}

function needsOf(t: FoundTxn): TxnStatus['needs'] {
  if (t.owner === 'held') return 'nothing';
  // recover() leaves both for a person: a corrupt journal, and a foreign staging dir it will not touch.
  return t.state === 'corrupt' || t.state === 'foreign' ? 'person' : 'recovery';
}

/** The status of the root `dir`, which must exist. */
export async function status(dir: string, now: () => number = Date.now): Promise<StatusReport> {
  const root = await openRoot(dir, 'look');
  const found = await inspect(root);
  const at = now();
  const transactions = found.map((t): TxnStatus => ({
    ...t,
    path: t.state === 'orphan-lock' ? ownerLockOf(homeOf(root), t.id) : stagingDirOf(homeOf(root), t.id),
    ownerAlive: t.owner === 'held',
    ageMs: Math.max(0, at - t.mtimeMs),
    needs: needsOf(t),
  }));
  const health: Health = transactions.some((t) => t.needs === 'person')
    ? 'corrupt'
    : transactions.some((t) => t.needs === 'recovery')
      ? 'needs-recovery'
      : 'ok';
  return { dir: root, health, transactions };
}
