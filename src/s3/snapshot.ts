// A pinned read view: the tree as of the head generation when opened. Entries and staged keys are
// immutable, so reads stay consistent without locks. (Pins are not leases yet: nothing collects.)
import type { S3Store } from './store.js';

export interface S3Snapshot {
  readonly generation: number;
  list(): string[];
  readFile(path: string): Promise<Buffer>;
  release(): void;
}

export async function openSnapshot(options: { store: S3Store }): Promise<S3Snapshot> {
  const { generation, tree } = await options.store.current();
  return {
    generation,
    list: () => [...tree.keys()].sort(),
    async readFile(path) {
      const ref = tree.get(path);
      const body = ref === undefined ? undefined : await options.store.seam.get(ref.key);
      if (body === undefined) throw new Error(`txnfs/s3: ${path} not in generation ${generation}`);
      return body;
    },
    release() {},
  };
}
