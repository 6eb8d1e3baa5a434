// Small transactions (issue 14): one 4 KiB file committed with durability 'full' and 'none', ten
// and a hundred files, against write-file-atomic and the durable floor (N parallel
// open/write/fsync/close and a directory fsync), alternating every round in one run; medians.
// rootFull and rootNone: the one file through an openRoot() handle (its home kept between commits).
// wfaNone: write-file-atomic with { fsync: false }, the peer of a commit with durability 'none'.
// node benchmarks/small.mjs [rounds]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const wfa = require('write-file-atomic');
const { begin, openRoot } = await import(new URL('../dist/bundle/index.js', import.meta.url).href);
const base = fs.mkdtempSync(path.join(os.tmpdir(), 'txnfs-small-'));
const data = Buffer.alloc(4096, 'x');
const rounds = Number(process.argv[2] ?? 60);
const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };
const t = { wfa: [], full: [], none: [], wfaNone: [], rootFull: [], rootNone: [], floor10: [], full10: [], floor100: [], full100: [] };
const d8 = path.join(base, 'h'), d9 = path.join(base, 'i'), d10 = path.join(base, 'j');
const d1 = path.join(base, 'a'), d2 = path.join(base, 'b'), d3 = path.join(base, 'c'), d4 = path.join(base, 'd'), d5 = path.join(base, 'e'), d6 = path.join(base, 'f'), d7 = path.join(base, 'g');
for (const d of [d1, d2, d3, d4, d5, d6, d7, d8, d9, d10]) fs.mkdirSync(d);
const rootF = await openRoot(d8);
const rootN = await openRoot(d9, { durability: 'none' });
async function floor(dir, n) {
  await Promise.all(Array.from({ length: n }, async (_, i) => {
    const h = await fs.promises.open(path.join(dir, `f${i}`), 'w');
    await h.writeFile(data); await h.sync(); await h.close();
  }));
  const dh = await fs.promises.open(dir, 'r'); await dh.sync(); await dh.close();
}
for (let r = 0; r < rounds; r++) {
  let s = performance.now(); await wfa(path.join(d1, 'f.bin'), data); t.wfa.push(performance.now() - s);
  s = performance.now(); { const tx = begin({ dir: d2 }); tx.write('f.bin', data); await tx.commit(); } t.full.push(performance.now() - s);
  s = performance.now(); { const tx = begin({ dir: d3, durability: 'none' }); tx.write('f.bin', data); await tx.commit(); } t.none.push(performance.now() - s);
  s = performance.now(); await wfa(path.join(d10, 'f.bin'), data, { fsync: false }); t.wfaNone.push(performance.now() - s);
  s = performance.now(); { const tx = rootF.begin(); tx.write('f.bin', data); await tx.commit(); } t.rootFull.push(performance.now() - s);
  s = performance.now(); { const tx = rootN.begin(); tx.write('f.bin', data); await tx.commit(); } t.rootNone.push(performance.now() - s);
  s = performance.now(); await floor(d4, 10); t.floor10.push(performance.now() - s);
  s = performance.now(); { const tx = begin({ dir: d5 }); for (let i = 0; i < 10; i++) tx.write(`f${i}`, data); await tx.commit(); } t.full10.push(performance.now() - s);
  s = performance.now(); await floor(d6, 100); t.floor100.push(performance.now() - s);
  s = performance.now(); { const tx = begin({ dir: d7 }); for (let i = 0; i < 100; i++) tx.write(`f${i}`, data); await tx.commit(); } t.full100.push(performance.now() - s);
}
const m = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, med(v)]));
console.log(JSON.stringify({ rounds, medians_ms: Object.fromEntries(Object.entries(m).map(([k, v]) => [k, +v.toFixed(3)])), one_file_vs_wfa: +(m.full / m.wfa).toFixed(2), none_vs_wfa_none: +(m.none / m.wfaNone).toFixed(2), root_one_file_vs_wfa: +(m.rootFull / m.wfa).toFixed(2), ten_vs_floor: +(m.full10 / m.floor10).toFixed(2), hundred_vs_floor: +(m.full100 / m.floor100).toFixed(2) }));
await rootF.close(); await rootN.close();
fs.rmSync(base, { recursive: true, force: true });
