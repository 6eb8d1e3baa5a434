// Issue 14: 4 processes × 40 one-file commits on one root vs the same with write-file-atomic: aggregate rate
// and the worst single wait. Two rates: from the spawn of the processes (their start and the
// import of the library included: about 45-55 ms for txnfs, 12-20 ms for write-file-atomic on this
// machine), and steady (every process has imported its library and starts on one signal: what a
// service meets).
// txnfs-root: the txnfs commits through an openRoot() handle per process (opened before the signal).
// cpuMs: the CPU time (user + system, all threads) of the four processes together, and readyCpuMs
// the part of it spent before the signal (node's start and the import): on a machine with fewer
// cores than processes the rate follows it (docs/performance.md, "Twelfth round").
// node benchmarks/small-multi.mjs
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
const mode = process.argv[2];
if (mode === 'child') {
  const [, , , , kind, dir, name, n] = process.argv;
  const data = Buffer.alloc(4096, 'x');
  let worst = 0;
  let run;
  if (kind === 'txnfs') {
    const { begin } = await import(new URL('../dist/bundle/index.js', import.meta.url).href);
    run = async () => { const tx = begin({ dir, lockTimeout: 60000 }); tx.write(`${name}.bin`, data); await tx.commit(); };
  } else if (kind === 'txnfs-root') {
    // The same commits through an openRoot() handle (opened before 'ready': a service's boot).
    const { openRoot } = await import(new URL('../dist/bundle/index.js', import.meta.url).href);
    const root = await openRoot(dir, { lockTimeout: 60000 });
    run = async () => { const tx = root.begin(); tx.write(`${name}.bin`, data); await tx.commit(); };
  } else {
    const { createRequire } = await import('node:module');
    const wfa = createRequire(import.meta.url)('write-file-atomic');
    run = () => wfa(path.join(dir, `${name}.bin`), data);
  }
  const ready = process.cpuUsage();
  process.stdout.write('ready\n');
  await new Promise((resolve) => process.stdin.once('data', resolve));
  for (let i = 0; i < Number(n); i++) { const s = performance.now(); await run(); worst = Math.max(worst, performance.now() - s); }
  process.stdin.destroy();
  const cpu = process.cpuUsage();
  console.log(JSON.stringify({ worst, cpuMs: (cpu.user + cpu.system) / 1000, readyCpuMs: (ready.user + ready.system) / 1000 }));
} else {
  const n = 40;
  const out = {};
  for (const kind of ['wfa', 'txnfs', 'txnfs-root', 'wfa', 'txnfs', 'txnfs-root']) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `txnfs-multi-${kind}-`));
    const spawned = performance.now();
    const children = [0, 1, 2, 3].map((i) => {
      const c = spawn(process.execPath, [process.argv[1], 'child', '', kind, dir, `p${i}`, String(n)]);
      let o = '';
      const ready = new Promise((resolve) => c.stdout.on('data', (d) => { o += d; if (o.includes('ready\n')) resolve(); }));
      const done = new Promise((resolve) => c.on('close', () => resolve(JSON.parse(o.slice(o.indexOf('ready\n') + 6)))));
      return { c, ready, done };
    });
    await Promise.all(children.map((x) => x.ready));
    const go = performance.now();
    for (const x of children) x.c.stdin.write('go\n');
    const res = await Promise.all(children.map((x) => x.done));
    const end = performance.now();
    (out[kind] ??= []).push({ rate: +((4 * n) / ((end - spawned) / 1000)).toFixed(1), steady: +((4 * n) / ((end - go) / 1000)).toFixed(1), worstMs: +Math.max(...res.map((x) => x.worst)).toFixed(1), cpuMs: Math.round(res.reduce((a, x) => a + x.cpuMs, 0)), readyCpuMs: Math.round(res.reduce((a, x) => a + x.readyCpuMs, 0)) });
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(JSON.stringify(out));
}
