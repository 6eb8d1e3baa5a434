// s3Store: a txnfs root on an S3-compatible bucket. Holds the counted seam, the settings every
// host writing this store must share (grace, checkpoint interval, retention), and caches: the
// newest generation this handle knows to be committed, the trees of the last few generations it
// loaded, and which transaction committed which of the entries it read.
//
// Loading the tree of generation g costs: nothing when cached; the entries after the nearest
// cached tree below g when that is at most checkpointEvery behind; otherwise one LIST and one GET
// for the newest checkpoint <= g, and the entries after it (fewer than checkpointEvery when every
// checkpoint was written). Never a read of the whole log, so the cost does not grow with history
// or with the number of files.
import type { S3Client } from '@aws-sdk/client-s3';
import { badArgument, TxnError, codes } from '../errors.js';
import { mapLimit } from '../io/limit.js';
import { checkOptionsObject, numberOption } from '../options/options.js';
import { s3Mutated } from './faults.js';
import { logKey } from './keys.js';
import { headFloor, loadCheckpoint, probeHead, readEntry, writeCheckpoint, type LogEntry } from './log.js';
import { makeSeam, type S3Seam } from './seam.js';
import { Tree } from './tree.js';

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
  /**
   * Write a checkpoint (the full file list) every this many generations: the writer of a
   * generation that is a multiple of it writes one after its commit point. A reader loads the
   * newest checkpoint and the entries after it, so opening a store costs at most about this many
   * GETs; a lower value costs more checkpoint uploads (each the size of the whole file list). 0
   * turns checkpoints off (readers then fold the whole log).
   * @default 100
   */
  readonly checkpointEvery?: number | undefined;
  /**
   * How many of the newest generations `recover()` keeps readable for readers without a lease
   * (a transaction's base, a reader of the bucket that does not use txnfs). Data that only older
   * generations name, and that no live lease pins, is deleted. At least 1 (the head).
   * @default 100
   */
  readonly retainGenerations?: number | undefined;
  /**
   * How long a snapshot's lease lasts, in milliseconds, unless renewed. An open snapshot renews it
   * every sixth of this; a snapshot whose holder died (or stalled) stops pinning its data this long
   * after the last renewal. Clocks of hosts and server must agree to well within a quarter of it.
   * @default 300_000 (five minutes)
   */
  readonly leaseMs?: number | undefined;
}

/** A store handle: share one per process and bucket/prefix. */
export interface S3Store {
  readonly seam: S3Seam;
  readonly graceMs: number;
  readonly checkpointEvery: number;
  readonly retainGenerations: number;
  readonly leaseMs: number;
  /** `s3://bucket/prefix`, for messages. */
  readonly where: string;
  /** The tree as of the current head (discovered now), and that head. */
  current(): Promise<{ generation: number; tree: Tree }>;
  /**
   * The head generation, discovered now. From `floor` (a committed generation) when given: HEADs
   * only. Otherwise from what this handle knows: one HEAD when nothing was committed since it
   * last looked, else the hint (one GET) and HEADs from there.
   */
  head(floor?: number): Promise<number>;
  /** A committed generation, without probing: the largest of the hint and what this handle knows. */
  floor(): Promise<number>;
  /** The tree as of `generation` (a committed one). */
  at(generation: number): Promise<Tree>;
  /** Log entries from+1 .. to, in order (a few GETs at a time). */
  entries(from: number, to: number): Promise<LogEntry[]>;
  /** Record an entry this handle created (so the next tree costs no GET). */
  learn(entry: LogEntry): void;
  /** The generation that committed transaction `txnId`, if this handle has read or written that entry. */
  generationOf(txnId: string): number | undefined;
  /** Write the checkpoint of `generation`; used after its entry exists. */
  checkpoint(generation: number): Promise<void>;
}

const DEFAULT_GRACE_MS = 60 * 60 * 1000;
const DEFAULT_CHECKPOINT_EVERY = 100;
const DEFAULT_RETAIN_GENERATIONS = 100;
const DEFAULT_LEASE_MS = 5 * 60 * 1000;
/** Trees of this many generations stay cached (they share structure, so this is cheap). */
const CACHED_TREES = 64;
/** Entry GETs in flight at once when a reader catches up. */
const ENTRY_READS = 8;

export function s3Store(options: S3StoreOptions): S3Store {
  const o = checkOptionsObject(options, 'options', ['client', 'bucket', 'prefix', 'graceMs', 'checkpointEvery', 'retainGenerations', 'leaseMs']);
  if (typeof o.client !== 'object' || o.client === null || typeof (o.client as { send?: unknown }).send !== 'function') {
    throw badArgument('options.client', 'an S3Client of @aws-sdk/client-s3', o.client);
  }
  if (typeof o.bucket !== 'string' || o.bucket === '') throw badArgument('options.bucket', 'a non-empty string', o.bucket);
  if (o.prefix !== undefined && typeof o.prefix !== 'string') throw badArgument('options.prefix', 'a string', o.prefix);
  const raw = (o.prefix as string | undefined) ?? '';
  const prefix = raw === '' || raw.endsWith('/') ? raw : `${raw}/`;
  const graceMs = numberOption(o, 'graceMs', DEFAULT_GRACE_MS, 0, Number.MAX_SAFE_INTEGER, true, 'milliseconds');
  const checkpointEvery = numberOption(o, 'checkpointEvery', DEFAULT_CHECKPOINT_EVERY, 0, Number.MAX_SAFE_INTEGER, true);
  const retainGenerations = numberOption(o, 'retainGenerations', DEFAULT_RETAIN_GENERATIONS, 1, Number.MAX_SAFE_INTEGER, true);
  const leaseMs = numberOption(o, 'leaseMs', DEFAULT_LEASE_MS, 1000, Number.MAX_SAFE_INTEGER, true, 'milliseconds');
  const seam = makeSeam(o.client as S3Client, o.bucket, prefix);
  const where = `s3://${o.bucket}/${prefix}`;
  /** The newest generation this handle knows to exist. */
  let known = 0;
  const trees = new Map<number, Tree>();
  const txnIds = new Map<string, number>();

  const remember = (tree: Tree): void => {
    known = Math.max(known, tree.generation);
    trees.set(tree.generation, tree);
    if (trees.size > CACHED_TREES) {
      // Drop the oldest generation: readers of old generations hold their own tree.
      let oldest = Infinity;
      for (const g of trees.keys()) oldest = Math.min(oldest, g);
      trees.delete(oldest);
    }
  };
  const note = (entry: LogEntry): void => {
    txnIds.set(entry.txnId, entry.generation);
    known = Math.max(known, entry.generation);
  };

  async function entries(from: number, to: number): Promise<LogEntry[]> {
    const gens = Array.from({ length: Math.max(0, to - from) }, (_, i) => from + 1 + i);
    return await mapLimit(gens, ENTRY_READS, async (g) => {
      const entry = await readEntry(seam, g);
      if (entry === undefined || entry.generation !== g) {
        throw new TxnError(codes.ECORRUPT, `txnfs/s3: log entry ${g} of ${where} is ${entry === undefined ? 'missing' : `not generation ${g}`} below a committed generation ${to}; a log entry is never deleted or rewritten, so something outside txnfs changed it (key ${seam.prefix}${logKey(g)}). Nothing was changed. Restore the entry from a backup before writing to this store again.`, { path: where });
      }
      note(entry);
      return entry;
    });
  }

  async function at(generation: number): Promise<Tree> {
    if (generation === 0) return Tree.empty();
    const hit = trees.get(generation);
    if (hit !== undefined) return hit;
    let base: Tree | undefined;
    for (const t of trees.values()) if (t.generation < generation && (base === undefined || t.generation > base.generation)) base = t;
    if (checkpointEvery > 0 && (base === undefined || generation - base.generation > checkpointEvery)) {
      const c = await loadCheckpoint(seam, generation);
      if (c !== undefined && (base === undefined || c.generation > base.generation)) base = c;
    }
    let tree = base ?? Tree.empty();
    for (const entry of await entries(tree.generation, generation)) {
      tree = tree.with(entry);
      remember(tree);
    }
    remember(tree);
    return tree;
  }

  async function head(floor?: number): Promise<number> {
    if (floor !== undefined) return (known = Math.max(known, await probeHead(seam, Math.max(floor, known))));
    // One HEAD when nothing was committed since this handle last looked; else the hint is cheaper
    // than probing every generation it missed.
    if (known > 0 && !(await seam.exists(logKey(known + 1)))) return known;
    const from = Math.max(known + (known > 0 ? 1 : 0), await headFloor(seam));
    return (known = Math.max(known, await probeHead(seam, from)));
  }

  return {
    seam,
    graceMs,
    checkpointEvery,
    retainGenerations,
    leaseMs,
    where,
    at,
    head,
    entries,
    async floor() {
      return Math.max(known, await headFloor(seam));
    },
    learn(entry) {
      note(entry);
      const parent = trees.get(entry.generation - 1);
      if (parent !== undefined) remember(parent.with(entry));
    },
    generationOf: (txnId) => txnIds.get(txnId),
    async current() {
      const generation = await head();
      return { generation, tree: await at(generation) };
    },
    async checkpoint(generation) {
      // The mutation writes the previous generation's list under this generation's key.
      const tree = await at(s3Mutated('s3-checkpoint-stale') ? generation - 1 : generation);
      await writeCheckpoint(seam, s3Mutated('s3-checkpoint-stale') ? Tree.of(generation, new Map(tree.flat())) : tree);
    },
  };
}
