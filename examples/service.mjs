#!/usr/bin/env node
// A long-running service that recovers at boot and shuts down cleanly.
//
// It keeps its state in two files that must always agree: events.csv (one line per event it has
// handled) and counters.json (how many). Every tick it handles a batch of new events and rewrites
// both, in one transaction. A SIGKILL, an OOM kill or a power cut can land in the middle of that
// rewrite; recover() at boot makes the pair agree again before the service reads it.
//
//   node examples/service.mjs <state-dir> [interval-ms] [ticks]
//
// Stop it with SIGTERM or Ctrl-C: the transaction in flight is aborted (nothing changes) unless
// it has already passed its commit point (then it completes), and the process exits 0.
import { mkdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { codes, isTxnError, recover, transaction } from 'txnfs';

const [dir, intervalArg = '1000', ticksArg = 'Infinity'] = process.argv.slice(2);
if (dir === undefined) {
  console.error('usage: node examples/service.mjs <state-dir> [interval-ms] [ticks]');
  process.exit(2);
}
const interval = Number(intervalArg);
const ticks = Number(ticksArg);
mkdirSync(dir, { recursive: true });

// #region boot
// Boot: finish or undo whatever the previous process left half-done, before reading any state.
// Safe while other processes use the directory: a transaction whose owner is alive is skipped.
const report = await recover(dir);
console.log(
  `boot: recovered ${dir} (rolled forward ${report.rolledForward.length}, rolled back ${report.rolledBack.length}, ` +
    `discarded ${report.discarded.length}) in ${report.durationMs.toFixed(1)} ms`,
);
if (report.corrupt.length > 0 || report.failed.length > 0) {
  // A journal that fails its checksum, or a transaction that could not be applied nor undone:
  // only a person can judge those. Refuse to start rather than build on them; `txnfs status`
  // shows the details.
  for (const t of [...report.corrupt, ...report.failed]) console.error(`boot: ${t.path}: ${t.reason}`);
  process.exit(1);
}
// #endregion boot

// #region shutdown
// Shutdown: one AbortSignal for every transaction. Aborting it before a transaction's commit
// point discards that transaction (EABORTED); after the commit point the commit completes.
const stop = new AbortController();
for (const signal of ['SIGTERM', 'SIGINT']) process.once(signal, () => stop.abort());
// #endregion shutdown

let tick = 0;
while (!stop.signal.aborted && tick < ticks) {
  tick++;
  try {
    // #region tick
    const state = await transaction({ dir, signal: stop.signal }, async (tx) => {
      const counters = await tx.read('counters.json');
      const events = await tx.read('events.csv');
      const { events: before, ticks: done } = counters.data === undefined ? { events: 0, ticks: 0 } : JSON.parse(counters.data.toString());
      const batch = Array.from({ length: 1 + (done % 3) }, (_, i) => `${done + 1},${before + i + 1}\n`);
      const next = { events: before + batch.length, ticks: done + 1 };
      tx.write('events.csv', (events.data?.toString() ?? 'tick,event\n') + batch.join(''));
      tx.writeJson('counters.json', next);
      return next;
    }); // both files, or neither
    // #endregion tick
    console.log(`tick ${state.ticks}: ${state.events} events`);
  } catch (err) {
    if (isTxnError(err) && err.code === codes.EABORTED) break; // stopping: nothing was changed
    throw err;
  }
  await sleep(interval, undefined, { signal: stop.signal }).catch(() => undefined);
}
console.log(`stopped (${tick} ticks in this run)`);
