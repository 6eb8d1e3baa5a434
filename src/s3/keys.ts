// The key layout under a store's prefix. Every key but the head hint is written once and never
// replaced: staging keys are named by transaction id, log entries by generation.
//   log/<generation, 20 digits>.json   the commit record of that generation (put-if-absent)
//   data/<txnId>/<n>                   a file's bytes, uploaded before the commit point
//   _head                               a hint: some committed generation (may lag; never ahead)

/** Zero-padded so that keys list in generation order. */
export function logKey(generation: number): string {
  return `log/${String(generation).padStart(20, '0')}.json`;
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
