// small.mjs's whole sequence (write-file-atomic, one-file commits 'full' and 'none', the 10- and
// 100-file floors and commits), run for two or more builds of txnfs loaded in one process,
// alternating every round (order reversed every other round): the fsync-heavy neighbours of each
// case are the same for every build, which small-ab.mjs (one case alone) does not give, and
// separate runs of small.mjs on this shared disk drift by a third within an hour. Medians of the
// rounds after the first three; ratios as small.mjs reports them, per build.
// Build the other code into its own directory first (npm run build there, or copy dist/), then:
//   node benchmarks/small-ab-mix.mjs <rounds> <dist dir> <dist dir> ...
// e.g. node benchmarks/small-ab-mix.mjs 60 ../txnfs-old/dist ./dist
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
const require = createRequire(import.meta.url);
const wfa = require('write-file-atomic');
const dists = process.argv.slice(3);
if (dists.length === 0) {
  console.error('usage: node benchmarks/small-ab-mix.mjs <rounds> <dist dir> [<dist dir> ...]');
  process.exit(2);
}
const libs = [];
for (const d of dists) libs.push(await import(pathToFileURL(path.resolve(d, 'bundle/index.js')).href));
const base = fs.mkdtempSync(path.join(os.tmpdir(), 'txnfs-sab-'));
const data = Buffer.alloc(4096, 'x');
const R = Number(process.argv[2] ?? 60);
const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };
async function floor(dir, n) {
  await Promise.all(Array.from({ length: n }, async (_, i) => { const h = await fs.promises.open(path.join(dir, `f${i}`), 'w'); await h.writeFile(data); await h.sync(); await h.close(); }));
  const dh = await fs.promises.open(dir, 'r'); await dh.sync(); await dh.close();
}
const T = libs.map(() => ({ wfa: [], full: [], none: [], floor10: [], full10: [], floor100: [], full100: [] }));
const D = libs.map((_, i) => Object.fromEntries(['a','b','c','d','e','f','g'].map((k) => { const d = path.join(base, `${i}${k}`); fs.mkdirSync(d); return [k, d]; })));
for (let r = 0; r < R; r++) {
  const order = libs.map((_, i) => i); if (r % 2) order.reverse();
  for (const i of order) {
    const { begin } = libs[i]; const t = T[i]; const d = D[i];
    let s = performance.now(); await wfa(path.join(d.a, 'f.bin'), data); t.wfa.push(performance.now() - s);
    s = performance.now(); { const tx = begin({ dir: d.b }); tx.write('f.bin', data); await tx.commit(); } t.full.push(performance.now() - s);
    s = performance.now(); { const tx = begin({ dir: d.c, durability: 'none' }); tx.write('f.bin', data); await tx.commit(); } t.none.push(performance.now() - s);
    s = performance.now(); await floor(d.d, 10); t.floor10.push(performance.now() - s);
    s = performance.now(); { const tx = begin({ dir: d.e }); for (let k = 0; k < 10; k++) tx.write(`f${k}`, data); await tx.commit(); } t.full10.push(performance.now() - s);
    s = performance.now(); await floor(d.f, 100); t.floor100.push(performance.now() - s);
    s = performance.now(); { const tx = begin({ dir: d.g }); for (let k = 0; k < 100; k++) tx.write(`f${k}`, data); await tx.commit(); } t.full100.push(performance.now() - s);
  }
}
for (const [i, d] of dists.entries()) {
  const m = Object.fromEntries(Object.entries(T[i]).map(([k, v]) => [k, med(v.slice(3))]));
  console.log(d.padEnd(12), JSON.stringify(Object.fromEntries(Object.entries(m).map(([k, v]) => [k, +v.toFixed(2)]))), 'one/wfa', (m.full / m.wfa).toFixed(2), 'ten/floor', (m.full10 / m.floor10).toFixed(2), 'hundred/floor', (m.full100 / m.floor100).toFixed(2));
}
fs.rmSync(base, { recursive: true, force: true });
