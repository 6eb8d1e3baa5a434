// The log: entry N is the commit record of generation N, created with `If-None-Match: *`. That
// create is the commit point: of all writers racing for N exactly one gets 200, and an entry once
// there is never replaced, so an acknowledged commit cannot be lost or overwritten.
import { headHintKey, logKey } from './keys.js';
import { s3Mutated } from './faults.js';
import type { S3Seam } from './seam.js';

/** A file in the tree: where its bytes are and the generation that last wrote it. */
export interface FileRef {
  key: string;
  size: number;
  /** SHA-256 of the bytes, lowercase hex: a content version without reading the data. */
  sha256: string;
  generation: number;
}

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
  const r = await seam.put(logKey(entry.generation), JSON.stringify(entry), { ifNoneMatch: !s3Mutated('s3-log-unconditional') });
  return r.ok;
}

/**
 * The newest committed generation: start at the hint (it can only lag, since it is written after
 * the entry it names) and probe forward until an entry is absent. Entries are created in order
 * (N+1 only by a writer that has read N), so the first gap is the head.
 */
export async function discoverHead(seam: S3Seam): Promise<number> {
  const hint = await seam.get(headHintKey);
  let head = hint === undefined ? 0 : Number(hint.toString('utf8')) || 0;
  while (await seam.exists(logKey(head + 1))) head++;
  return head;
}

/** Best effort: a lost or stale hint costs readers a few probes, never correctness. */
export async function writeHeadHint(seam: S3Seam, generation: number): Promise<void> {
  await seam.put(headHintKey, String(generation)).catch(() => undefined);
}

/** The tree as of `generation`: every entry folded in order. (No checkpoints yet: O(generations).) */
export async function loadTree(seam: S3Seam, generation: number): Promise<Map<string, FileRef>> {
  const tree = new Map<string, FileRef>();
  for (let g = 1; g <= generation; g++) {
    const entry = await readEntry(seam, g);
    if (entry === undefined) throw new Error(`txnfs/s3: log entry ${g} missing below head ${generation}`);
    apply(tree, entry);
  }
  return tree;
}

export function apply(tree: Map<string, FileRef>, entry: LogEntry): void {
  for (const [p, c] of Object.entries(entry.changes)) {
    if (c === null) tree.delete(p);
    else tree.set(p, { key: c.key, size: c.size, sha256: c.sha256, generation: entry.generation });
  }
}
