#!/usr/bin/env node
// npm run demo: a batch export of 40 files is killed (SIGKILL) in the middle of writing its new
// version, once with plain fs and twice with txnfs, and the directories are compared.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(import.meta.url);
const N = 40;
const KILL_AT = 23;
/** @param {number} i */
const name = (i) => `part-${String(i).padStart(2, '0')}.json`;
/** @param {number} version @param {number} i */
const payload = (version, i) => JSON.stringify({ version, part: i, rows: Array.from({ length: 200 }, (_, r) => ({ r, v: `${version}-${i}-${r}` })) });

// ---- child roles ---------------------------------------------------------------------------
const [role, dir, extra] = process.argv.slice(2);
if (role === 'plain-export') {
  // What most jobs do: write each file in place, one after another.
  for (let i = 0; i < N; i++) {
    const data = payload(2, i);
    if (i === KILL_AT - 1) {
      fs.writeFileSync(path.join(dir, name(i)), data.slice(0, data.length / 2)); // the OOM kill lands mid-write
      process.kill(process.pid, 'SIGKILL');
    }
    fs.writeFileSync(path.join(dir, name(i)), data);
  }
  process.exit(0);
}
if (role === 'txnfs-export') {
  const { begin } = await import('../dist/index.js');
  const { faults } = await import('../dist/io/faults.js');
  // Demo only: the library's test hook lets us kill the process at an exact moment.
  let renames = 0;
  faults.hook = (e) => {
    if (e.kind === 'step' && e.name === extra) process.kill(process.pid, 'SIGKILL');
    // 'rename:<n>': just before the n-th file is renamed into place. A commit renames up to 16
    // files at once; waiting for those under way to finish makes every run stop at the same file.
    if (e.kind === 'op' && e.op === 'rename' && e.dest !== undefined && !e.dest.includes('/.txnfs/') && extra === `rename:${++renames}`) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
      process.kill(process.pid, 'SIGKILL');
    }
  };
  const tx = begin({ dir });
  for (let i = 0; i < N; i++) tx.write(name(i), payload(2, i));
  await tx.commit();
  process.exit(0);
}

/** @typedef {{ v1: number, v2: number, torn: number }} Tally */

// ---- the demo ------------------------------------------------------------------------------
const tty = process.stdout.isTTY;
/** @param {string} code @param {string} s */
const c = (code, s) => (tty ? `\x1b[${code}m${s}\x1b[0m` : s);
const { recover } = await import('../dist/index.js');

/** @param {string} d */
function seed(d) {
  fs.mkdirSync(d, { recursive: true });
  for (let i = 0; i < N; i++) fs.writeFileSync(path.join(d, name(i)), payload(1, i));
}

/** @param {string} d @returns {Tally} */
function tally(d) {
  /** @type {Tally} */
  const t = { v1: 0, v2: 0, torn: 0 };
  for (let i = 0; i < N; i++) {
    try {
      t[/** @type {'v1' | 'v2'} */ (`v${JSON.parse(fs.readFileSync(path.join(d, name(i)), 'utf8')).version}`)]++;
    } catch {
      t.torn++;
    }
  }
  return t;
}

/** @param {Tally} t */
function verdict(t) {
  if (t.torn > 0 || (t.v1 > 0 && t.v2 > 0)) return c('31;1', 'TORN: a mix of versions');
  return c('32;1', t.v2 === N ? 'all new (v2)' : 'all old (v1)');
}

/** @param {string} label @param {Tally} t */
const show = (label, t) => console.log(`  ${label.padEnd(34)} v1: ${String(t.v1).padStart(2)}  v2: ${String(t.v2).padStart(2)}  unreadable: ${t.torn}   ${verdict(t)}`);
/** @param {string[]} args */
const kill = (args) => spawnSync(process.execPath, [here, ...args], { stdio: 'inherit' }).signal;

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'txnfs-demo-'));
console.log(`An export job rewrites ${N} files (v1 → v2) and is killed with SIGKILL at file ${KILL_AT}.\n`);

const plain = path.join(base, 'plain');
seed(plain);
console.log(c('1', 'Plain fs.writeFile, file by file:'));
console.log(`  killed by ${kill(['plain-export', plain])}`);
show('after the crash', tally(plain));
console.log('  There is nothing to recover from: the next run trusts these files.\n');

const forward = path.join(base, 'txnfs-after-commit-point');
seed(forward);
console.log(c('1', `txnfs, killed mid-commit (after its commit point), with ${KILL_AT - 1} of ${N} renames done:`));
console.log(`  killed by ${kill(['txnfs-export', forward, `rename:${KILL_AT}`])}`);
show('after the crash', tally(forward));
let report = await recover(forward);
console.log(`  recover() → rolled forward ${report.rolledForward.length} transaction: its journal was on disk, so it did the ${report.rolledForward[0]?.changed} renames left`);
const healed = tally(forward);
show('after recover()', healed);
console.log();

const back = path.join(base, 'txnfs-before-commit-point');
seed(back);
console.log(c('1', 'txnfs, killed while staging (before its commit point):'));
console.log(`  killed by ${kill(['txnfs-export', back, 'staged'])}`);
show('after the crash', tally(back));
report = await recover(back);
console.log(`  recover() → discarded ${report.discarded.length} unfinished transaction: no journal yet, so no file had been touched`);
show('after recover()', tally(back));

const torn = tally(plain);
console.log(`\n${c('1', 'Side by side, what the next run of the job reads after the kill mid-commit:')}`);
console.log(`  plain fs   ${String(torn.v1).padStart(2)} old, ${String(torn.v2).padStart(2)} new, ${torn.torn} cut short   ${verdict(torn)}, with no record of what to repair`);
console.log(`  txnfs      ${String(healed.v1).padStart(2)} old, ${String(healed.v2).padStart(2)} new, ${healed.torn} cut short   ${verdict(healed)}, after recover() at boot`);

const clean = [forward, back].every((d) => { try { return fs.readdirSync(path.join(d, '.txnfs')).length === 0; } catch { return true; } });
console.log(`\nLeft in .txnfs/ after recovery: ${clean ? 'nothing' : 'something (unexpected!)'}.`);
if (process.argv.includes('--keep')) console.log(`Directories kept in ${base}`);
else fs.rmSync(base, { recursive: true, force: true });
if (!clean) process.exit(1);
