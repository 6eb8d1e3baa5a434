/**
 * faults.ts: the test-only fault points.
 *
 * Every mutating filesystem call in `fs.ts` and every named protocol step reports here first. In
 * production nothing is registered, so the cost is one property read per call. Tests (and the crash
 * harness's child processes) import this internal module by path (the package `exports` map does
 * not expose it) and register a hook that throws an errno error or kills the process at the k-th
 * operation or at a named step.
 *
 * Deliberate protocol bugs, which the crash harness switches on to prove that it detects them, are
 * not in the library: they are filters in the test harness (test/helpers/mutations.mjs) keyed on the
 * operations and named steps reported here, which skip an operation or rewrite bytes.
 */

/** A mutating filesystem operation, as seen by a fault hook. */
export interface OpEvent {
  readonly kind: 'op';
  /** The operation: 'mkdir', 'rename', 'write', 'fsync', 'fsyncDir', ... */
  readonly op: string;
  /** The path operated on (the source for rename and link). */
  readonly path: string;
  /** The destination for rename and link. */
  readonly dest?: string;
  /**
   * Whether the operation can change the filesystem (create, write, fsync, rename, unlink, ...).
   * Reads (lstat, readdir, readFile, ...) are reported too, with `false`: crash and error loops
   * count only mutating operations, since a crash between two reads leaves the same disk state.
   */
  readonly mutating: boolean;
}

/** A named step of the protocol, as seen by a fault hook. */
export interface StepEvent {
  readonly kind: 'step';
  /** e.g. 'staged', 'committed' (the commit point is durable), 'applied:3', 'cleanup'. */
  readonly name: string;
}

export type FaultEvent = OpEvent | StepEvent;

/**
 * Throw to inject an error at this point; call `process.kill(process.pid, 'SIGKILL')` to crash.
 * Return 'skip' to have the operation not issued at all (it resolves as if it had succeeded): the
 * crash harness's deliberate protocol bugs (test/helpers/mutations.mjs) are filters of this kind,
 * e.g. "no fsync of the staged files". Honoured by the asynchronous calls that resolve to nothing
 * (fsync, fsyncDir, rename, link, unlink, mkdir, rmdir, chmod, ...); ignored for steps and for
 * calls that return a value.
 */
export type FaultHook = (event: FaultEvent) => void | 'skip';

/**
 * The one deliberate bug still switched inside the library: it moves the pointer swap ahead of
 * the build, so that every later operation lands in the published tree. A filter of operations
 * can skip, add or rewrite one, not make the code issue its operations in another order and to
 * other paths. Checked at one place, never per operation.
 */
export type Mutation =
  /** Generations: swap the pointer before the new generation is built (renamed in while empty). */
  'gen-swap-before-build';

interface FaultState {
  hook: FaultHook | undefined;
  readonly mutations: Set<Mutation>;
}

/**
 * The registry. Empty in production. One per process, shared on `globalThis` (the key names its
 * shape's version) by every loaded copy of this module: the package's bundle (dist/bundle/, what
 * `import 'txnfs'` loads) and tsc's modules that the tests and the crash harness import by path.
 * A hook set through either is the one both call.
 */
const REGISTRY = Symbol.for('txnfs.faults.v1');
export const faults: FaultState = ((globalThis as Record<symbol, unknown>)[REGISTRY] ??= { hook: undefined, mutations: new Set() } satisfies FaultState) as FaultState;

/** Report a named protocol step to the hook, if any. */
export function step(name: string): void {
  if (faults.hook !== undefined) faults.hook({ kind: 'step', name });
}

/** Whether the deliberate bug above is switched on (tests only). */
export function mutated(name: Mutation): boolean {
  return faults.mutations.size !== 0 && faults.mutations.has(name);
}
