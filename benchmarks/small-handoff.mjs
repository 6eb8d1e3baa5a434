// Issue 14: the root lock's hand-off between 4 processes committing one-file transactions to one
// root: the steady rate, the gap between one holder's release and the next holder's first call
// under the lock (median, 90th percentile), how long each holds it, and the attempts per commit.
// Timed through the fault hook (dist/io/faults.js), which the library reports every call to.
// node benchmarks/small-handoff.mjs   (TXNFS_DIST=<other build>/dist to compare two builds)
import { spawn } from 'node:child_process'; import * as fs from 'node:fs'; import * as os from 'node:os'; import * as path from 'node:path'; import { performance } from 'node:perf_hooks';
const lib = process.env.TXNFS_DIST ?? new URL('../dist', import.meta.url).pathname;
if (process.argv[2] === 'child') {
  const [, , , dir, name, n] = process.argv;
  const { begin } = await import(lib + '/index.js'); const { faults } = await import(lib + '/io/faults.js');
  const data = Buffer.alloc(4096, 'x'); const ev = [];
  const now = () => performance.timeOrigin + performance.now();
  // The root lock's entries: <home>/lock.o.<owner> (flat since the fifth round, empty files since the sixth), <home>/lock/o.<owner> (directories) before. Taken: step 'locked' (the gate's end; with nothing dead it makes no call).
  faults.hook = (e) => { if (e.kind === 'step') { if (e.name === 'staged') ev.push(['staged', now()]); if (e.name === 'locked') ev.push(['acq', now()]); return; } if ((e.op === 'mkdir' || e.op === 'create') && /\/lock[./]o\./.test(e.path)) ev.push(['try', now()]); if ((e.op === 'rmdir' || e.op === 'unlink') && /\/lock[./]o\./.test(e.path)) ev.push(['rel', now()]); };
  for (let i = 0; i < +n; i++) { const tx = begin({ dir, lockTimeout: 60000 }); tx.write(`${name}.bin`, data); await tx.commit(); }
  console.log(JSON.stringify(ev));
} else {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gg-'));
  const outs = await Promise.all([0, 1, 2, 3].map((i) => new Promise((res) => { const c = spawn(process.execPath, [process.argv[1], 'child', dir, 'p' + i, '40'], { env: process.env }); let o = ''; c.stdout.on('data', (d) => (o += d)); c.on('close', () => res(JSON.parse(o))); })));
  const all = outs.flatMap((ev, p) => ev.map(([k, t]) => ({ k, t, p }))).sort((a, b) => a.t - b.t);
  const acqs = all.filter((e) => e.k === 'acq'); const rels = all.filter((e) => e.k === 'rel');
  const gaps = [], holds = [];
  for (const a of acqs) { const r = rels.filter((x) => x.t < a.t).at(-1); if (r) gaps.push(a.t - r.t); const myRel = rels.find((x) => x.p === a.p && x.t > a.t); if (myRel) holds.push(myRel.t - a.t); }
  const med = (a) => { a = [...a].sort((x, y) => x - y); return +a[a.length >> 1].toFixed(2); };
  const span = acqs.at(-1).t - acqs[0].t;
  console.log('rate', (acqs.length / span * 1000).toFixed(1), 'gap med', med(gaps), 'p90', +[...gaps].sort((x,y)=>x-y)[Math.floor(gaps.length*0.9)].toFixed(2), 'hold med', med(holds), 'tries per commit', (all.filter((e) => e.k === 'try').length / acqs.length).toFixed(2));
  fs.rmSync(dir, { recursive: true, force: true });
}
