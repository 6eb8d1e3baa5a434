/**
 * adopt.ts: the checks of `tx.adopt()` (docs/protocol.md, "Staging"): a file another program wrote
 * may become a staged file by a rename only if it is a regular file with one link, outside the
 * root (or in `tx.tempDir()`), on the home's filesystem. Nothing is moved here.
 */
import { basename, dirname, join, sep } from 'node:path';
import * as fs from '../io/fs.js';
import { codes, errnoOf, TxnError } from '../errors.js';
import { tempDirOf } from '../protocol/layout.js';
import type { Setup } from '../protocol/commit.js';

/** Check, without moving it, that `file` may be adopted; returns its path through real parents. */
export async function adoptable(setup: Setup, file: string, rel: string, txnId: string): Promise<string> {
  const refuse = (why: string, cause?: unknown): TxnError =>
    new TxnError(codes.ESTAGE, `Cannot adopt '${file}' for '${rel}': ${why}. Nothing was moved.`, { path: file, txnId, cause });
  let real: string;
  let info: fs.Info;
  try {
    real = join(await fs.realpath(dirname(file)), basename(file));
    info = await fs.lstat(real);
  } catch (err) {
    if (errnoOf(err) === 'ENOENT' || errnoOf(err) === 'ENOTDIR') throw refuse('it does not exist; check the path', err);
    throw err;
  }
  const within = (dir: string): boolean => real === dir || real.startsWith(dir + sep);
  if (within(setup.root) && !within(tempDirOf(setup.staging.dir))) {
    throw refuse(`it is inside the root, and moving it would change the root outside the transaction; adopt files from outside the root or from tx.tempDir()`);
  }
  if (info.kind !== 'file') {
    throw refuse(`it is ${info.kind === 'dir' ? 'a directory' : info.kind === 'symlink' ? 'a symlink' : 'not a regular file (a FIFO, socket or device)'}; adopt() takes regular files only`);
  }
  if (info.nlink !== 1) {
    throw refuse(`it has ${info.nlink} hard links, and a change through another link would change the committed file behind txnfs's back; copy it, or write() its content`);
  }
  if (info.dev !== setup.home.dev) throw crossDev(file, rel, txnId);
  return real;
}

export function crossDev(file: string, rel: string, txnId: string, cause?: unknown): TxnError {
  return new TxnError(
    codes.ECROSSDEV,
    `Cannot adopt '${file}' for '${rel}': it is on another filesystem than the root's .txnfs/ directory, so it cannot be moved in by rename. Write it under tx.tempDir(), or stage its content with write().`,
    { path: file, txnId, cause },
  );
}
