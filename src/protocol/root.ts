/**
 * root.ts: open a root directory, the one place a root is found (a transaction's setup, and the
 * commands, which name it on a command line).
 * docs/protocol.md: "Staging (outside any lock)", where a transaction's setup opens its root.
 *
 * The library's recover() treats a missing root as clean, which is right at boot; but a mistyped
 * path on a command line must be an error, not "nothing to recover". One realpath and one stat.
 * A root found here is also shown to the seam (platform/local-root.ts: small calls inline below a
 * local root).
 */
import * as path from 'node:path';
import * as fs from '../io/fs.js';
import { codes, errnoOf, isTxnError, TxnError } from '../errors.js';
import { noteRoot } from '../platform/local-root.js';

/**
 * The real path of `dir` (one realpath). A missing `dir` is TxnError EFS, worded for `purpose`:
 * `write` goes there (so: create it), `look` only looks (so: check the path; the library's
 * recover() calls a missing root clean). Any other error is thrown as it came: the caller words it
 * (a transaction's setup names itself, openRootDir names the root). `txnId` names the transaction
 * that asked, if one did.
 */
export async function realRoot(dir: string, purpose: 'write' | 'look', txnId?: string): Promise<string> {
  let real: string;
  try {
    real = await fs.realpath(path.resolve(dir));
  } catch (err) {
    if (errnoOf(err) === 'ENOENT' && purpose === 'look') {
      throw new TxnError(codes.EFS, `The root directory '${dir}' does not exist: check the path. (A transaction never ran in a directory that is not there, so a missing root has nothing to recover; recover() in the library reports it clean, for boot scripts, but a path typed here is more likely a typo.)`, { cause: err, path: dir, txnId });
    }
    if (errnoOf(err) === 'ENOENT') {
      throw new TxnError(codes.EFS, `The root directory '${dir}' does not exist. Create it first: txnfs creates nothing outside the root.`, { cause: err, path: dir, txnId });
    }
    throw err;
  }
  // Where the seam may make small calls inline from now on (src/io/inline.ts).
  noteRoot(real);
  return real;
}

/**
 * The real path of `dir`, which must exist and be a directory (TxnError EFS or ETARGET otherwise).
 * `purpose` words the missing-root error (see realRoot).
 */
export async function openRootDir(dir: string, purpose: 'write' | 'look' = 'write'): Promise<string> {
  let real: string;
  try {
    real = await realRoot(dir, purpose);
  } catch (err) {
    if (isTxnError(err)) throw err;
    throw new TxnError(codes.EFS, `Cannot open the root '${dir}': ${(err as Error).message}. Check that it is a directory you may read, then retry.`, { cause: err, path: dir });
  }
  if ((await fs.stat(real)).kind !== 'dir') throw new TxnError(codes.ETARGET, `The root '${dir}' is not a directory. Pass the directory the files go into.`, { path: dir });
  return real;
}
