// s3Store: a txnfs root on an S3-compatible bucket. Holds the counted seam and a cache of the tree
// at some generation, extended entry by entry so a commit does not re-read the whole log.
import type { S3Client } from '@aws-sdk/client-s3';
import { apply, discoverHead, readEntry, type FileRef } from './log.js';
import { makeSeam, type S3Seam } from './seam.js';

export interface S3StoreOptions {
  client: S3Client;
  bucket: string;
  /** Key prefix for this store ('' for the bucket root). A trailing '/' is added when missing. */
  prefix?: string;
}

export interface S3Store {
  readonly seam: S3Seam;
  /** The tree as of the current head (discovered now), and that head. */
  current(): Promise<{ generation: number; tree: Map<string, FileRef> }>;
  /** The tree as of a generation at or above the cached one (entries read forward). */
  at(generation: number): Promise<Map<string, FileRef>>;
}

export function s3Store(options: S3StoreOptions): S3Store {
  const raw = options.prefix ?? '';
  const prefix = raw === '' || raw.endsWith('/') ? raw : `${raw}/`;
  const seam = makeSeam(options.client, options.bucket, prefix);
  let cachedGen = 0;
  let cached = new Map<string, FileRef>();
  async function at(generation: number): Promise<Map<string, FileRef>> {
    if (generation < cachedGen) throw new Error('txnfs/s3: cannot go back in time (no checkpoints yet)');
    for (let g = cachedGen + 1; g <= generation; g++) {
      const entry = await readEntry(seam, g);
      if (entry === undefined) throw new Error(`txnfs/s3: log entry ${g} missing`);
      const next = new Map(cached);
      apply(next, entry);
      cached = next;
      cachedGen = g;
    }
    return cached;
  }
  return {
    seam,
    at,
    async current() {
      const generation = await discoverHead(seam);
      return { generation, tree: await at(generation) };
    },
  };
}
