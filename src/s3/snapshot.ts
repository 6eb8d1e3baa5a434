// A pinned read view: the tree as of the head generation when opened. Entries and staged keys are
// immutable, so reads stay consistent without locks. (Pins are not leases yet: nothing collects
// committed data, so a snapshot stays readable for as long as it is held.)
import { Readable } from 'node:stream';
import { codes, TxnError } from '../errors.js';
import type { S3Store } from './store.js';

export interface S3Snapshot extends AsyncDisposable {
  readonly generation: number;
  /** Every path of the generation, sorted. */
  list(): string[];
  readFile(path: string): Promise<Buffer>;
  /** The file's bytes as a stream (one GET, not buffered). */
  createReadStream(path: string): Readable;
  release(): void;
}

export async function openSnapshot(options: { store: S3Store }): Promise<S3Snapshot> {
  const { store } = options;
  const { generation, tree } = await store.current();
  const keyOf = (path: string): string => {
    const ref = tree.get(path);
    if (ref === undefined) throw new TxnError(codes.ETARGET, `txnfs/s3: '${path}' is not in generation ${generation} of ${store.where}. Pass a path from list().`, { path });
    return ref.key;
  };
  const missing = (path: string, key: string): TxnError =>
    new TxnError(codes.ECORRUPT, `txnfs/s3: '${path}' of generation ${generation} names the key ${key}, which is missing from ${store.where}; something outside txnfs deleted it. Restore the key from a backup, or write the file again.`, { path });
  return {
    generation,
    list: () => [...tree.keys()].sort(),
    async readFile(path) {
      const key = keyOf(path);
      const body = await store.seam.get(key);
      if (body === undefined) throw missing(path, key);
      return body;
    },
    createReadStream(path) {
      return Readable.from(
        (async function* () {
          const key = keyOf(path);
          const body = await store.seam.getStream(key);
          if (body === undefined) throw missing(path, key);
          yield* body;
        })(),
        { objectMode: false },
      );
    },
    release() {},
    async [Symbol.asyncDispose]() {},
  };
}
