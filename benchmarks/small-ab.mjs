// Two or more builds of txnfs loaded in one process, alternating every round (order rotated), on
// the same disk at the same moments: the steadiest comparison this shared machine allows, where
// separate runs of small.mjs move by a quarter between them. Medians; ratios against the first.
// Build the other code into its own checkout first (npm run build there), then:
//   node benchmarks/small-ab.mjs <rounds> <files> <dist dir> <dist dir> ...   (DUR=full|none)
// e.g. node benchmarks/small-ab.mjs 300 1 ../txnfs-old/dist ./dist
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
const [rounds = '200', files = '1', ...dists] = process.argv.slice(2);
if (dists.length === 0) {
  console.error('usage: node benchmarks/small-ab.mjs <rounds> <files> <dist dir> [<dist dir> ...]');
  process.exit(2);
}
const R = Number(rounds);
const N = Number(files);
const durability = process.env.DUR ?? 'full';
const libs = [];
for (const d of dists) libs.push(await import(pathToFileURL(path.resolve(d, 'index.js')).href));
const base = fs.mkdtempSync(path.join(os.tmpdir(), 'txnfs-ab-'));
const data = Buffer.alloc(4096, 'x');
const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
const times = libs.map(() => []);
const dirs = libs.map((_, i) => {
  const d = path.join(base, `l${i}`);
  fs.mkdirSync(d);
  return d;
});
for (let r = 0; r < R; r++) {
  const order = libs.map((_, i) => i);
  if (r % 2) order.reverse();
  if (r % 3 === 2) order.push(order.shift());
  for (const i of order) {
    const s = performance.now();
    const tx = libs[i].begin({ dir: dirs[i], durability });
    for (let k = 0; k < N; k++) tx.write(`f${k}`, data);
    await tx.commit();
    // The first rounds warm each build (its home, its first backup's ino-trust probe): not counted.
    if (r >= 10) times[i].push(performance.now() - s);
  }
}
const m = times.map(med);
console.log(JSON.stringify({ durability, files: N, rounds: R, medians_ms: Object.fromEntries(dists.map((d, i) => [d, +m[i].toFixed(3)])), vs_first: dists.map((_, i) => +(m[i] / m[0]).toFixed(3)) }));
fs.rmSync(base, { recursive: true, force: true });
