/**
 * errors.ts: the one error class txnfs throws, and its stable codes.
 *
 * Every failure a caller can act on is a `TxnError` with a `code` from `codes`; the raw filesystem
 * error (when there is one) is kept as `cause`, untouched, so `err.cause.code === 'ENOSPC'` works.
 * Programming mistakes in arguments (a number where a path belongs, an unknown option value) are
 * `TypeError`s that quote the bad value, the way Node's own APIs do.
 *
 * `instanceof TxnError` works within one copy of the library; `isTxnError()` also works across
 * realms and duplicated installs because it checks a registered brand symbol.
 */
import { constants as osConstants } from 'node:os';

/** Stable error codes. Compare `err.code` against these, never against messages. */
export const codes = {
  /** A target path is unusable: empty, NUL byte, escapes the root, inside `.txnfs/`, too long, or leaves the root through a symlink. Nothing was written. */
  EBADPATH: 'EBADPATH',
  /** A target cannot be applied: it is a directory or a symlink, or a parent is not a directory. Raised before the commit point; nothing changed. */
  ETARGET: 'ETARGET',
  /** A target is on another device than the root's `.txnfs/` home, so it cannot be renamed into place. Raised before the commit point. */
  ECROSSDEV: 'ECROSSDEV',
  /** The transaction is not in a state that allows this call (used after commit or abort, committed twice, aborted during commit). */
  ESTATE: 'ESTATE',
  /** Another process held the root lock for longer than `lockTimeout`. */
  ELOCKED: 'ELOCKED',
  /** A lock this transaction held was taken over (its owner stalled past `lockStale`). The commit was refused before its commit point. */
  ECOMPROMISED: 'ECOMPROMISED',
  /** A journal failed its checksum. Recovery leaves it in place for a person to inspect and refuses to commit over it. */
  ECORRUPT: 'ECORRUPT',
  /** A precondition (`ifUnchanged`, `exclusive`, …) did not hold at commit time. Nothing changed. */
  EPRECONDITION: 'EPRECONDITION',
  /** Staging data failed: the data source threw, a stream errored or was never ended, or a write failed. Nothing changed. */
  ESTAGE: 'ESTAGE',
  /** A filesystem call failed before the commit point. Nothing changed; `cause` is the fs error. */
  EFS: 'EFS',
  /** Applying failed after the commit point; the transaction was rolled back to the old state. `cause` is the fs error. */
  EAPPLY: 'EAPPLY',
  /** Applying failed after the commit point and the rollback could not finish either. Durable records remain; run `recover()` once the cause is fixed. */
  EINCOMPLETE: 'EINCOMPLETE',
  /** The operation was aborted through an `AbortSignal`. Nothing changed. */
  EABORTED: 'EABORTED',
  /**
   * A single-file write replaced its target, but the fsync that makes the new name durable failed
   * afterwards (usually EIO): the new content is visible now and may not survive a power loss.
   * Write it again once the cause is fixed (retrying only the fsync is not enough on Linux, which
   * may drop the failed pages). `cause` is the fs error.
   */
  ENOTDURABLE: 'ENOTDURABLE',
} as const;

/** One of the values of {@link codes}. */
export type TxnErrorCode = (typeof codes)[keyof typeof codes];

const brand = Symbol.for('txnfs.TxnError');

/** Extra, optional facts attached to a {@link TxnError}. */
export interface TxnErrorDetails {
  /** The filesystem error (or other error) that caused this one. */
  readonly cause?: unknown;
  /** The path involved, when there is one: a target, a staging dir, a lock. */
  readonly path?: string;
  /** The id of the transaction involved. */
  readonly txnId?: string;
}

/**
 * The error txnfs throws for every failure a caller can act on.
 *
 * @example
 * ```ts
 * try {
 *   await tx.commit();
 * } catch (err) {
 *   if (isTxnError(err) && err.code === codes.ELOCKED) retryLater();
 *   else throw err;
 * }
 * ```
 */
export class TxnError extends Error {
  /** The stable code; see {@link codes}. */
  readonly code: TxnErrorCode;
  /** The path involved, when there is one. */
  readonly path: string | undefined;
  /** The transaction involved, when there is one. */
  readonly txnId: string | undefined;

  constructor(code: TxnErrorCode, message: string, details: TxnErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'TxnError';
    this.code = code;
    this.path = details.path;
    this.txnId = details.txnId;
    Object.defineProperty(this, brand, { value: true });
  }
}

/**
 * True for a {@link TxnError} from any copy of txnfs (works across realms and duplicate installs,
 * where `instanceof` does not), narrowing `value` to `TxnError`.
 *
 * @example
 * ```ts
 * try {
 *   await writeFile('state.json', data, { exclusive: true });
 * } catch (err) {
 *   if (isTxnError(err) && err.code === codes.EPRECONDITION) console.log('already there');
 *   else throw err;
 * }
 * ```
 */
export function isTxnError(value: unknown): value is TxnError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
}

/** The errno-style `code` of an fs error, or undefined. */
export function errnoOf(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string') {
    const { code, errno } = err as { code: string; errno?: unknown };
    // libuv has no name for some errnos and Node then says 'Unknown system error -116': ESTALE,
    // which NFS and sshfs return for an entry removed through another mount. Name it.
    if (code.startsWith('Unknown system error') && typeof errno === 'number') return errnoNames.get(-errno) ?? code;
    return code;
  }
  return undefined;
}

/** errno number → name (os.constants.errno), for the errnos libuv leaves unnamed. */
const errnoNames = new Map(Object.entries(osConstants.errno).map(([name, n]) => [n, name]));

/** Describe a value for a TypeError message: its JSON-ish form and its type, like Node does. */
export function describeValue(value: unknown): string {
  let shown: string;
  if (typeof value === 'string') shown = JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  else if (typeof value === 'bigint') shown = `${value}n`;
  else if (typeof value === 'function') shown = `function ${value.name || '(anonymous)'}`;
  else if (typeof value === 'symbol') shown = value.toString();
  else if (value === null || typeof value !== 'object') shown = String(value);
  else {
    try {
      shown = JSON.stringify(value) ?? String(value);
    } catch {
      shown = Object.prototype.toString.call(value);
    }
    if (shown.length > 80) shown = `${shown.slice(0, 80)}…`;
  }
  const type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  return `${shown} (type ${type})`;
}

/**
 * A TypeError for a bad argument, quoting the value and its type. Its `code` follows Node's own
 * argument errors, so callers can branch on it the same way: `ERR_INVALID_ARG_TYPE` for a value of
 * the wrong type, `ERR_INVALID_ARG_VALUE` for a value of the right type that is not allowed.
 */
export function badArgument(
  name: string,
  expected: string,
  value: unknown,
  code: 'ERR_INVALID_ARG_TYPE' | 'ERR_INVALID_ARG_VALUE' = 'ERR_INVALID_ARG_TYPE',
): TypeError {
  const err = new TypeError(`The "${name}" argument must be ${expected}. Received ${describeValue(value)}`);
  (err as { code?: string }).code = code;
  return err;
}

/**
 * A RangeError for an option of the right type but outside its range (`ERR_OUT_OF_RANGE`, as
 * Node's own), quoting the value and what was expected.
 */
export function outOfRange(name: string, expected: string, value: unknown): RangeError {
  const err = new RangeError(`The "${name}" option must be ${expected}. Received ${describeValue(value)}`);
  (err as { code?: string }).code = 'ERR_OUT_OF_RANGE';
  return err;
}
