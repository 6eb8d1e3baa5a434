/**
 * root.ts: open a root directory named by a person (a command-line argument).
 *
 * The library's recover() treats a missing root as clean, which is right at boot; but a mistyped
 * path on a command line must be an error, not "nothing to recover". One realpath and one stat.
 */
import * as path from 'node:path';
import * as fs from '../io/fs.js';
import { codes, errnoOf, TxnError } from '../errors.js';

/**
 * The real path of `dir`, which must exist and be a directory (TxnError EFS or ETARGET otherwise).
 * `purpose` words the missing-root error: `exec` writes there (so: create it), `recover` and
 * `status` only look (so: check the path; the library's recover() calls a missing root clean).
 */
export async function openRoot(dir: string, purpose: 'write' | 'look' = 'write'): Promise<string> {
  let real: string;
  try {
    real = await fs.realpath(path.resolve(dir));
  } catch (err) {
    if (errnoOf(err) === 'ENOENT' && purpose === 'look') {
      throw new TxnError(codes.EFS, `The root directory '${dir}' does not exist: check the path. (A transaction never ran in a directory that is not there, so a missing root has nothing to recover; recover() in the library reports it clean, for boot scripts, but a path typed here is more likely a typo.)`, { cause: err, path: dir });
    }
    if (errnoOf(err) === 'ENOENT') {
      throw new TxnError(codes.EFS, `The root directory '${dir}' does not exist. Create it first: txnfs creates nothing outside the root.`, { cause: err, path: dir });
    }
    throw new TxnError(codes.EFS, `Cannot open the root '${dir}': ${(err as Error).message}. Check that it is a directory you may read, then retry.`, { cause: err, path: dir });
  }
  if ((await fs.stat(real)).kind !== 'dir') throw new TxnError(codes.ETARGET, `The root '${dir}' is not a directory. Pass the directory the files go into.`, { path: dir });
  return real;
}
