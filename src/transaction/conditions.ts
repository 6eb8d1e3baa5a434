/**
 * conditions.ts: what a transaction's commit is conditioned on, recorded as the calls come
 * (`ifUnchanged` and `exclusive` options, `expect()`), and the looks that give a caller the
 * versions to condition on (`read()`, `version()`): a path resolved as commit resolves it (same
 * symlink and root rules, paths.ts), outside the lock. The versions and their comparison are
 * preconditions.ts; the check is at step 4 (docs/protocol.md, "Commit"), under the root lock.
 */
import { join } from 'node:path';
import * as fs from '../io/fs.js';
import { codes, errnoOf, isTxnError, TxnError } from '../errors.js';
import { booleanOption } from '../options/options.js';
import { lookupRoot } from '../generations/setup.js';
import { Resolver, type TargetPath } from './paths.js';
import type { Condition } from './planner.js';
import { checkVersion, contentVersion, identityVersion, type FileVersion, type ReadResult } from './preconditions.js';
import { placeOnce, setupOnce, type TxState } from './state.js';

/** Record the `ifUnchanged` / `exclusive` conditions of a write or remove (validated first). */
export function addConditions(tx: TxState, target: TargetPath, o: Record<string, unknown>): void {
  const conditions: Condition[] = [];
  if (o.ifUnchanged !== undefined) conditions.push({ target, expected: checkVersion(o.ifUnchanged, 'options.ifUnchanged'), via: 'ifUnchanged' });
  if (booleanOption(o, 'exclusive', false)) conditions.push({ target, expected: { exists: false }, via: 'exclusive' });
  tx.conditions.push(...conditions);
}

/** Resolve a path as commit will (same symlink and root rules), outside the lock. */
export async function look(tx: TxState, target: TargetPath): Promise<{ abs: string; existing: fs.Info | undefined }> {
  // Generations: the pointer comes with the setup. In place, the root and home are enough: a
  // look or a read makes no owner lock or staging dir (a lone file may still follow, lone.ts).
  const setup = tx.gen === undefined ? { ...(await placeOnce(tx)), pointer: undefined } : await setupOnce(tx);
  try {
    // Generations: the current generation, resolved once for this look (none yet: nothing exists).
    const root = setup.pointer === undefined ? setup.root : await lookupRoot(setup.pointer, setup.root);
    if (root === undefined) return { abs: join(setup.root, target.rel), existing: undefined };
    const r = await new Resolver(root, setup.home.dev).target(target.rel);
    return { abs: join(root, r.rel), existing: r.existing };
  } catch (err) {
    if (isTxnError(err)) throw err;
    throw new TxnError(codes.EFS, `Looking up '${target.rel}' failed: ${(err as Error)?.message ?? String(err)}. Nothing was changed; fix the cause (see err.cause) and retry.`, { cause: err, path: target.rel, txnId: tx.id });
  }
}

/** tx.read(): the content of `target` now and its content version (absent: `{ exists: false }`). */
export async function readNow(tx: TxState, target: TargetPath): Promise<ReadResult> {
  const { abs, existing } = await look(tx, target);
  if (existing === undefined) return { data: undefined, version: contentVersion(undefined) };
  let data: Buffer;
  try {
    data = await fs.readFile(abs);
  } catch (err) {
    // Removed between the lstat and the read: it is absent now, which is a valid observation.
    if (errnoOf(err) !== 'ENOENT') throw new TxnError(codes.EFS, `Reading '${target.rel}' failed: ${(err as Error).message}. Nothing was changed; fix the cause (see err.cause) and retry.`, { cause: err, path: target.rel, txnId: tx.id });
    return { data: undefined, version: contentVersion(undefined) };
  }
  return { data, version: contentVersion(data) };
}

/** tx.version(): the identity version of `target` now (no content read). */
export async function versionNow(tx: TxState, target: TargetPath): Promise<FileVersion> {
  return identityVersion((await look(tx, target)).existing);
}
