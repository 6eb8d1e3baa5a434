/**
 * options.ts: the defaults, and the one validator of every option txnfs accepts.
 *
 * Options are copied, never mutated. A wrong type or an unknown key is a TypeError quoting the
 * value (an ignored typo like `durabilty: 'none'` would silently change a safety property); a
 * number out of range is a RangeError. Every entry point that takes an option (begin, tx.write,
 * writeFile, update, recover, inspect, doctor, ...) checks it with the function here, so one bad
 * value gets the same class, code and message everywhere (test/options/option-parity.test.ts). The
 * single-file options (file-options.ts) are built from these. The defaults live in one frozen
 * object that the docs table is tested against.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { badArgument, codes, outOfRange, TxnError } from '../errors.js';
import { hasLoneSurrogate } from '../transaction/paths.js';
import type { LockTiming } from '../protocol/lock.js';

/** How hard txnfs works to survive power loss. */
export type Durability = 'full' | 'none';

/** The defaults of every option, in one place. */
export const defaults = Object.freeze({
  /** fsync data, journal and directories: a resolved commit survives power loss. */
  durability: 'full' as Durability,
  /** A lock not refreshed for this long (ms) is stale. proper-lockfile's default; its minimum is 2000. */
  lockStale: 10_000,
  /** How often a held lock is refreshed (ms). Default: lockStale / 2. */
  lockUpdate: undefined as number | undefined,
  /** How long a commit or recovery waits for the root lock held by another process (ms). */
  lockTimeout: 30_000,
  /** Files staged or fsynced at the same time (open descriptors are bounded by this). */
  concurrency: 16,
  /** begin() warns (once per root) when the root is on a network or FUSE filesystem. */
  warnUnsafeFs: true,
});

/** Options shared by `begin()` and `recover()`. */
export interface CommonOptions {
  /**
   * `'full'`: every staged file, the journal and every changed directory is fsynced, so a
   * resolved commit survives power loss. `'none'`: no fsync; still all-or-nothing when the process
   * crashes or is killed, but a power loss or OS crash may lose a resolved commit, leave a target
   * empty or holding garbage (its data never reached the disk), or leave a journal that recovery
   * reports as corrupt. Use it only for data you can regenerate.
   * @default 'full'
   */
  readonly durability?: Durability | undefined;
  /**
   * A lock not refreshed for this many milliseconds is stale and may be taken over by another
   * process. Owners on this host that have exited are detected at once, without waiting. From 2000
   * to 2147483647 (the longest period a Node timer takes).
   * @default 10000
   */
  readonly lockStale?: number | undefined;
  /**
   * How often (ms) held locks are refreshed. From 1000 to lockStale / 2.
   * @default lockStale / 2
   */
  readonly lockUpdate?: number | undefined;
  /**
   * How long (ms) to wait for the root lock while another process commits or recovers, before
   * failing with `ELOCKED`. Any length; `Infinity` waits for ever (an AbortSignal still cuts it).
   * @default 30000
   */
  readonly lockTimeout?: number | undefined;
  /**
   * How many files are written or fsynced at once. Bounds open file descriptors.
   * @default 16
   */
  readonly concurrency?: number | undefined;
  /**
   * Cancels the operation before its commit point; it then fails with `EABORTED` and nothing
   * changes. After the commit point the commit completes regardless.
   * @default undefined (no signal)
   */
  readonly signal?: AbortSignal | undefined;
}

export interface ResolvedCommon {
  readonly durable: boolean;
  readonly durability: Durability;
  readonly timing: LockTiming;
  readonly concurrency: number;
  readonly signal: AbortSignal | undefined;
}

/** Check that `options` is undefined or a plain object with only `allowed` keys. */
export function checkOptionsObject(options: unknown, name: string, allowed: readonly string[]): Record<string, unknown> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw badArgument(name, 'an object', options);
  }
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      const err = new TypeError(`Unknown option "${key}" in "${name}". Known options: ${allowed.join(', ')}.`);
      (err as { code?: string }).code = 'ERR_INVALID_ARG_VALUE';
      throw err;
    }
  }
  return { ...(options as Record<string, unknown>) };
}

/**
 * The longest delay a Node timer takes: `setTimeout` and `setInterval` treat anything longer as
 * 1 ms (with a TimeoutOverflowWarning), so a lock refreshed or judged on a longer period would be
 * refreshed every millisecond instead.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** How a number option reads in an error message, e.g. "a number of milliseconds from 2000 to 2147483647". */
function describeRange(kind: string, min: number, max: number): string {
  if (max === Number.POSITIVE_INFINITY) return `${kind} ≥ ${min} (Infinity allowed)`;
  if (max === Number.MAX_SAFE_INTEGER) return `${kind} ≥ ${min}`;
  return `${kind} from ${min} to ${max}`;
}

/**
 * A number option within [min, max], or its default when undefined. `max` may be Infinity (the
 * option then accepts Infinity); otherwise the value must be finite.
 */
export function numberOption(o: Record<string, unknown>, key: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER, integer = false, unit = ''): number {
  const v = o[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || Number.isNaN(v)) throw badArgument(key, 'a number', v);
  const finite = Number.isFinite(v) || max === Number.POSITIVE_INFINITY;
  if (v < min || v > max || !finite || (integer && !Number.isInteger(v))) {
    throw outOfRange(key, describeRange(`${integer ? 'an integer' : 'a number'}${unit === '' ? '' : ` of ${unit}`}`, min, max), v);
  }
  return v;
}

/**
 * The `lockStale` option, as begin(), recover(), update(), inspect() and doctor() take it: from
 * 2000 ms (proper-lockfile's minimum: shorter, a busy event loop would let a live lock look stale)
 * to the timer limit.
 */
export function lockStaleOption(o: Record<string, unknown>): number {
  return numberOption(o, 'lockStale', defaults.lockStale, 2000, MAX_TIMER_MS, false, 'milliseconds');
}

/** A boolean option, or its default when undefined. */
export function booleanOption(o: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const v = o[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw badArgument(key, 'a boolean', v);
  return v;
}

/** A permission-bits option: an integer from 0 to 0o7777. */
export function modeOption(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || Number.isNaN(value)) throw badArgument('mode', 'an integer from 0 to 0o7777', value);
  if (!Number.isInteger(value) || value < 0 || value > 0o7777) throw outOfRange('mode', 'an integer from 0 to 0o7777', value);
  return value;
}

/** An `encoding` option: a name Buffer knows, e.g. 'utf8', 'latin1', 'base64'. */
export function encodingOption(value: unknown, fallback: BufferEncoding): BufferEncoding {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !Buffer.isEncoding(value)) {
    throw badArgument('encoding', "a Buffer encoding such as 'utf8'", value, 'ERR_INVALID_ARG_VALUE');
  }
  return value;
}

export const commonKeys = ['durability', 'lockStale', 'lockUpdate', 'lockTimeout', 'concurrency', 'signal'] as const;

/** Validate and default the options shared by begin() and recover(). */
export function resolveCommon(o: Record<string, unknown>): ResolvedCommon {
  const durability = o.durability ?? defaults.durability;
  if (durability !== 'full' && durability !== 'none') {
    throw badArgument('durability', `'full' or 'none'`, durability, typeof durability === 'string' ? 'ERR_INVALID_ARG_VALUE' : 'ERR_INVALID_ARG_TYPE');
  }
  // lockStale and lockUpdate become timer periods (proper-lockfile refreshes every lockUpdate and
  // checks its own lock every lockStale / 2), so they stop at the timer limit. lockTimeout is only
  // a deadline: any length works (the wait sleeps in chunks), and Infinity waits for ever.
  const stale = lockStaleOption(o);
  const update = numberOption(o, 'lockUpdate', Math.max(1000, stale / 2), 1000, stale / 2, false, 'milliseconds');
  const timeout = numberOption(o, 'lockTimeout', defaults.lockTimeout, 0, Number.POSITIVE_INFINITY, false, 'milliseconds');
  const concurrency = numberOption(o, 'concurrency', defaults.concurrency, 1, 1024, true);
  const signal = o.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw badArgument('signal', 'an AbortSignal', signal);
  return { durable: durability === 'full', durability, timing: { stale, update, timeout }, concurrency, signal };
}

/** Validate a directory argument and make it absolute (no I/O). */
export function resolveDir(input: unknown, name: string): string {
  if (input === undefined) return process.cwd();
  // A file: URL, as writeFile() takes (import.meta.url-relative roots); another scheme, or a
  // file: URL with a host, is Node's TypeError (ERR_INVALID_URL_SCHEME, ERR_INVALID_FILE_URL_HOST).
  const value = input instanceof URL ? fileURLToPath(input) : input;
  if (typeof value !== 'string') throw badArgument(name, 'a non-empty path string or a file: URL', value);
  if (value.length === 0 || value.includes('\0')) throw badArgument(name, 'a non-empty path string without NUL bytes', value, 'ERR_INVALID_ARG_VALUE');
  // Refused, not encoded: Node would store a lone surrogate as U+FFFD, so two strings would name
  // one root (paths.ts).
  if (hasLoneSurrogate(value)) throw new TxnError(codes.EBADPATH, `The ${name} ${JSON.stringify(value)} contains a lone UTF-16 surrogate, which the filesystem would store as U+FFFD (so two different strings would name one file). Pass a well-formed string (String.prototype.toWellFormed() replaces them).`, { path: value });
  return path.resolve(value);
}

/**
 * The `warnUnsafeFs` option of begin(): a boolean, default true. Only begin() takes it; the
 * one-shot writers take no lock a second host could share the same way, and recover() must not be
 * noisy at boot.
 */
export function resolveWarnUnsafeFs(o: Record<string, unknown>): boolean {
  const v = o.warnUnsafeFs ?? defaults.warnUnsafeFs;
  if (typeof v !== 'boolean') throw badArgument('warnUnsafeFs', 'a boolean', v);
  return v;
}
