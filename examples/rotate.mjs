#!/usr/bin/env node
// Rotate a report with tx.rename and tx.copy, in one all-or-nothing commit.
//
// Each run writes report <n> as <out>/report.csv. The report it replaces is moved into the archive
// as archive/report-<n-1>.csv (tx.rename) and also kept as archive/latest.csv (tx.copy: a
// copy-on-write clone where the filesystem makes one). Killed at any moment, <out> holds the
// previous rotation or this one, never a report in two places or in none (the next run's
// recover() finishes or undoes the one that was cut short).
//
//   node examples/rotate.mjs <out> <n>
import * as fs from 'node:fs';
import * as path from 'node:path';
import { begin, recover } from 'txnfs';

const [out, nArg] = process.argv.slice(2);
if (out === undefined || nArg === undefined) {
  console.error('usage: node examples/rotate.mjs <out> <n>');
  process.exit(2);
}

// #region rotate
await recover(out);
const n = Number(nArg);
const tx = begin({ dir: out });
if (fs.existsSync(path.join(out, 'report.csv'))) {
  await tx.copy('report.csv', 'archive/latest.csv'); // a clone of the report as it is now
  await tx.rename('report.csv', `archive/report-${n - 1}.csv`); // and the report itself moves
}
tx.write('report.csv', `report,${n}\nrows,${n * 10}\n`);
const { written, removed } = await tx.commit();
// #endregion rotate
console.log(`report ${n}: ${written} written, ${removed} removed`);
