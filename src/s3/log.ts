// The log: entry N is the commit record of generation N, created with `If-None-Match: *`. That
// create is the commit point: of all writers racing for N exactly one gets 200, and an entry once
// there is never replaced, so an acknowledged commit cannot be lost or overwritten.
//
// Checkpoints: the full file list of generation G, written by the writer of G when G is a multiple
// of the store's checkpointEvery, or by recover() when the newest one is that far behind. A
// checkpoint is only ever written after the entry it summarises exists and is computed from the
// log alone, so it is a cache of the log: a missing, failed or unreadable checkpoint costs a reader
// more entry reads (it falls back to an older checkpoint, or to entry 1), never data. It is one
// complete object created with If-None-Match: * (a PUT is all or nothing, and a checkpoint once
// there is never replaced, so two writers of G, or a late one, cannot swap it under a reader), and
// it carries its file count and the SHA-256 of its file list: a body that is cut, or edited by
// hand, is rejected as a whole and the reader falls back, never reading a tree with files missing.
import { createHash } from 'node:crypto';
import { checkpointKey, checkpointsAtMost, checkpointDir, generationOfCheckpointKey, headHintKey, logKey } from './keys.js';
import { s3Mutated } from './faults.js';
import type { S3Seam } from './seam.js';
import { Tree, type FileRef } from './tree.js';

export type { FileRef } from './tree.js';

/** A write in a log entry: the staged key that holds the new bytes, their size and digest. */
export interface Staged {
  key: string;
  size: number;
  sha256: string;
}

/** The changes of one commit: a path to its new bytes, or null for a removal. */
export interface LogEntry {
  generation: number;
  txnId: string;
  changes: Record<string, Staged | null>;
}

export async function readEntry(seam: S3Seam, generation: number): Promise<LogEntry | undefined> {
  const body = await seam.get(logKey(generation));
  return body === undefined ? undefined : (JSON.parse(body.toString('utf8')) as LogEntry);
}

/** Creates entry N; false when another writer holds N already. */
export async function putEntry(seam: S3Seam, entry: LogEntry): Promise<boolean> {
  const r = await seam.put(logKey(entry.generation), JSON.stringify(entry), { ifNoneMatch: true });
  return r.ok;
}

/**
 * A committed generation to start head discovery from, without probing: the hint (written after
 * the entry it names, so it can only lag), or when there is no hint the newest checkpoint (also
 * written after its entry). One GET, plus one LIST when the hint is missing.
 */
export async function headFloor(seam: S3Seam): Promise<number> {
  const hint = await seam.get(headHintKey);
  const n = hint === undefined ? NaN : Number(hint.toString('utf8'));
  if (Number.isSafeInteger(n) && n >= 0) return n;
  return (await newestCheckpoint(seam, Number.MAX_SAFE_INTEGER)) ?? 0;
}

/**
 * The newest committed generation, at or above `from` (a generation known to be committed): HEAD
 * entries from+1, from+2, ... until one is absent. Entries are created in order (N+1 only by a
 * writer that has read N), so the first gap is the head. One HEAD when `from` is the head.
 */
export async function probeHead(seam: S3Seam, from: number): Promise<number> {
  let head = from;
  while (await seam.exists(logKey(head + 1))) head++;
  return head;
}

/** Best effort: a lost or stale hint costs readers a few probes, never correctness. */
export async function writeHeadHint(seam: S3Seam, generation: number): Promise<void> {
  await seam.put(headHintKey, String(generation)).catch(() => undefined);
}

/** The generation of the newest checkpoint at or below `generation` (one LIST), if any. */
export async function newestCheckpoint(seam: S3Seam, generation: number): Promise<number | undefined> {
  const [first] = await seam.listAfter(checkpointDir, checkpointsAtMost(generation), 1);
  return first === undefined ? undefined : generationOfCheckpointKey(first.key);
}

/** A checkpoint's body: the files of one generation, as [path, key, size, sha256, generation]. */
interface CheckpointBody {
  format: 1;
  generation: number;
  /** files.length, and the SHA-256 (hex) of JSON.stringify(files): a cut or edited list fails both or one. */
  count: number;
  sha256: string;
  files: [string, string, number, string, number][];
}

const digest = (files: unknown): string => createHash('sha256').update(JSON.stringify(files)).digest('hex');

export async function writeCheckpoint(seam: S3Seam, tree: Tree): Promise<void> {
  const files: CheckpointBody['files'] = [];
  for (const [p, f] of tree.entries()) files.push([p, f.key, f.size, f.sha256, f.generation]);
  const body: CheckpointBody = { format: 1, generation: tree.generation, count: files.length, sha256: digest(files), files };
  // Create-only: a 412 means a checkpoint of this generation exists already (another writer, or
  // recover(), computed the same list from the same log); it is left as it is.
  await seam.put(checkpointKey(tree.generation), JSON.stringify(body), { ifNoneMatch: true });
}

/** The tree of checkpoint `generation`, or undefined when it is absent or not one txnfs wrote. */
async function readCheckpoint(seam: S3Seam, generation: number): Promise<Tree | undefined> {
  const raw = await seam.get(checkpointKey(generation));
  if (raw === undefined) return undefined;
  let body: CheckpointBody;
  try {
    body = JSON.parse(raw.toString('utf8')) as CheckpointBody;
  } catch {
    return undefined;
  }
  if (body?.format !== 1 || body.generation !== generation || !Array.isArray(body.files)) return undefined;
  if (!s3Mutated('s3-checkpoint-unchecked') && (body.count !== body.files.length || body.sha256 !== digest(body.files))) return undefined;
  const files = new Map<string, FileRef>();
  for (const f of body.files) {
    if (!Array.isArray(f) || typeof f[0] !== 'string' || typeof f[1] !== 'string' || typeof f[2] !== 'number' || typeof f[3] !== 'string' || typeof f[4] !== 'number') return undefined;
    files.set(f[0], { key: f[1], size: f[2], sha256: f[3], generation: f[4] });
  }
  return Tree.of(generation, files);
}

/**
 * The tree of the newest readable checkpoint at or below `generation`, or undefined when there is
 * none: one LIST and one GET, plus one LIST and GET per checkpoint that is listed but unreadable.
 */
export async function loadCheckpoint(seam: S3Seam, generation: number): Promise<Tree | undefined> {
  for (let below = generation; below > 0; ) {
    const c = await newestCheckpoint(seam, below);
    if (c === undefined) return undefined;
    const tree = await readCheckpoint(seam, c);
    if (tree !== undefined) return tree;
    below = c - 1;
  }
  return undefined;
}
