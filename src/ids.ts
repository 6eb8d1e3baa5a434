/**
 * ids.ts: the random ids of txnfs (transactions, lock tokens, snapshots), nanoid's URL-safe
 * alphabet, 21 characters unless asked otherwise.
 *
 * nanoid's own `nanoid()` draws its bytes from Web Crypto's `getRandomValues`, and Node loads Web
 * Crypto's argument checking (webidl) on that first call: about 1 ms that every process paid on
 * its first transaction (a CLI, a cron job, a worker spawned per task commits once or a few
 * times). `randomFillSync` reads the same CSPRNG without it. Same alphabet, same distribution:
 * nanoid's `customRandom` does the rest.
 */
import { randomFillSync } from 'node:crypto';
import { customRandom, urlAlphabet } from 'nanoid';

/**
 * Random bytes are read POOL_BYTES at a time and handed out in slices, as nanoid's own `nanoid()`
 * does: a `randomFillSync` call costs a few microseconds whatever its size (6 µs for 34 bytes, 9
 * for 2,688 here, more with a cold cache), and every commit draws two ids (its own and its lock
 * entry's). A slice is never handed out twice: the offset only grows, and a new pool is a new
 * array, so a slice a caller kept does not change under it.
 */
const POOL_BYTES = 4096;
let pool = new Uint8Array(0);
let used = 0;
function randomBytes(bytes: number): Uint8Array {
  if (bytes > POOL_BYTES) return randomFillSync(new Uint8Array(bytes));
  if (used + bytes > pool.length) {
    pool = randomFillSync(new Uint8Array(POOL_BYTES));
    used = 0;
  }
  used += bytes;
  return pool.subarray(used - bytes, used);
}

export const newId: (size?: number) => string = customRandom(urlAlphabet, 21, randomBytes);

/**
 * An id of `size` characters whose first is a letter or digit ('-' and '_' become 'x'), as
 * transaction, staging and snapshot ids have always been: one that begins with '-' reads as an
 * option where a person passes it to a command.
 */
export function nameId(size: number): string {
  return newId(size).replace(/^[-_]/, 'x');
}
