/**
 * faults.ts: the test-only fault points.
 *
 * Every mutating filesystem call in `fs.ts` and every named protocol step reports here first. In
 * production nothing is registered, so the cost is one property read per call. Tests (and the crash
 * harness's child processes) import this internal module by path (the package `exports` map does
 * not expose it) and register a hook that throws an errno error or kills the process at the k-th
 * operation or at a named step.
 *
 * `mutations` holds deliberate protocol bugs that the crash harness switches on to prove that it
 * detects them (for example skipping one fsync). Each name is checked at exactly one place in the
 * library; an empty set means the real protocol.
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

/** Throw to inject an error at this point; call `process.kill(process.pid, 'SIGKILL')` to crash. */
export type FaultHook = (event: FaultEvent) => void;

/** Deliberate protocol bugs, for proving the crash harness catches them. */
export type Mutation =
  /** Do not fsync staged data files before the commit point. */
  | 'skip-fsync-staged'
  /** Do not fsync the staging dir after renaming the journal into place. */
  | 'skip-fsync-journal-dir'
  /** Do not fsync the directories changed by the apply before cleanup. */
  | 'skip-fsync-applied-dirs'
  /** Remove the staging dir before applying the renames. */
  | 'cleanup-before-apply'
  /** Write the journal without its checksum protection being checked at recovery. */
  | 'skip-journal-checksum'
  /** When a commit's apply fails, write the rollback marker and report EAPPLY without undoing. */
  | 'skip-rollback'
  /** Recovery removes a committed transaction's journal before rolling it forward. */
  | 'recover-journal-first'
  /** Single-file writes: do not fsync the temp file before renaming it over the target. */
  | 'file-skip-fsync-temp'
  /** Single-file writes: do not fsync the target's directory after the rename. */
  | 'file-skip-fsync-dir'
  /** Single-file writes: one write(2) call whose byte count is ignored (atomically's truncation bug). */
  | 'file-single-write'
  /** Do not fsync the home before the commit point (the staging dir's own name is not durable). */
  | 'skip-fsync-home'
  /** Do not fsync backup/ before the commit point (the hard links to the originals may be lost). */
  | 'skip-fsync-backup-dir'
  /** Do not make directories created by the apply durable before renaming files into them. */
  | 'skip-fsync-created-dirs'
  /** Record a backup that is a copy (hard links refused) as a hard link in the journal. */
  | 'copy-backup-as-link'
  /** Do not fsync a backup that is a copy before the commit point. */
  | 'skip-fsync-backup-copy'
  /** Generations: swap the pointer before the new generation is built (renamed in while empty). */
  | 'gen-swap-before-build'
  /** Generations: do not fsync the new generation's directories before the pointer swap. */
  | 'gen-skip-fsync-dirs'
  /** Generations: do not fsync the pointer's directory after the swap. */
  | 'gen-skip-fsync-pointer'
  /** Generations: openSnapshot trusts its pin without reading the pointer again. */
  | 'gen-pin-no-recheck'
  /** Generations: collect garbage without looking at pins. */
  | 'gen-ignore-pins';

interface FaultState {
  hook: FaultHook | undefined;
  readonly mutations: Set<Mutation>;
}

/** The registry. Empty in production. */
export const faults: FaultState = { hook: undefined, mutations: new Set() };

/** Report a named protocol step to the hook, if any. */
export function step(name: string): void {
  if (faults.hook !== undefined) faults.hook({ kind: 'step', name });
}

/** Whether a deliberate protocol bug is switched on (tests only). */
export function mutated(name: Mutation): boolean {
  return faults.mutations.size !== 0 && faults.mutations.has(name);
}

/** An Error shaped like the one Node's fs raises for `code`, for injection. */
export function errnoError(code: string, op: string, path: string): NodeJS.ErrnoException {
  const errnos: Record<string, number> = { EIO: -5, ENOSPC: -28, EACCES: -13, EPERM: -1, EMFILE: -24, EXDEV: -18, EROFS: -30, ENOENT: -2 };
  const err = new Error(`${code}: injected fault, ${op} '${path}'`) as NodeJS.ErrnoException;
  err.code = code;
  err.errno = errnos[code] ?? -1;
  err.syscall = op;
  err.path = path;
  return err;
}
