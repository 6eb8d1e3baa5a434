/**
 * scope.ts: `transaction(fn)`'s shape, for a local root (transaction.ts) and an object store
 * (s3/transaction.ts): run `fn` with a new transaction, commit it when `fn` returns, abort it when
 * `fn` throws. `fn` may have ended the transaction itself (commit or abort): then nothing more.
 */

/** What a transaction offers a scope: its state and its two ends. */
export interface Scoped {
  readonly state: string;
  commit(): Promise<unknown>;
  abort(): Promise<unknown>;
}

/** Run `fn` with `tx`; commit when it returns, abort when it throws (the throw is what the caller sees). */
export async function runScoped<Tx extends Scoped, T>(tx: Tx, fn: (tx: Tx) => T | Promise<T>): Promise<T> {
  let value: T;
  try {
    value = await fn(tx);
  } catch (err) {
    // The failure of fn is what matters; an abort failing on top of it must not replace it.
    if (tx.state === 'open') await tx.abort().catch(() => undefined);
    throw err;
  }
  if (tx.state === 'open') await tx.commit();
  return value;
}
