// Types of mutations.mjs (plain JavaScript, shared by the tests and the crash children).
import type { FaultHook, Mutation as LibraryMutation } from '../../src/io/faults.js';
import type { FsImpl } from '../../src/io/fs.js';

/** Deliberate protocol bugs, for proving the crash harness catches them. See mutations.mjs. */
/** Mutations of this harness, and those still switched inside the library (generations). */
export type Mutation = HarnessMutation | LibraryMutation;

export type HarnessMutation =
  | 'skip-fsync-staged'
  | 'skip-fsync-journal-dir'
  | 'skip-fsync-applied-dirs'
  | 'skip-fsync-direct-dir'
  | 'skip-fsync-relied-on'
  | 'cleanup-before-apply'
  | 'skip-journal-checksum'
  | 'skip-rollback'
  | 'recover-journal-first'
  | 'file-skip-fsync-temp'
  | 'file-skip-fsync-dir'
  | 'file-single-write'
  | 'skip-fsync-home'
  | 'skip-fsync-new-home'
  | 'skip-fsync-home-after-cleanup'
  | 'skip-fsync-backup-dir'
  | 'skip-fsync-created-dirs'
  | 'copy-backup-as-link'
  | 'skip-fsync-backup-copy'
  | 'skip-fsync-restored-dirs'
  | 'gen-skip-fsync-dirs'
  | 'gen-skip-fsync-pointer'
  | 'gen-ignore-pins'
  | 'gen-pin-no-recheck';

export declare const MUTATIONS: Readonly<Record<HarnessMutation, object>>;
export declare const LIBRARY_MUTATIONS: ReadonlySet<LibraryMutation>;

export interface MutationLayer {
  readonly names: readonly Mutation[];
  /** The named ones to add to `faults.mutations` (src/io/faults.ts). */
  readonly library: readonly LibraryMutation[];
  /** The hook to register: the mutations' filters, then `inner` (the harness's own hook). */
  hook(inner: FaultHook | undefined): FaultHook;
  /** `inner` wrapped for the filters that act at a step or rewrite bytes (else `inner` itself). */
  impl(inner: FsImpl): FsImpl;
}

export declare function mutationLayer(names: Iterable<Mutation>): MutationLayer;
