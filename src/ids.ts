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

export const newId: (size?: number) => string = customRandom(urlAlphabet, 21, (bytes) => randomFillSync(new Uint8Array(bytes)));

/**
 * An id of `size` characters whose first is a letter or digit ('-' and '_' become 'x'), as
 * transaction, staging and snapshot ids have always been: one that begins with '-' reads as an
 * option where a person passes it to a command.
 */
export function nameId(size: number): string {
  return newId(size).replace(/^[-_]/, 'x');
}
