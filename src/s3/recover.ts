// recover({ store }): remove what transactions that never reached the log left behind. There are
// no process ids across hosts, so "dead" means "older than the grace": staged objects and
// unfinished multipart uploads under data/<txnId>/ whose transaction is not named by any log entry
// and whose newest object is older than `graceMs` are deleted. A committed generation's data is
// never touched: the log is read *after* the data is listed, so an entry that names a transaction
// and landed before the listing is seen (a writer refuses to commit past half the grace, so no entry
// can land for data this old). Safe to run from many hosts at once: every step is a DELETE of
// garbage, which is idempotent. Cost: one LIST per 1,000 staged objects, one multipart LIST, the log
// entries the store has not read yet, and one DELETE per removed object.
import { badArgument } from '../errors.js';
import { booleanOption, checkOptionsObject, numberOption } from '../options/options.js';
import { s3Mutated } from './faults.js';
import { dataDir, txnOfDataKey } from './keys.js';
import { Limiter } from '../io/limit.js';
import type { S3Store } from './store.js';

/** Options of {@link recover} for an S3 store. */
export interface S3RecoverOptions {
  readonly store: S3Store;
  /**
   * Override the store's grace, in milliseconds. Lower only when no writer can be live (a test, a
   * maintenance window): a live writer's staged data younger than the grace may be deleted.
   * @default store.graceMs
   */
  readonly graceMs?: number | undefined;
  /** Current time, for the age comparison (the server stamps LastModified). @default Date.now() */
  readonly now?: number | undefined;
  /** Report what would be removed, and remove nothing (`txnfs status` and `recover --dry-run`). @default false */
  readonly dryRun?: boolean | undefined;
}

/** What recover() did. */
export interface S3RecoverReport {
  /** The head generation it read (the log it trusted). */
  readonly generation: number;
  /** Transactions whose staged data was deleted (never committed, older than the grace); with `dryRun`, would be. */
  readonly removed: readonly string[];
  /** Unfinished multipart uploads aborted (with `dryRun`: that would be). */
  readonly abortedUploads: number;
  /** Uncommitted transactions left because their data is younger than the grace (maybe live). */
  readonly young: readonly string[];
}

export async function recover(options: S3RecoverOptions): Promise<S3RecoverReport> {
  const o = checkOptionsObject(options, 'options', ['store', 'graceMs', 'now', 'dryRun']);
  const store = o.store as S3Store | undefined;
  if (typeof store !== 'object' || store === null || typeof store.current !== 'function') throw badArgument('options.store', 'a store from s3Store()', o.store);
  const graceMs = numberOption(o, 'graceMs', store.graceMs, 0, Number.MAX_SAFE_INTEGER, true, 'milliseconds');
  const now = numberOption(o, 'now', Date.now(), 0);
  const dryRun = booleanOption(o, 'dryRun', false);
  const seam = store.seam;
  // 1. What is staged (listed before the log is read: see the header).
  const objects = await seam.list(dataDir);
  const uploads = await seam.listMultipart(dataDir);
  const newest = new Map<string, number>();
  const note = (key: string, at: Date): void => {
    const txn = txnOfDataKey(key);
    if (txn !== undefined) newest.set(txn, Math.max(newest.get(txn) ?? 0, at.getTime()));
  };
  for (const x of objects) note(x.key, x.lastModified);
  for (const u of uploads) note(u.key, u.initiated);
  // 2. What is committed.
  const { generation } = await store.current();
  const removed: string[] = [];
  const young: string[] = [];
  for (const [txn, at] of newest) {
    if (store.generationOf(txn) !== undefined && !s3Mutated('s3-recover-ignores-log')) continue;
    if (now - at < graceMs) young.push(txn);
    else removed.push(txn);
  }
  // 3. Delete the garbage: uploads first (an unfinished upload completes into an object if left).
  const doomed = new Set(removed);
  const aborting = uploads.filter((u) => doomed.has(txnOfDataKey(u.key)!));
  if (dryRun) return { generation, removed: removed.sort(), abortedUploads: aborting.length, young: young.sort() };
  const limiter = new Limiter(8);
  await Promise.all(aborting.map((u) => limiter.run(() => seam.abortMultipart(u.key, u.uploadId))));
  await Promise.all(objects.filter((x) => doomed.has(txnOfDataKey(x.key) ?? '')).map((x) => limiter.run(() => seam.delete(x.key))));
  return { generation, removed: removed.sort(), abortedUploads: aborting.length, young: young.sort() };
}
