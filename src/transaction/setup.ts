/**
 * setup.ts: a transaction's place to stage (docs/protocol.md, "Staging", before step 1): the root
 * found (protocol/root.ts), the home and the owner lock in it, the staging dir
 * (protocol/staging.ts; generations/setup.ts in the generations layout); and its removal while
 * nothing was committed (abort, or a commit failing before step 8).
 */
import { resolve as resolvePath } from 'node:path';
import * as fs from '../io/fs.js';
import { codes, errnoOf, isTxnError, TxnError } from '../errors.js';
import { syncDir } from '../io/durable.js';
import { inHome, inOpenedHome, removeHomeIfEmpty } from '../protocol/home.js';
import { realRoot } from '../protocol/root.js';
import { createStaging, openHome, removeStaging, type TrustedHome } from '../protocol/staging.js';
import type { Setup } from '../protocol/commit.js';
import { isGenerationsRoot, openGenerations } from '../generations/setup.js';
import { warnUnsafeFsOnce } from '../platform/unsafe-fs.js';
import { discardLone } from './lone.js';
import { placeOnce, type TxState } from './state.js';

/** A root found and its home open: what a look, a read or a lone file (lone.ts) needs. */
export interface Place {
  readonly root: string;
  readonly home: TrustedHome;
}

/**
 * A filesystem error while opening the root or creating the staging is about the root, not about
 * any one file's data, so it is reported as EFS naming the root (not as a staging failure of
 * whichever write happened to trigger it). A TxnError is returned as it is.
 */
export function rootFailure(tx: TxState, err: unknown): TxnError {
  if (isTxnError(err)) return err;
  const code = errnoOf(err);
  const why =
    code === 'EROFS' ? 'the filesystem is mounted read-only'
    : code === 'EACCES' || code === 'EPERM' ? 'permission denied'
    : code === 'ENOSPC' || code === 'EDQUOT' ? 'the filesystem is full'
    : code === 'EMFILE' || code === 'ENFILE' ? 'too many open files'
    : (err as Error)?.message ?? String(err);
  return new TxnError(
    codes.EFS,
    `Cannot start transaction ${tx.id} in '${tx.dir}': ${why} (${(err as Error)?.message ?? String(err)}). Nothing was written; fix the cause (see err.cause) and retry.`,
    { cause: err, path: tx.dir, txnId: tx.id },
  );
}

/** `fn`, its failure reported by `rootFailure`. */
async function aboutTheRoot<T>(tx: TxState, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw rootFailure(tx, err);
  }
}

/** Find the root (in-place layout) and open its home: no lock, no staging dir yet. */
export function openPlace(tx: TxState): Promise<Place> {
  return aboutTheRoot(tx, async () => {
    const root = await realRoot(tx.dir, 'write', tx.id);
    // A generations pointer resolves into an immutable generation: in-place writes there would
    // change every generation sharing the file. Checked only when the root went through a symlink.
    if (root !== resolvePath(tx.dir) && (await isGenerationsRoot(tx.dir))) {
      throw new TxnError(codes.ETARGET, `'${tx.dir}' is the pointer of a generations root; an in-place transaction would write into a published generation. Pass layout: 'generations'.`, { path: tx.dir, txnId: tx.id });
    }
    // Once per root and process, before any lock is made there (unsafe-fs.ts: why NFS/FUSE).
    if (tx.warnUnsafeFs) warnUnsafeFsOnce(root);
    // Another writer may remove the home, empty, between its mkdir and its lstat (home.ts).
    return { root, home: await inHome(async () => undefined, () => openRootHome(tx, root)) };
  });
}

/**
 * The home of `root`, made if missing. The root must be a directory; a home found there (the
 * common case) proves it, so the root is stat'ed only when the home cannot be looked up through
 * it (ENOTDIR: a file).
 */
async function openRootHome(tx: TxState, root: string): Promise<TrustedHome> {
  try {
    return await openHome(root, tx.o.durable);
  } catch (err) {
    if (errnoOf(err) === 'ENOTDIR' && (await fs.stat(root)).kind !== 'dir') {
      throw new TxnError(codes.ETARGET, `The root '${tx.dir}' is not a directory. Pass the directory the files go into as dir.`, { path: tx.dir, txnId: tx.id });
    }
    throw err;
  }
}

/** Create the home, the owner lock and the staging dir (the root and home: `placeOnce`). */
export function createSetup(tx: TxState): Promise<Setup> {
  return aboutTheRoot(tx, () => createSetupRaw(tx));
}

async function createSetupRaw(tx: TxState): Promise<Setup> {
  const o = tx.o;
  if (tx.gen !== undefined) {
    const g = await openGenerations(tx.dir, o.durable);
    return { root: g.genHome, home: g.home, staging: await createStaging(g.home.home, tx.id, o.timing), pointer: g.pointer };
  }
  const place = await placeOnce(tx);
  // The owner lock goes into a home another writer may remove (empty) meanwhile (home.ts): the
  // home opened with the place first, made again on each retry.
  return inOpenedHome(place.home, () => openRootHome(tx, place.root), async (home) => ({
    root: place.root,
    home,
    staging: await createStaging(home.home, tx.id, o.timing, { durable: o.durable }),
  }));
}

/**
 * Remove what the transaction made, before any commit point: its lone file (lone.ts), its staging
 * dir and owner lock, and the home when that leaves it empty (a look or a read alone opens it).
 */
export async function discardSetup(tx: TxState): Promise<void> {
  // The staging dir and owner lock go even when the lone file could not (a failing disk): a held
  // owner lock would keep recover() from removing them.
  const loneLeft = await discardLone(tx).then(() => undefined, (err: unknown) => ({ err }));
  const place = await tx.place?.catch(() => undefined);
  const setup = await tx.setup?.catch(() => undefined); // undefined: nothing was created
  if (setup !== undefined) {
    try {
      await removeStaging(setup.staging.dir, tx.o.durable);
      if (tx.o.durable) await syncDir(setup.home.home);
    } finally {
      await setup.staging.ownerLock.release();
    }
  }
  if (loneLeft !== undefined) throw loneLeft.err;
  const home = setup?.home.home ?? place?.home.home;
  if (tx.gen === undefined && home !== undefined) await removeHomeIfEmpty(home);
}
