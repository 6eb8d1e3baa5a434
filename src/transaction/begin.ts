/**
 * begin.ts: the two ways into a local transaction, `begin()` and `transaction()`. They check the
 * options (options/options.ts, the one validator) and build the Transaction (transaction.ts), so the
 * facade holds the class alone.
 */
import { badArgument } from '../errors.js';
import { checkOptionsObject, commonKeys, resolveCommon, resolveDir, resolveWarnUnsafeFs } from '../options/options.js';
import { resolveLayout } from '../generations/setup.js';
import { runScoped } from './scope.js';
import { Transaction } from './transaction.js';
import type { BeginOptions } from './types.js';

const beginKeys = ['dir', 'layout', 'keepGenerations', 'warnUnsafeFs', ...commonKeys] as const;

/**
 * Start a transaction in `options.dir` (default: the current directory). Synchronous: no I/O
 * happens until the first write.
 *
 * @example
 * ```ts
 * const tx = begin({ dir: 'out' });
 * for (const part of parts) tx.write(`${part.name}.json`, JSON.stringify(part));
 * await tx.commit();
 * ```
 */
export function begin(options?: BeginOptions): Transaction {
  const o = checkOptionsObject(options, 'options', beginKeys);
  const dir = resolveDir(o.dir, 'dir');
  return new Transaction(dir, resolveCommon(o), resolveLayout(o.layout, o.keepGenerations), resolveWarnUnsafeFs(o));
}

/**
 * Run `fn` with a new transaction; commit when it returns, abort when it throws. Resolves with
 * what `fn` returned. If `fn` committed or aborted the transaction itself, that stands.
 *
 * @example
 * ```ts
 * await transaction({ dir: 'out' }, async (tx) => {
 *   tx.write('a.json', a);
 *   tx.write('b.json', b);
 * });
 * ```
 */
export async function transaction<T>(options: BeginOptions | undefined, fn: (tx: Transaction) => T | Promise<T>): Promise<T>;
export async function transaction<T>(fn: (tx: Transaction) => T | Promise<T>): Promise<T>;
export async function transaction<T>(
  a: BeginOptions | undefined | ((tx: Transaction) => T | Promise<T>),
  b?: (tx: Transaction) => T | Promise<T>,
): Promise<T> {
  const fn = typeof a === 'function' ? a : b;
  if (typeof fn !== 'function') throw badArgument('fn', 'a function', fn);
  return runScoped(begin(typeof a === 'function' ? undefined : a), fn);
}
