// A pinned read view: the tree of the head generation when opened, held by an expiring lease.
// Entries and staged keys are immutable, so reads stay consistent without locks; the lease is what
// keeps recover() from collecting the data of this generation while the snapshot is open.
//
// Open: (1) a lower bound L of the head (the hint, or what the store handle knows), (2) PUT an
// onward lease on L (it pins L and every later generation), (3) discover the head P >= L, (4) load
// the tree of P (newest checkpoint + entries). The lease is written *before* the head is
// discovered: recover() reads the head before it lists leases, so a sweep that missed this lease
// read a head <= P, and a head's data is never collected (nor, by the grace, anything committed
// after the head the sweep read).
//
// Renewal: every leaseMs/6 the lease is PUT again (its LastModified is the server's clock; a
// sweep counts it expired leaseMs after that). The first renewal replaces the onward lease by an
// exact one on P (PUT before the onward one is deleted, so a sweep always sees one of them): a
// snapshot held for long pins its own generation only, and later generations are collected as
// usual. The holder trusts its lease only until half a lease after the send time of the last
// renewal that was answered in time; past that, reads fail with ECOMPROMISED instead of returning
// data a sweep may have deleted. Cost of open: 1 GET (hint), 1 PUT (lease), 1 HEAD (+1 per
// generation the hint lags), and the tree: 1 LIST + 1 GET of the checkpoint + the entries after it
// (fewer than checkpointEvery). Renewal: 1 PUT (the first also 1 DELETE). release(): 1 DELETE.
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { badArgument, codes, TxnError } from '../errors.js';
import { checkOptionsObject, numberOption } from '../options/options.js';
import { leaseKey } from './keys.js';
import type { S3Store } from './store.js';

/** Options of {@link openSnapshot}. */
export interface S3SnapshotOptions {
  /** The store, from `s3Store()`. */
  readonly store: S3Store;
  /** This snapshot's lease, in milliseconds (renewed every sixth of it while open). @default store.leaseMs */
  readonly leaseMs?: number | undefined;
}

/** A pinned generation of an S3 store. */
export interface S3Snapshot extends AsyncDisposable {
  readonly generation: number;
  /** Every path of the generation, sorted. */
  list(): string[];
  readFile(path: string): Promise<Buffer>;
  /** The file's bytes as a stream (one GET, not buffered). */
  createReadStream(path: string): Readable;
  /** Delete the lease (one DELETE; a failure leaves it to expire). Reads fail with ESTATE afterwards. */
  release(): Promise<void>;
}

export async function openSnapshot(options: S3SnapshotOptions): Promise<S3Snapshot> {
  const o = checkOptionsObject(options, 'options', ['store', 'leaseMs']);
  const store = o.store as S3Store | undefined;
  if (typeof store !== 'object' || store === null || typeof store.current !== 'function') throw badArgument('options.store', 'a store from s3Store()', o.store);
  const leaseMs = numberOption(o, 'leaseMs', store.leaseMs, 1000, Number.MAX_SAFE_INTEGER, true, 'milliseconds');
  const { seam } = store;
  const id = randomUUID();
  const body = (g: number): string => JSON.stringify({ generation: g, leaseMs, pid: process.pid, openedAt: new Date().toISOString() });
  const floor = await store.floor();
  let key = leaseKey(floor, true, leaseMs, id);
  const sent = performance.now();
  await seam.put(key, body(floor));
  /** performance.now() until which the lease is known to be held. */
  let validUntil = sent + leaseMs / 2;
  let generation: number;
  let tree: Awaited<ReturnType<S3Store['at']>>;
  try {
    generation = await store.head(floor);
    tree = await store.at(generation);
  } catch (err) {
    await seam.delete(key).catch(() => undefined);
    throw err;
  }

  let released: Promise<void> | undefined;
  let lost = false;
  let renewing: Promise<void> | undefined;
  const renew = (): Promise<void> => (renewing ??= renewOnce().finally(() => (renewing = undefined)));
  const renewOnce = async (): Promise<void> => {
    if (released !== undefined || lost) return;
    const at = performance.now();
    try {
      const exact = leaseKey(generation, false, leaseMs, id);
      await seam.put(exact, body(generation));
      // Answered after the lease could have expired: a sweep may have collected already.
      if (performance.now() > validUntil) lost = true;
      else validUntil = at + leaseMs / 2;
      if (key !== exact) {
        const onward = key;
        key = exact;
        await seam.delete(onward).catch(() => undefined); // if left, it expires
      }
    } catch {
      // The next tick tries again; the lease is lost only once validUntil passes.
    }
  };
  const timer = setInterval(() => void renew(), leaseMs / 6);
  timer.unref();

  const check = (path: string): void => {
    if (released !== undefined) throw new TxnError(codes.ESTATE, `txnfs/s3: the snapshot of generation ${generation} of ${store.where} was released. Call openSnapshot() again for a new one.`, { path });
    if (lost || performance.now() > validUntil) {
      lost = true;
      clearInterval(timer);
      throw new TxnError(codes.ECOMPROMISED, `txnfs/s3: the lease of the snapshot of generation ${generation} of ${store.where} was not renewed in time (the process stalled, or S3 did not answer for half of leaseMs = ${leaseMs} ms), so recover() may have collected its data. Release it and open a new snapshot.`, { path });
    }
  };
  const keyOf = (path: string): string => {
    check(path);
    const ref = tree.get(path);
    if (ref === undefined) throw new TxnError(codes.ETARGET, `txnfs/s3: '${path}' is not in generation ${generation} of ${store.where}. Pass a path from list().`, { path });
    return ref.key;
  };
  const missing = (path: string, key: string): TxnError => {
    check(path); // a lease lost while the GET was in flight explains the missing key
    return new TxnError(codes.ECORRUPT, `txnfs/s3: '${path}' of generation ${generation} names the key ${key}, which is missing from ${store.where}; something outside txnfs deleted it. Restore the key from a backup, or write the file again.`, { path });
  };
  const release = (): Promise<void> => {
    released ??= (async () => {
      clearInterval(timer);
      await renewing; // never throws; then `key` is the lease that exists
      await seam.delete(key).catch(() => undefined); // a lease left behind expires after leaseMs
    })();
    return released;
  };
  return {
    generation,
    list: () => [...tree.paths()],
    async readFile(path) {
      const key = keyOf(path);
      const body = await seam.get(key);
      if (body === undefined) throw missing(path, key);
      return body;
    },
    createReadStream(path) {
      return Readable.from(
        (async function* () {
          const key = keyOf(path);
          const body = await seam.getStream(key);
          if (body === undefined) throw missing(path, key);
          yield* body;
        })(),
        { objectMode: false },
      );
    },
    release,
    [Symbol.asyncDispose]: release,
  };
}
