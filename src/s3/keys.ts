// The key layout under a store's prefix. Data and log keys are written once and never replaced:
// staging keys are named by transaction id, log entries and checkpoints by generation.
//   log/<generation, 20 digits>.json          the commit record of that generation (put-if-absent)
//   data/<txnId>/<n>                          a file's bytes, uploaded before the commit point
//   checkpoint/<inverted, 20 digits>-<g>.json the full file list at generation g, written after log
//                                             entry g; the inverted number (10^20-1-g) makes a
//                                             listing return the newest first, so one LIST with
//                                             start-after finds the newest checkpoint <= any g
//   lease/<generation, 20 digits>.<ms>.<id>   a reader's pin on that generation; it expires <ms>
//                                             after its LastModified, and the holder renews it by
//                                             PUTting it again
//   lease/<generation, 20 digits>+.<ms>.<id>  the same, pinning that generation and every later
//                                             one (a snapshot's first lease, written before it
//                                             knows which generation it will read)
//   _head                                     a hint: some committed generation (may lag; never ahead)

const WIDTH = 20;
const pad = (n: number | bigint): string => String(n).padStart(WIDTH, '0');
const inverted = (g: number): string => pad(10n ** BigInt(WIDTH) - 1n - BigInt(g));

/** Zero-padded so that keys list in generation order. */
export function logKey(generation: number): string {
  return `log/${pad(generation)}.json`;
}

export const dataDir = 'data/';

export function dataKey(txnId: string, n: number): string {
  return `${dataDir}${txnId}/${n}`;
}

/** The transaction that staged `key` (a key under data/), or undefined for a foreign key. */
export function txnOfDataKey(key: string): string | undefined {
  const m = /^data\/([^/]+)\/[0-9]+$/.exec(key);
  return m === null ? undefined : m[1];
}

export const headHintKey = '_head';

export const checkpointDir = 'checkpoint/';

export function checkpointKey(generation: number): string {
  return `${checkpointDir}${inverted(generation)}-${generation}.json`;
}

/**
 * The start-after of a listing whose first key is the newest checkpoint at or below `generation`:
 * every key of a newer checkpoint sorts before it, every key of `generation` or older after it.
 */
export function checkpointsAtMost(generation: number): string {
  return `${checkpointDir}${inverted(generation)}`;
}

/** The generation of a checkpoint key, or undefined for a foreign key. */
export function generationOfCheckpointKey(key: string): number | undefined {
  const m = /^checkpoint\/([0-9]{20})-([0-9]+)\.json$/.exec(key);
  if (m === null) return undefined;
  const g = Number(m[2]);
  return Number.isSafeInteger(g) && inverted(g) === m[1] ? g : undefined;
}

export const leaseDir = 'lease/';

export function leaseKey(generation: number, onward: boolean, leaseMs: number, id: string): string {
  return `${leaseDir}${pad(generation)}${onward ? '+' : ''}.${leaseMs}.${id}`;
}

/** What a lease key pins, or undefined for a foreign key. */
export function parseLeaseKey(key: string): { generation: number; onward: boolean; leaseMs: number } | undefined {
  const m = /^lease\/([0-9]{20})(\+?)\.([0-9]+)\.[A-Za-z0-9-]+$/.exec(key);
  if (m === null) return undefined;
  const generation = Number(m[1]);
  const leaseMs = Number(m[3]);
  return Number.isSafeInteger(generation) && Number.isSafeInteger(leaseMs) && leaseMs > 0 ? { generation, onward: m[2] === '+', leaseMs } : undefined;
}
