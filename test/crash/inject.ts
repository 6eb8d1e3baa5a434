/**
 * inject.ts: in-process fault injection over the hook of src/io/faults.ts.
 *
 * An `Injector` counts the library's *mutating* filesystem operations (a crash or an error between
 * two reads leaves the same disk state, so reads are not fault points) and records the named
 * protocol steps in between. Given a plan it throws an errno error, shaped like Node's own, at the
 * k-th mutating operation: once (a transient error), or at that operation and every later one
 * (SQLite's "persistent" I/O error mode). The first injected error object is kept, so a test can
 * check that the library reports exactly it as `cause`.
 *
 * Cost: one closure call per filesystem operation while registered; nothing otherwise.
 */
import { faults, type FaultEvent, type OpEvent } from '../../src/io/faults.js';
import { errnoError } from '../helpers/errno.mjs';
import type { MutationLayer } from '../helpers/mutations.mjs';
import { OPEN_RETRY, useOpenRetry } from '../../src/io/fs.js';

/** The errnos the I/O-error loop injects (issue #3). */
export const ERRNOS = ['EIO', 'ENOSPC', 'EACCES', 'EMFILE', 'EXDEV'] as const;
export type Errno = (typeof ERRNOS)[number];

export interface FaultPlan {
  /**
   * The mutating operation that fails: its 1-based index, or the first one a predicate accepts
   * (for regression tests that name the operation, e.g. the rename that releases the root lock).
   */
  readonly at: number | ((op: TracedOp) => boolean);
  readonly code: Errno;
  /** Fail every mutating operation from `at` on, not only the one at `at`. */
  readonly persistent: boolean;
}

/** A mutating operation, numbered, with how many named steps had been reported before it. */
export interface TracedOp extends OpEvent {
  readonly index: number;
  readonly stepsBefore: number;
}

export class Injector {
  /** Mutating operations seen so far (including ones that were failed). */
  count = 0;
  /** The first error thrown into the library, if any. */
  injected: NodeJS.ErrnoException | undefined;
  /** The operation that received it. */
  injectedAt: TracedOp | undefined;
  /** Every error thrown into the library, with its operation (more than one only in persistent mode). */
  readonly thrown: { readonly error: NodeJS.ErrnoException; readonly op: TracedOp }[] = [];
  readonly ops: TracedOp[] = [];
  readonly steps: string[] = [];
  readonly #plan: FaultPlan | undefined;

  constructor(plan?: FaultPlan) {
    this.#plan = plan;
  }

  #cleared = false;

  /** Stop injecting (the fault is "removed"); counting goes on. */
  clear(): void {
    this.#cleared = true;
  }

  readonly hook = (e: FaultEvent): void => {
    if (e.kind === 'step') {
      this.steps.push(e.name);
      return;
    }
    if (!e.mutating) return;
    const index = ++this.count;
    const traced: TracedOp = { ...e, index, stepsBefore: this.steps.length };
    this.ops.push(traced);
    const p = this.#plan;
    if (p === undefined || this.#cleared) return;
    const hit = typeof p.at === 'number' ? index === p.at : this.injected === undefined && p.at(traced);
    if (hit || (p.persistent && this.injected !== undefined)) {
      const err = errnoError(p.code, e.op, e.path);
      this.thrown.push({ error: err, op: traced });
      if (this.injected === undefined) {
        this.injected = err;
        this.injectedAt = traced;
      }
      throw err;
    }
  };
}

/**
 * Run `fn` with `injector` registered as the fault hook (inside the mutations' filters of `layer`,
 * when given: an operation a mutation skips is not counted); always unregisters.
 */
export async function withInjector<T>(injector: Injector, layerOrFn: MutationLayer | (() => Promise<T>), maybeFn?: () => Promise<T>): Promise<T> {
  const [layer, fn] = typeof layerOrFn === 'function' ? [undefined, layerOrFn] : [layerOrFn, maybeFn as () => Promise<T>];
  if (faults.hook !== undefined) throw new Error('a fault hook is already registered');
  faults.hook = layer === undefined ? injector.hook : layer.hook(injector.hook);
  // Every injected error must reach the library's error handling, so an injected EMFILE is not
  // retried away here (the retry itself: test/io/open-retry.test.ts).
  const retry = useOpenRetry({ ...OPEN_RETRY, maxTotalMs: 0 });
  try {
    return await fn();
  } finally {
    faults.hook = undefined;
    useOpenRetry(retry);
  }
}

/**
 * Which part of the commit an operation belongs to, from the named steps (src/transaction/committer.ts):
 * 'pre' before the commit point is durable (step 'committed'), 'apply' from there until the apply
 * resolved (step 'cleanup'), 'cleanup' after.
 */
export type Phase = 'pre' | 'apply' | 'cleanup';

export function phaseOf(injector: Injector, op: TracedOp): Phase {
  const before = injector.steps.slice(0, op.stepsBefore);
  if (before.includes('cleanup')) return 'cleanup';
  if (before.includes('committed')) return 'apply';
  return 'pre';
}

/**
 * A deterministic sample of the fault points of a traced run, for workloads too large to try at
 * every operation in CI: every `stride`-th operation, the first operation after each named step
 * where the protocol changes phase (of the per-entry 'applied:<i>' steps only the first and the
 * last), and the last three (lock release and cleanup).
 */
export function samplePoints(trace: Injector, stride: number): number[] {
  const picked = new Set<number>();
  const total = trace.count;
  for (let k = 1; k <= total; k += stride) picked.add(k);
  const applied = trace.steps.filter((s) => s.startsWith('applied:'));
  const phaseSteps = new Set(trace.steps.filter((s) => !s.startsWith('applied:')).concat(applied.slice(0, 1), applied.slice(-1)));
  let steps = 0;
  for (const op of trace.ops) {
    const last = trace.steps[op.stepsBefore - 1];
    if (op.stepsBefore !== steps && last !== undefined && phaseSteps.has(last)) picked.add(op.index);
    steps = op.stepsBefore;
  }
  for (let k = Math.max(1, total - 2); k <= total; k++) picked.add(k);
  return [...picked].sort((a, b) => a - b);
}
