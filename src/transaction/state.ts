/**
 * state.ts: what a Transaction keeps between its calls, in one object (TxState) that the facade
 * (transaction.ts) passes explicitly to the modules doing the work: the staging jobs (jobs.ts,
 * docs/protocol.md, "Staging"), the looks and conditions (conditions.ts, checked at step 4) and
 * the commit (committer.ts, steps 1-10). Nothing here does I/O but the setup, made once
 * (setup.ts).
 */
import { codes, TxnError } from '../errors.js';
import type { ResolvedCommon } from '../options/options.js';
import type { GenerationsOptions } from '../generations/setup.js';
import type { Setup } from '../protocol/commit.js';
import type { JobSource } from './jobs.js';
import { OpLog } from './oplog.js';
import type { Condition } from './planner.js';
import type { Lone } from './lone.js';
import { createSetup, openPlace, type Place } from './setup.js';
import { StagedFacts } from './staged.js';
import { Stager } from './stager.js';
import type { TrackedStream } from './stream.js';
import type { TreeOp } from './tree.js';
import type { TransactionState } from './types.js';

const noop = (): void => undefined;

/** A transaction's state (the facade's, shared with the modules it delegates to). */
export interface TxState {
  /** Unique id; the staging dir is `<dir>/.txnfs/.txn-<id>`. */
  readonly id: string;
  /** The root, as an absolute path. */
  readonly dir: string;
  readonly o: ResolvedCommon;
  /** Set in the generations layout (src/generations/). */
  readonly gen: GenerationsOptions | undefined;
  readonly warnUnsafeFs: boolean;
  state: TransactionState;
  /** Every operation in call order: target (relative) and the staging number of a write, or DELETE. */
  readonly ops: OpLog;
  /** Staging number → mode, for writes given an explicit `mode` (rare, so not a slot per write). */
  readonly modes: Map<number, number>;
  /** tx.mkdir/removeTree/emptyDir in call order (planned at commit by src/transaction/tree.ts). */
  readonly treeOps: TreeOp[];
  readonly conditions: Condition[];
  /** Staging jobs, their workers and their outcomes (stager.ts). */
  readonly stager: Stager<JobSource>;
  readonly streams: TrackedStream[];
  /** Facts about each staged file, by staging number; set once the file is staged and closed. */
  readonly staged: StagedFacts;
  /** The root and its home, once asked for (placeOnce): all that a look, a read or a lone file needs. */
  place: Promise<Place> | undefined;
  /** The home, owner lock and staging dir, once asked for (setupOnce). */
  setup: Promise<Setup> | undefined;
  /**
   * The transaction's first written file while it may still be its only one, staged as a temp
   * file in the home instead of a staging dir (lone.ts); undefined once anything else is staged.
   */
  lone: Lone | undefined;
  /** Removes the AbortSignal's listener once the transaction ends. */
  detachSignal: () => void;
}

/** What a new transaction keeps: its identity and options, nothing staged, no I/O yet. */
export function newTxState(
  init: Pick<TxState, 'id' | 'dir' | 'o' | 'gen' | 'warnUnsafeFs'>,
  stage: (tx: TxState, n: number, source: JobSource, rel: string, known: () => void) => Promise<void>,
): TxState {
  const staged = new StagedFacts();
  // The fields named one by one, not spread from `init`: V8 builds an object literal that
  // begins with a spread and goes on with more fields slowly, property by property (21 µs and
  // 6 KB of garbage per transaction here, against 0.1 µs and 0.3 KB; test/transaction/state.test.ts).
  const tx: TxState = {
    id: init.id,
    dir: init.dir,
    o: init.o,
    gen: init.gen,
    warnUnsafeFs: init.warnUnsafeFs,
    state: 'open',
    ops: new OpLog(),
    modes: new Map(),
    treeOps: [],
    conditions: [],
    stager: new Stager<JobSource>({ txnId: init.id, concurrency: init.o.concurrency, staged, stage: (n, source, rel, known) => stage(tx, n, source, rel, known) }),
    streams: [],
    staged,
    place: undefined,
    setup: undefined,
    lone: undefined,
    detachSignal: noop,
  };
  return tx;
}

/** The setup (setup.ts), made on first use; its failure surfaces through the writes and commit(). */
export function setupOnce(tx: TxState): Promise<Setup> {
  if (tx.setup === undefined) {
    tx.setup = createSetup(tx);
    tx.setup.catch(noop); // surfaces through the writes and commit(), never unhandled
  }
  return tx.setup;
}

/** The root and home (setup.ts, `openPlace`), opened on first use; shared by the setup. */
export function placeOnce(tx: TxState): Promise<Place> {
  if (tx.place === undefined) {
    tx.place = openPlace(tx);
    tx.place.catch(noop); // surfaces through the writes and commit(), never unhandled
  }
  return tx.place;
}

/** Throws once the transaction stopped staging (aborted, failed): a job or stream must stop. */
export function stillStaging(tx: TxState): void {
  if (tx.state !== 'open' && tx.state !== 'committing') {
    throw new TxnError(codes.ESTATE, `Transaction ${tx.id} in '${tx.dir}' was ${tx.state} while staging; nothing was committed. Start a new transaction with begin().`, { txnId: tx.id });
  }
}

/** Log `code` (a staging number, or DELETE) on `rel`; at commit, the last operation on a target wins. */
export function addOp(tx: TxState, rel: string, code: number, mode: number | undefined): void {
  tx.ops.append(rel, code);
  if (mode !== undefined) tx.modes.set(code, mode);
}
