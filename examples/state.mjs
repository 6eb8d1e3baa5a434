#!/usr/bin/env node
// A worker that records its progress in one JSON state file shared with other workers.
//
// Each finished job is added to the state file with update(): a read-modify-write of the whole
// file under a lock, so workers running at once never lose each other's entries, and a worker
// killed mid-write leaves the file whole (the old content or the new, never half). At start, the
// worker runs recover() on the file's directory, which removes the temp file and the lock a killed
// worker left behind; a job the file already lists is not recorded twice.
//
//   node examples/state.mjs <state-file> <worker-name> <jobs>
import * as path from 'node:path';
import { recover, update } from 'txnfs';

const [file, worker, jobsArg] = process.argv.slice(2);
if (file === undefined || worker === undefined || jobsArg === undefined) {
  console.error('usage: node examples/state.mjs <state-file> <worker-name> <jobs>');
  process.exit(2);
}

// #region state
/** @typedef {{ done: string[] }} State */

/** @param {Buffer | undefined} data @returns {State} */
const parse = (data) => (data === undefined ? { done: [] } : JSON.parse(data.toString()));

// At start: clean what a killed worker left in <dir>/.txnfs/ (never a live worker's).
const { orphans } = await recover(path.dirname(file));
if (orphans.length > 0) console.log(`${worker}: removed ${orphans.length} file(s) a killed worker left`);

let done = 0;
for (let job = 1; job <= Number(jobsArg); job++) {
  const name = `${worker}-${job}`;
  // ... the job's real work goes here ...
  const { changed } = await update(file, (old) => {
    const state = parse(old);
    if (state.done.includes(name)) return undefined; // done by an earlier run: leave the file as it is
    state.done.push(name);
    return `${JSON.stringify(state)}\n`;
  }, { mkdirs: true });
  if (changed) done++;
}
console.log(`${worker}: recorded ${done} jobs`);
// #endregion state
