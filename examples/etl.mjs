#!/usr/bin/env node
// An ETL step, made crash-safe with txnfs.
//
// Reads orders (one JSON object per line) and writes, for each day, three files into <out>/<day>/:
// orders.json, orders.csv and manifest.json (row count, bytes and SHA-256 of the other two). Like
// most batch jobs it skips the days that are done already, so a re-run after a failure only does
// what is missing.
//
// With plain fs that skip is a trap: a run killed halfway through a day leaves some of its files
// (one of them cut short), and the next run trusts them. Here each day's three files are one
// transaction, and recover() runs first: after it, a day's directory is either complete or absent.
//
//   node examples/etl.mjs examples/data/orders.ndjson out
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { recover, transaction } from 'txnfs';

const [input, out] = process.argv.slice(2);
if (input === undefined || out === undefined) {
  console.error('usage: node examples/etl.mjs <orders.ndjson> <out-dir>');
  process.exit(2);
}

/** @typedef {{ id: number, day: string, customer: string, sku: string, qty: number, price: number }} Order */

/** @param {string} file @returns {Map<string, Order[]>} the orders of each day, in file order */
function ordersByDay(file) {
  /** @type {Map<string, Order[]>} */
  const days = new Map();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    /** @type {Order} */
    const order = JSON.parse(line);
    days.set(order.day, [...(days.get(order.day) ?? []), order]);
  }
  return days;
}

/** @param {unknown} value a CSV field, quoted when it must be */
const field = (value) => (/[",\n]/.test(String(value)) ? `"${String(value).replaceAll('"', '""')}"` : String(value));

/** @param {Order[]} orders */
function toCsv(orders) {
  const columns = /** @type {const} */ (['id', 'customer', 'sku', 'qty', 'price']);
  return [columns.join(','), ...orders.map((o) => columns.map((c) => field(o[c])).join(','))].join('\n') + '\n';
}

/** @param {string} text */
const sha256 = (text) => createHash('sha256').update(text).digest('hex');

// The root must exist: txnfs creates nothing outside it (the day directories are created inside
// it, by the transactions themselves).
mkdirSync(out, { recursive: true });

// #region recover
// Before trusting any file in `out`: finish the day a killed run was committing (if it had passed
// its commit point), or discard it (if it had not). Cheap when there is nothing to do.
const report = await recover(out);
if (report.rolledForward.length + report.discarded.length > 0) {
  console.log(`recovered: ${report.rolledForward.length} finished, ${report.discarded.length} discarded`);
}
if (report.corrupt.length + report.failed.length > 0) {
  throw new Error(`txnfs could not recover ${out}: ${JSON.stringify([...report.corrupt, ...report.failed])}`);
}
// #endregion recover

for (const [day, orders] of ordersByDay(input)) {
  // #region skip
  // Safe: manifest.json exists only if the whole day landed (the three files are one transaction).
  if (existsSync(join(out, day, 'manifest.json'))) {
    console.log(`${day}: done already, skipped`);
    continue;
  }
  // #endregion skip
  // #region export
  const files = {
    'orders.json': `${JSON.stringify(orders, null, 2)}\n`,
    'orders.csv': toCsv(orders),
  };
  const manifest = {
    day,
    rows: orders.length,
    files: Object.fromEntries(Object.entries(files).map(([name, text]) => [name, { bytes: Buffer.byteLength(text), sha256: sha256(text) }])),
  };
  await transaction({ dir: out }, (tx) => {
    for (const [name, text] of Object.entries(files)) tx.write(`${day}/${name}`, text);
    tx.writeJson(`${day}/manifest.json`, manifest, { spaces: 2 });
  }); // all three files of the day, or none of them
  // #endregion export
  console.log(`${day}: exported ${orders.length} orders`);
}
