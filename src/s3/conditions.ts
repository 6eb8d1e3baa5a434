// The conditions of a transaction on an S3 store (ifUnchanged, exclusive, expect, and what read()
// saw), checked against the tree of the head the commit is about to follow (docs/s3.md, "The
// protocol"), and the rule for a path in a store. A version on S3 is content alone: size and
// SHA-256; a local identity (device, inode, mtime) means nothing there and is refused.
import { posix } from 'node:path';
import { badArgument, codes, TxnError } from '../errors.js';
import { booleanOption } from '../options/options.js';
import { checkTarget } from '../transaction/paths.js';
import { checkVersion, type FileVersion } from '../transaction/preconditions.js';
import type { FileRef } from './tree.js';

export interface Condition {
  readonly path: string;
  readonly expected: FileVersion;
  readonly via: 'read' | 'ifUnchanged' | 'exclusive' | 'expect';
}

/** A version is checked on S3 by content alone: a local identity (inode, mtime) means nothing here. */
export function s3Version(value: unknown, argName: string): FileVersion {
  const v = checkVersion(value, argName);
  if (v.dev !== undefined || v.ino !== undefined || v.mtimeMs !== undefined) {
    throw badArgument(argName, 'a content version ({ exists, size, sha256 } from read() or version() of an S3 transaction)', value, 'ERR_INVALID_ARG_VALUE');
  }
  return v;
}

export function holds(expected: FileVersion, ref: FileRef | undefined): boolean {
  if (!expected.exists) return ref === undefined;
  return ref !== undefined && (expected.size === undefined || expected.size === ref.size) && (expected.sha256 === undefined || expected.sha256 === ref.sha256);
}

export function versionOf(ref: FileRef | undefined): FileVersion {
  return ref === undefined ? Object.freeze({ exists: false }) : Object.freeze({ exists: true, size: ref.size, sha256: ref.sha256 });
}

/**
 * Record the conditions `o` (a write's or remove's options) declares on `path`. `exclusive` goes
 * through the one validator (options/options.ts), so it is refused as a local root refuses it.
 */
export function addConditions(conditions: Condition[], path: string, o: Record<string, unknown>): void {
  if (o.ifUnchanged !== undefined) conditions.push({ path, expected: s3Version(o.ifUnchanged, 'options.ifUnchanged'), via: 'ifUnchanged' });
  if (booleanOption(o, 'exclusive', false)) conditions.push({ path, expected: { exists: false }, via: 'exclusive' });
}

/** Paths are keys relative to the store: the local rules (no '..', no '.txnfs', no NUL), and no leading '/'. */
export function storePath(path: string, txnId: string): string {
  if (typeof path === 'string' && path.startsWith('/')) {
    throw new TxnError(codes.EBADPATH, `txnfs/s3: the path '${path}' is absolute; paths in a store are relative to its prefix. Pass it without the leading '/'.`, { path, txnId });
  }
  if (typeof path === 'string' && /^\.\.(\/|$)/.test(posix.normalize(path))) {
    throw new TxnError(codes.EBADPATH, `txnfs/s3: the path '${path}' leaves the store's prefix through '..'; pass a path inside it.`, { path, txnId });
  }
  return checkTarget('/', path).rel;
}
