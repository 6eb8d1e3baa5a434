// Test-only fault points of txnfs/s3, the S3 counterpart of src/io/faults.ts. Every request of the
// seam reports here twice: 'before' it is sent and 'after' its response arrived (a hook that kills
// the process 'after' a PUT leaves a write the server has and the writer never heard of). In
// production nothing is registered: one property read per request. Tests and the kill-loop child
// import this internal module by path (the package exports map does not expose it).

/** One S3 request, as seen by a fault hook. */
export interface S3RequestEvent {
  /** 'put', 'put-if-absent', 'get', 'head', 'delete', 'list', 'mpu-create', 'mpu-part', 'mpu-complete', 'mpu-abort', 'mpu-list'. */
  readonly op: string;
  /** The key under the store's prefix ('' for a list of the whole prefix). */
  readonly key: string;
  /** 'before': not sent yet. 'after': the server answered (success or an HTTP error). */
  readonly phase: 'before' | 'after';
}

/** Throw to fail the request; `process.kill(process.pid, 'SIGKILL')` to crash. May be async. */
export type S3FaultHook = (event: S3RequestEvent) => void | Promise<void>;

/**
 * The deliberate protocol bugs still switched inside the library, each checked at one place. The
 * others (a log PUT without If-None-Match, a sweep blind to the log, to leases or to the grace)
 * are filters of the requests in the test harness (test/s3/mutations.ts), as the local ones are
 * (src/io/faults.ts). A filter can drop, hide or rewrite a request or an answer; it cannot make
 * commit() send its log PUT before its uploads finished (an order), make a reader skip a check it
 * makes on bytes it did get, or hand the writer of a checkpoint its base's file list instead of
 * its own (a filter would have to fold the log itself, and then would test its own fold).
 */
export type S3Mutation =
  /** commit() creates the log entry without waiting for its staged uploads to finish. */
  | 's3-log-before-staged'
  /** The checkpoint of generation G holds the file list of G-1 (the writer's base, not its commit). */
  | 's3-checkpoint-stale'
  /** A reader trusts a checkpoint without checking its file count and digest (a cut list is read as the tree). */
  | 's3-checkpoint-unchecked';

interface S3FaultState {
  hook: S3FaultHook | undefined;
  readonly mutations: Set<S3Mutation>;
}

export const s3Faults: S3FaultState = { hook: undefined, mutations: new Set() };

export function s3Mutated(name: S3Mutation): boolean {
  return s3Faults.mutations.size !== 0 && s3Faults.mutations.has(name);
}
