// s3Store: a txnfs root on an S3-compatible bucket. Holds the counted seam, the settings every
// host writing this store must share (the staging grace), and a cache of the tree at some
// generation, extended entry by entry so a commit does not re-read the whole log.
import type { S3Client } from '@aws-sdk/client-s3';
import { badArgument, TxnError, codes } from '../errors.js';
import { checkOptionsObject, numberOption } from '../options/options.js';
import { apply, discoverHead, readEntry, type FileRef } from './log.js';
import { makeSeam, type S3Seam } from './seam.js';

/** Options of {@link s3Store}. */
export interface S3StoreOptions {
  /** An `S3Client` of `@aws-sdk/client-s3` (v3). */
  readonly client: S3Client;
  readonly bucket: string;
  /** Key prefix for this store ('' for the bucket root). A trailing '/' is added when missing. @default '' */
  readonly prefix?: string | undefined;
  /**
   * How long staged data of a transaction that has not reached the log is kept before `recover()`
   * may delete it, in milliseconds. A writer refuses to commit (ESTAGE) once its oldest upload is
   * half this old, so a sweep never removes data a commit is about to name. Every host writing
   * the store must use the same value, and clocks must agree to well within half of it.
   * @default 3_600_000 (one hour)
   */
  readonly graceMs?: number | undefined;
}

/** A store handle: share one per process and bucket/prefix. */
export interface S3Store {
  readonly seam: S3Seam;
  readonly graceMs: number;
  /** `s3://bucket/prefix`, for messages. */
  readonly where: string;
  /** The tree as of the current head (discovered now), and that head. */
  current(): Promise<{ generation: number; tree: Map<string, FileRef> }>;
  /** The tree as of a generation at or above the cached one (entries read forward). */
  at(generation: number): Promise<Map<string, FileRef>>;
  /** The generation that committed transaction `txnId`, if it is at or below the cached one. */
  generationOf(txnId: string): number | undefined;
}

export const DEFAULT_GRACE_MS = 60 * 60 * 1000;

export function s3Store(options: S3StoreOptions): S3Store {
  const o = checkOptionsObject(options, 'options', ['client', 'bucket', 'prefix', 'graceMs']);
  if (typeof o.client !== 'object' || o.client === null || typeof (o.client as { send?: unknown }).send !== 'function') {
    throw badArgument('options.client', 'an S3Client of @aws-sdk/client-s3', o.client);
  }
  if (typeof o.bucket !== 'string' || o.bucket === '') throw badArgument('options.bucket', 'a non-empty string', o.bucket);
  if (o.prefix !== undefined && typeof o.prefix !== 'string') throw badArgument('options.prefix', 'a string', o.prefix);
  const raw = (o.prefix as string | undefined) ?? '';
  const prefix = raw === '' || raw.endsWith('/') ? raw : `${raw}/`;
  const graceMs = numberOption(o, 'graceMs', DEFAULT_GRACE_MS, 0, Number.MAX_SAFE_INTEGER, true, 'milliseconds');
  const seam = makeSeam(o.client as S3Client, o.bucket, prefix);
  const where = `s3://${o.bucket}/${prefix}`;
  let cachedGen = 0;
  let cached = new Map<string, FileRef>();
  const txnIds = new Map<string, number>();
  async function at(generation: number): Promise<Map<string, FileRef>> {
    if (generation < cachedGen) throw new Error('txnfs/s3: cannot go back in time (no checkpoints yet)');
    for (let g = cachedGen + 1; g <= generation; g++) {
      const entry = await readEntry(seam, g);
      if (entry === undefined) {
        throw new TxnError(codes.ECORRUPT, `txnfs/s3: log entry ${g} of ${where} is missing below the head ${generation}; a log entry is never deleted, so something outside txnfs removed it. Nothing was changed. Check what deletes keys under log/, and restore the entry from a backup before writing to this store again.`, { path: where });
      }
      const next = new Map(cached);
      apply(next, entry);
      cached = next;
      cachedGen = g;
      txnIds.set(entry.txnId, g);
    }
    return cached;
  }
  return {
    seam,
    graceMs,
    where,
    at,
    generationOf: (txnId) => txnIds.get(txnId),
    async current() {
      const generation = await discoverHead(seam);
      return { generation, tree: await at(generation) };
    },
  };
}
