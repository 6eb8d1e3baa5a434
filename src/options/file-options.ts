/**
 * file-options.ts: the options of the single-file API (`writeFile`, `writeJson`,
 * `createWriteStream`, `update`), their defaults, and their validation.
 *
 * Options are copied, never mutated; every option is checked by the validator in options.ts that
 * the transaction API uses too (`resolveCommon` for durability, lock timing and signal;
 * `modeOption`, `booleanOption`, `encodingOption`), so a bad value gets the same error from both.
 * No I/O.
 */
import { badArgument, describeValue, outOfRange } from '../errors.js';
import { booleanOption, checkOptionsObject, encodingOption, modeOption, resolveCommon, type Durability, type ResolvedCommon } from './options.js';

/** An explicit owner for the written file. */
export interface Owner {
  /** The user id to give the file. */
  readonly uid: number;
  /** The group id to give the file. */
  readonly gid: number;
}

/** The defaults of the single-file options, in one place (docs/single-file.md is tested against it). */
export const fileDefaults = Object.freeze({
  /** Keep the existing file's mode; a new file gets `0o666 & ~umask` (the `undefined` here). */
  mode: undefined as number | undefined,
  /** When run as root, the replaced file keeps its owner and group. */
  chown: true as boolean | Owner,
  /** Missing parent directories are an error. */
  mkdirs: false,
  /** fsync the data before the rename and the directory after it. */
  durability: 'full' as Durability,
  /** Replace an existing file. */
  exclusive: false,
  /** Really rename. */
  dryRun: false,
  /** Encoding of string data. */
  encoding: 'utf8' as BufferEncoding,
});

/** Options of {@link writeFile}. Every field is optional. */
export interface WriteFileOptions {
  /**
   * Permission bits of the file, set exactly (the umask does not apply), e.g. `0o600`.
   * @default the existing file's mode; for a new file `0o666 & ~umask`, as `fs.writeFile`
   */
  readonly mode?: number | undefined;
  /**
   * Who owns the written file. `true`: when the process runs as root, the replaced file keeps its
   * owner and group (like write-file-atomic), so `sudo` does not hand a user's file to root;
   * filesystems without owners (vfat, exFAT) are tolerated. `false`: the file belongs to the
   * writer. `{ uid, gid }`: set exactly (fails with `EFS` when not permitted).
   * @default true
   */
  readonly chown?: boolean | Owner | undefined;
  /**
   * Create missing parent directories. When the write fails, the directories it created are
   * removed again.
   * @default false
   */
  readonly mkdirs?: boolean | undefined;
  /**
   * `'full'`: fsync the new content before it is renamed into place and the directory after, so a
   * resolved call survives power loss. `'none'`: no fsync; still never partial after a process
   * crash, but a power loss may bring back the old content (or, on some filesystems, an empty file).
   * @default 'full'
   */
  readonly durability?: Durability | undefined;
  /**
   * Create only: fail with `EPRECONDITION` if the file exists. Checked atomically by link(2) at the
   * moment the file appears, so nothing written by someone else in the meantime is ever replaced.
   * @default false
   */
  readonly exclusive?: boolean | undefined;
  /**
   * Abort the write; the file is then untouched and the call fails with `EABORTED`. Too late once
   * the rename has started.
   * @default undefined (no signal)
   */
  readonly signal?: AbortSignal | undefined;
  /**
   * Do everything but the final rename (like safer's `dry_run`): resolve the path, check
   * `exclusive`, write and fsync the data to a temp file, then remove it. The file is untouched
   * and no directory is created.
   * @default false
   */
  readonly dryRun?: boolean | undefined;
  /**
   * Encoding of string data (and of string chunks of an iterable or stream).
   * @default 'utf8'
   */
  readonly encoding?: BufferEncoding | undefined;
}

/** Options of {@link writeJson}. */
export interface WriteJsonFileOptions extends WriteFileOptions {
  /** Indentation, as for `JSON.stringify`. @default undefined (compact) */
  readonly spaces?: number | string | undefined;
  /** Replacer, as for `JSON.stringify`. @default undefined */
  readonly replacer?: ((this: unknown, key: string, value: unknown) => unknown) | (number | string)[] | null | undefined;
}

/** Options of {@link update}: those of `writeFile` but `exclusive` and `encoding`, plus the lock's timing. */
export interface UpdateOptions extends Omit<WriteFileOptions, 'exclusive' | 'encoding'> {
  /**
   * A lock not refreshed for this many milliseconds is stale and may be taken over. An owner on
   * this host that has exited is detected at once.
   * @default 10000
   */
  readonly lockStale?: number | undefined;
  /**
   * How often (ms) the held lock is refreshed.
   * @default lockStale / 2
   */
  readonly lockUpdate?: number | undefined;
  /**
   * How long (ms) to wait for another process's `update()` of the same file before failing with
   * `ELOCKED`.
   * @default 30000
   */
  readonly lockTimeout?: number | undefined;
}

/** Validated, defaulted single-file options. */
export interface ResolvedFileOptions {
  readonly mode: number | undefined;
  readonly chown: boolean | Owner;
  readonly mkdirs: boolean;
  readonly common: ResolvedCommon;
  readonly exclusive: boolean;
  readonly dryRun: boolean;
  readonly encoding: BufferEncoding;
}

export const writeFileKeys = ['mode', 'chown', 'mkdirs', 'durability', 'exclusive', 'signal', 'dryRun', 'encoding'] as const;
export const writeJsonKeys = [...writeFileKeys, 'spaces', 'replacer'] as const;
export const updateKeys = ['mode', 'chown', 'mkdirs', 'durability', 'signal', 'dryRun', 'lockStale', 'lockUpdate', 'lockTimeout'] as const;

function idOption(name: string, value: unknown): number {
  if (typeof value !== 'number' || Number.isNaN(value)) throw badArgument(name, 'an integer uid/gid', value);
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw outOfRange(name, 'an integer from 0 to 4294967295', value);
  return value;
}

function chownOption(value: unknown): boolean | Owner {
  if (value === undefined) return fileDefaults.chown;
  if (typeof value === 'boolean') return value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badArgument('chown', 'a boolean or an object { uid, gid }', value);
  }
  const v = value as Record<string, unknown>;
  return { uid: idOption('chown.uid', v.uid), gid: idOption('chown.gid', v.gid) };
}

/**
 * Check and default the options of one single-file call; returns the copied raw object too. A
 * string is the encoding, for calls that take one (`writeFile(p, text, 'latin1')`), as `fs` and
 * write-file-atomic read it.
 */
export function resolveFileOptions(options: unknown, allowed: readonly string[]): { o: Record<string, unknown>; resolved: ResolvedFileOptions } {
  const o = checkOptionsObject(typeof options === 'string' && allowed.includes('encoding') ? { encoding: options } : options, 'options', allowed);
  const resolved: ResolvedFileOptions = {
    mode: modeOption(o.mode),
    chown: chownOption(o.chown),
    mkdirs: booleanOption(o, 'mkdirs', fileDefaults.mkdirs),
    common: resolveCommon(o),
    exclusive: booleanOption(o, 'exclusive', fileDefaults.exclusive),
    dryRun: booleanOption(o, 'dryRun', fileDefaults.dryRun),
    encoding: encodingOption(o.encoding, fileDefaults.encoding),
  };
  return { o, resolved };
}

/**
 * Refuse a callback. `fs.writeFile(path, data, cb)`, write-file-atomic and fs-extra's `writeJson`
 * take one; these functions return a promise instead, and would otherwise write and never call a
 * callback passed after the options (nothing reads a 4th argument), or fail with a puzzling
 * "options must be an object" for one passed in their place. Any other extra argument is refused
 * too, rather than ignored. `args` are the call's arguments, `count` how many `name` declares (the
 * last being its options).
 */
export function refuseCallback(name: string, args: ArrayLike<unknown>, count: number): void {
  for (let i = count - 1; i < args.length; i++) {
    const value = args[i];
    if (typeof value === 'function') {
      const err = new TypeError(
        `${name}() takes no callback: it returns a promise. Write \`await ${name}(...)\` or ` +
          `\`${name}(...).then(() => {}, (err) => {})\`; for a callback API, \`util.callbackify(${name})\`.`,
      );
      (err as { code?: string }).code = 'ERR_INVALID_ARG_TYPE';
      throw err;
    }
    if (i >= count && value !== undefined) {
      const err = new TypeError(`${name}() takes at most ${count} arguments. Received ${describeValue(value)} as argument ${i + 1}.`);
      (err as { code?: string }).code = 'ERR_INVALID_ARG_TYPE';
      throw err;
    }
  }
}

/** `spaces` and `replacer` of a writeJson, checked as JSON.stringify would take them. */
function jsonOptions(o: Record<string, unknown>): { spaces: number | string | undefined; replacer: ((this: unknown, key: string, value: unknown) => unknown) | (number | string)[] | null | undefined } {
  const { replacer, spaces } = o;
  if (replacer !== undefined && replacer !== null && typeof replacer !== 'function' && !Array.isArray(replacer)) {
    throw badArgument('replacer', 'a function, an array or null', replacer);
  }
  if (spaces !== undefined && typeof spaces !== 'number' && typeof spaces !== 'string') {
    throw badArgument('spaces', 'a number or a string', spaces);
  }
  return { spaces, replacer: replacer as never };
}

/** `value` as JSON text with its trailing newline; a TypeError for a value JSON cannot represent. */
export function jsonText(value: unknown, o: Record<string, unknown>): string {
  const { replacer, spaces } = jsonOptions(o);
  const text = JSON.stringify(value, replacer as never, spaces) as string | undefined;
  if (text === undefined) throw badArgument('value', 'a value JSON can represent', value);
  return `${text}\n`;
}
