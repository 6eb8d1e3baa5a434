// recover({ store }): the sweep of a store. It removes
//   (a) staged data of transactions that never reached the log, once older than the grace (no
//       process ids across hosts: "dead" means "older than the grace");
//   (b) data that only generations older than the retention name, unless a live lease pins it;
//   (c) unfinished multipart uploads of (a), leases expired for more than a lease, and
//       checkpoints older than the one the oldest kept generation is read from;
// and writes a checkpoint of the head when the newest one is checkpointEvery or more behind (a
// writer that died before writing its checkpoint).
//
// The order of reads is what makes it safe to run from many hosts at once and during commits:
// 1. LIST data/ and the multipart uploads: everything it may delete is in this listing.
// 2. Discover the head H. A transaction T in the listing whose entry is not among those read up
//    to H is treated as uncommitted: its data goes only once its newest object is older than the
//    grace. A writer refuses to commit once its first upload is half the grace old, so T's commit,
//    if any, landed before H was read... and then T's entry is at or below H: either in the
//    window this sweep reads (its keys are judged by the trees) or older than the retention.
// 3. LIST lease/. An openSnapshot writes its lease before it discovers its head, so a lease this
//    listing misses belongs to a snapshot whose generation is >= H, whose data is H's data (kept)
//    or written after H (grace, as in 2).
// 4. The floor F = min(H - retainGenerations + 1, the generation of every live onward lease).
//    Kept: every key named by the tree of F or by an entry F+1..H (any generation from F to H),
//    and by the tree of each generation below F that a live exact lease pins.
// 5. Delete what the listing holds that is not kept: of a transaction committed at or below H,
//    at once (it will never commit again); of any other, only past the grace.
// Every step is a DELETE of garbage, which is idempotent; a crash in the middle is finished by the
// next run. Cost: one LIST per 1,000 staged objects, one multipart LIST, one LIST of leases, the
// head, the tree of F (a checkpoint + entries), one GET per generation F+1..H not yet read by this
// handle, one DELETE per removed object.
import { badArgument } from '../errors.js';
import { booleanOption, checkOptionsObject, numberOption } from '../options/options.js';
import { Limiter } from '../io/limit.js';
import { checkpointDir, checkpointKey, checkpointsAtMost, dataDir, generationOfCheckpointKey, leaseDir, parseLeaseKey, txnOfDataKey } from './keys.js';
import { newestCheckpoint } from './log.js';
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
  /** Override the store's retainGenerations (at least 1). @default store.retainGenerations */
  readonly retainGenerations?: number | undefined;
  /** Current time, for the age comparisons (the server stamps LastModified). @default Date.now() */
  readonly now?: number | undefined;
  /** Report what would be removed, and remove nothing (`txnfs status` and `recover --dry-run`). @default false */
  readonly dryRun?: boolean | undefined;
}

/** What recover() did. */
export interface S3RecoverReport {
  /** The head generation it read (the log it trusted). */
  readonly generation: number;
  /**
   * Transactions whose staged data was deleted because no entry the sweep read names them and
   * it is older than the grace: they never committed (or committed before the retention window
   * and were replaced since). With `dryRun`, would be.
   */
  readonly removed: readonly string[];
  /** Unfinished multipart uploads aborted (with `dryRun`: that would be). */
  readonly abortedUploads: number;
  /** Uncommitted transactions left because their data is younger than the grace (maybe live). */
  readonly young: readonly string[];
  /** The oldest generation whose data is kept, apart from generations pinned by leases. */
  readonly floor: number;
  /** Objects of committed transactions deleted because only generations below the floor named them (with `dryRun`: would be). */
  readonly collected: number;
  /** Live leases (open snapshots) seen, and the oldest generation they pin (undefined: none). */
  readonly leases: { readonly live: number; readonly oldest: number | undefined; readonly removed: number };
  /** Checkpoints deleted (older than the one the floor is read from), and whether one was written for the head. */
  readonly checkpoints: { readonly removed: number; readonly written: boolean };
}

export async function recover(options: S3RecoverOptions): Promise<S3RecoverReport> {
  const o = checkOptionsObject(options, 'options', ['store', 'graceMs', 'retainGenerations', 'now', 'dryRun']);
  const store = o.store as S3Store | undefined;
  if (typeof store !== 'object' || store === null || typeof store.current !== 'function') throw badArgument('options.store', 'a store from s3Store()', o.store);
  const graceMs = numberOption(o, 'graceMs', store.graceMs, 0, Number.MAX_SAFE_INTEGER, true, 'milliseconds');
  const retain = numberOption(o, 'retainGenerations', store.retainGenerations, 1, Number.MAX_SAFE_INTEGER, true);
  const now = numberOption(o, 'now', Date.now(), 0);
  const dryRun = booleanOption(o, 'dryRun', false);
  const seam = store.seam;
  // 1. What may be deleted.
  const objects = await seam.list(dataDir);
  const uploads = await seam.listMultipart(dataDir);
  // 2. The head, after the listing.
  const generation = await store.head();
  // 3. The leases, after the head.
  const leaseObjects = await seam.list(leaseDir);
  let oldestPin: number | undefined;
  let onwardFrom = Infinity;
  const exactPins = new Set<number>();
  let live = 0;
  const expiredLeases: string[] = [];
  for (const l of leaseObjects) {
    const lease = parseLeaseKey(l.key);
    if (lease === undefined) continue; // not ours: leave it
    const expires = l.lastModified.getTime() + lease.leaseMs;
    if (expires > now) {
      live++;
      oldestPin = Math.min(oldestPin ?? Infinity, lease.generation);
      if (lease.onward) onwardFrom = Math.min(onwardFrom, lease.generation);
      else exactPins.add(lease.generation);
    } else if (expires + lease.leaseMs < now) {
      // Expired for a whole lease more: its holder has known for that long that it lost it.
      expiredLeases.push(l.key);
    }
  }
  // 4. What is kept: every key any generation floor..head names.
  const floor = Math.max(0, Math.min(generation - retain + 1, onwardFrom));
  const kept = new Set<string>();
  for (const [, f] of (await store.at(floor)).entries()) kept.add(f.key);
  for (const entry of await store.entries(floor, generation)) {
    for (const c of Object.values(entry.changes)) if (c !== null) kept.add(c.key);
    // Builds the trees floor+1..H in the handle's cache from the tree of floor just loaded, so
    // the head's tree (`txnfs status` counts its files) costs no second read of these entries.
    store.learn(entry);
  }
  for (const g of [...exactPins].sort((a, b) => a - b)) if (g < floor) for (const [, f] of (await store.at(g)).entries()) kept.add(f.key);
  const committed = (txn: string): boolean => {
    const g = store.generationOf(txn);
    return g !== undefined && g <= generation;
  };
  // 5. What goes.
  const newest = new Map<string, number>();
  const note = (key: string, at: Date): void => {
    const txn = txnOfDataKey(key);
    if (txn !== undefined) newest.set(txn, Math.max(newest.get(txn) ?? 0, at.getTime()));
  };
  for (const x of objects) note(x.key, x.lastModified);
  for (const u of uploads) note(u.key, u.initiated);
  const goes = (txn: string | undefined): boolean => txn !== undefined && (committed(txn) || now - newest.get(txn)! >= graceMs);
  const doomedObjects = objects.filter((x) => !kept.has(x.key) && goes(txnOfDataKey(x.key)));
  const doomedUploads = uploads.filter((u) => goes(txnOfDataKey(u.key)));
  const removed = new Set<string>();
  const young = new Set<string>();
  let collected = 0;
  // A transaction with a kept key is committed (some kept generation names it).
  const named = new Set(objects.filter((x) => kept.has(x.key)).map((x) => txnOfDataKey(x.key)));
  for (const [txn] of newest) {
    if (committed(txn) || named.has(txn)) continue;
    (goes(txn) ? removed : young).add(txn);
  }
  for (const x of doomedObjects) if (!removed.has(txnOfDataKey(x.key)!)) collected++;
  // Checkpoints: a reader of a kept generation starts at the newest checkpoint at or below the
  // oldest kept generation, or at a later one; older checkpoints serve nobody.
  const oldestKept = Math.min(floor, ...exactPins);
  const base = oldestKept > 0 ? await newestCheckpoint(seam, oldestKept) : undefined;
  const oldCheckpoints = base === undefined ? [] : (await seam.list(checkpointDir)).filter((c) => c.key > checkpointsAtMost(base) && c.key !== checkpointKey(base) && generationOfCheckpointKey(c.key) !== undefined);
  const newestAll = store.checkpointEvery > 0 ? await newestCheckpoint(seam, generation) : undefined;
  const behind = store.checkpointEvery > 0 && generation > 0 && generation - (newestAll ?? 0) >= store.checkpointEvery;
  const report = (written: boolean): S3RecoverReport => ({
    generation,
    removed: [...removed].sort(),
    abortedUploads: doomedUploads.length,
    young: [...young].sort(),
    floor,
    collected,
    leases: { live, oldest: oldestPin, removed: expiredLeases.length },
    checkpoints: { removed: oldCheckpoints.length, written },
  });
  if (dryRun) return report(false);
  const limiter = new Limiter(8);
  // Uploads first: an unfinished upload completes into an object if left.
  await Promise.all(doomedUploads.map((u) => limiter.run(() => seam.abortMultipart(u.key, u.uploadId))));
  await Promise.all(doomedObjects.map((x) => limiter.run(() => seam.delete(x.key))));
  await Promise.all(expiredLeases.map((k) => limiter.run(() => seam.delete(k))));
  await Promise.all(oldCheckpoints.map((c) => limiter.run(() => seam.delete(c.key))));
  // A writer that died between its commit and its checkpoint: write one for the head instead.
  if (behind) await store.checkpoint(generation);
  return report(behind);
}
