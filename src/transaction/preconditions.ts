/**
 * preconditions.ts: compare-and-swap for transactions ("commit only if what I read is unchanged").
 *
 * Two workers that both read `counter.json`, add one and write it back lose an update unless the
 * second commit notices that the file changed after it was read. A caller records what it read
 * as a {@link FileVersion} (from `tx.read()` or `tx.version()`, or built by hand) and attaches it
 * as a condition: `tx.write(path, data, { ifUnchanged })`, `tx.remove(path, { ifUnchanged })`,
 * `tx.expect(path, version)`; `{ exclusive: true }` is the condition "does not exist yet".
 *
 * Conditions are checked in commit's plan step, under the root lock and before the commit point.
 * Every txnfs commit in the root changes files only while holding that lock, so no txnfs commit can
 * slip in between the check and the commit point. A condition that does not hold fails the whole
 * commit with `EPRECONDITION`; nothing changes.
 *
 * Two kinds of version, compared differently:
 *  - a content version `{ exists, size, sha256 }` (what `tx.read()` returns) holds while the file
 *    has the same bytes. Exact: a rewrite with identical bytes counts as unchanged, which is what a
 *    read-modify-write needs. Cost: one read of the file under the root lock.
 *  - an identity version `{ exists, dev, ino, size, mtimeMs }` (what `tx.version()` returns) holds
 *    while the directory entry is the same inode with the same size and mtime. No extra I/O (the
 *    planner lstats every target anyway), but a filesystem that reuses a freed inode number for a
 *    file of the same size within its timestamp granularity makes a change invisible.
 * Only the fields present are compared; `{ exists: false }` means "must not exist".
 */
import { createHash } from 'node:crypto';
import type { Info } from '../io/fs.js';
import { badArgument } from '../errors.js';

/**
 * What a caller saw of a file, to make a commit conditional on it. Get one from `tx.read()` (content)
 * or `tx.version()` (identity), or build one: `{ exists: false }` means "must not exist",
 * `{ exists: true, sha256 }` means "must have exactly these bytes".
 *
 * @example
 * ```ts
 * const { data, version } = await tx.read('counter.json');
 * const n = data === undefined ? 0 : JSON.parse(data.toString()).n;
 * tx.writeJson('counter.json', { n: n + 1 }, { ifUnchanged: version });
 * await tx.commit(); // EPRECONDITION if another worker committed in between
 * ```
 */
export interface FileVersion {
  /** Whether the file existed. `false` carries no other field and means "must not exist". */
  readonly exists: boolean;
  /** Device number (decimal string), compared when present. */
  readonly dev?: string | undefined;
  /** Inode number (decimal string), compared when present. */
  readonly ino?: string | undefined;
  /** Size in bytes, compared when present. */
  readonly size?: number | undefined;
  /** Modification time in milliseconds (as `fs.Stats#mtimeMs`, truncated to an integer), compared when present. */
  readonly mtimeMs?: number | undefined;
  /** SHA-256 of the content, lowercase hex, compared when present (then the file is read under the lock). */
  readonly sha256?: string | undefined;
}

/** What `tx.read()` returns: the bytes, and the version to pass back as `ifUnchanged`. */
export interface ReadResult {
  /** The file's content, or undefined when it does not exist. */
  readonly data: Buffer | undefined;
  /** A content version of exactly these bytes (or `{ exists: false }`). */
  readonly version: FileVersion;
}

const versionKeys = ['exists', 'dev', 'ino', 'size', 'mtimeMs', 'sha256'] as const;
const DECIMAL_RE = /^[0-9]{1,20}$/;
const SHA256_RE = /^[0-9a-f]{64}$/;

/** SHA-256 of `data`, lowercase hex. */
export function sha256Of(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The content version of `data` (undefined: the file does not exist). */
export function contentVersion(data: Uint8Array | undefined): FileVersion {
  return data === undefined ? Object.freeze({ exists: false }) : Object.freeze({ exists: true, size: data.length, sha256: sha256Of(data) });
}

/** The identity version of an lstat result (undefined: the file does not exist). */
export function identityVersion(info: Info | undefined): FileVersion {
  if (info === undefined) return Object.freeze({ exists: false });
  return Object.freeze({ exists: true, dev: String(info.dev), ino: String(info.ino), size: info.size, mtimeMs: Math.trunc(info.mtimeMs) });
}

function decimal(value: unknown, key: string, argName: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'bigint' && value >= 0n) return String(value);
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value);
  if (typeof value === 'string' && DECIMAL_RE.test(value)) return value;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint') {
    throw badArgument(`${argName}.${key}`, 'a non-negative integer or its decimal string', value, 'ERR_INVALID_ARG_VALUE');
  }
  throw badArgument(`${argName}.${key}`, 'a decimal string', value);
}

/**
 * Validate a version passed in by a caller and return a frozen copy. TypeError (quoting the value)
 * for a wrong shape: not an object, unknown keys, `exists` not a boolean, a field of the wrong
 * type, fields on a `{ exists: false }` version, or an `exists: true` version with nothing to
 * compare (neither `ino` nor `sha256`).
 */
export function checkVersion(value: unknown, argName: string): FileVersion {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badArgument(argName, 'a FileVersion object (from tx.read() or tx.version())', value);
  }
  const v = value as Record<string, unknown>;
  for (const key of Object.keys(v)) {
    if (!(versionKeys as readonly string[]).includes(key)) {
      throw badArgument(argName, `a FileVersion (keys: ${versionKeys.join(', ')}), not one with "${key}"`, value, 'ERR_INVALID_ARG_VALUE');
    }
  }
  if (typeof v.exists !== 'boolean') throw badArgument(`${argName}.exists`, 'a boolean', v.exists);
  if (!v.exists) {
    if (versionKeys.some((k) => k !== 'exists' && v[k] !== undefined)) {
      throw badArgument(argName, 'either { exists: false } alone or a version of an existing file', value, 'ERR_INVALID_ARG_VALUE');
    }
    return Object.freeze({ exists: false });
  }
  const dev = decimal(v.dev, 'dev', argName);
  const ino = decimal(v.ino, 'ino', argName);
  let size: number | undefined;
  if (v.size !== undefined) {
    if (typeof v.size !== 'number') throw badArgument(`${argName}.size`, 'a number', v.size);
    if (!Number.isSafeInteger(v.size) || v.size < 0) throw badArgument(`${argName}.size`, 'a non-negative integer', v.size, 'ERR_INVALID_ARG_VALUE');
    size = v.size;
  }
  let mtimeMs: number | undefined;
  if (v.mtimeMs !== undefined) {
    if (typeof v.mtimeMs !== 'number') throw badArgument(`${argName}.mtimeMs`, 'a number', v.mtimeMs);
    if (!Number.isFinite(v.mtimeMs)) throw badArgument(`${argName}.mtimeMs`, 'a finite number', v.mtimeMs, 'ERR_INVALID_ARG_VALUE');
    mtimeMs = Math.trunc(v.mtimeMs);
  }
  let sha256: string | undefined;
  if (v.sha256 !== undefined) {
    if (typeof v.sha256 !== 'string') throw badArgument(`${argName}.sha256`, 'a string', v.sha256);
    if (!SHA256_RE.test(v.sha256)) throw badArgument(`${argName}.sha256`, 'a SHA-256 digest in lowercase hex (64 characters)', v.sha256, 'ERR_INVALID_ARG_VALUE');
    sha256 = v.sha256;
  }
  if (ino === undefined && sha256 === undefined) {
    throw badArgument(argName, 'a version with an "ino" or a "sha256" to compare', value, 'ERR_INVALID_ARG_VALUE');
  }
  const out: { -readonly [K in keyof FileVersion]: FileVersion[K] } = { exists: true };
  if (dev !== undefined) out.dev = dev;
  if (ino !== undefined) out.ino = ino;
  if (size !== undefined) out.size = size;
  if (mtimeMs !== undefined) out.mtimeMs = mtimeMs;
  if (sha256 !== undefined) out.sha256 = sha256;
  return Object.freeze(out);
}

function describe(v: FileVersion): string {
  if (!v.exists) return 'absent';
  const parts: string[] = [];
  if (v.ino !== undefined) parts.push(`inode ${v.ino}`);
  if (v.size !== undefined) parts.push(`${v.size} bytes`);
  if (v.mtimeMs !== undefined) parts.push(`mtime ${new Date(v.mtimeMs).toISOString()}`);
  if (v.sha256 !== undefined) parts.push(`sha256 ${v.sha256.slice(0, 12)}…`);
  return parts.join(', ');
}

/**
 * Compare `expected` with the file as it is now (`actual`: its lstat, undefined when absent;
 * `readContent` reads it, called only when a hash must be compared). Returns undefined when the
 * condition holds, otherwise a sentence saying what differs.
 */
export async function unmetCondition(expected: FileVersion, actual: Info | undefined, readContent: () => Promise<Buffer>): Promise<string | undefined> {
  if (!expected.exists) {
    return actual === undefined ? undefined : `it was expected not to exist, but it exists (${describe(identityVersion(actual))})`;
  }
  if (actual === undefined) return `it was expected to exist (${describe(expected)}), but it does not`;
  const now = identityVersion(actual);
  const differs = (['dev', 'ino', 'size', 'mtimeMs'] as const).filter((k) => expected[k] !== undefined && expected[k] !== now[k]);
  if (differs.length > 0) return `it was expected to be ${describe(expected)}, but it is now ${describe(now)}`;
  if (expected.sha256 !== undefined) {
    const hash = sha256Of(await readContent());
    if (hash !== expected.sha256) return `its content changed (sha256 was ${expected.sha256.slice(0, 12)}…, is now ${hash.slice(0, 12)}…)`;
  }
  return undefined;
}
