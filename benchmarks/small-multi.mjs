// Issue 14: 4 processes × 40 one-file commits on one root vs the same with write-file-atomic: aggregate rate
// and the worst single wait.
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
  if (kind === 'txnfs') {
    const { begin } = await import(new URL('../dist/index.js', import.meta.url).href);
    for (let i = 0; i < Number(n); i++) { const s = performance.now(); const tx = begin({ dir, lockTimeout: 60000 }); tx.write(`${name}.bin`, data); await tx.commit(); worst = Math.max(worst, performance.now() - s); }
  } else {
    const { createRequire } = await import('node:module');
    const wfa = createRequire(import.meta.url)('write-file-atomic');
    for (let i = 0; i < Number(n); i++) { const s = performance.now(); await wfa(path.join(dir, `${name}.bin`), data); worst = Math.max(worst, performance.now() - s); }
  }
  console.log(JSON.stringify({ worst }));
} else {
  const n = 40;
  const out = {};
  for (const kind of ['wfa', 'txnfs', 'wfa', 'txnfs']) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `txnfs-multi-${kind}-`));
    const s = performance.now();
    const res = await Promise.all([0, 1, 2, 3].map((i) => new Promise((resolve) => {
      const c = spawn(process.execPath, [process.argv[1], 'child', '', kind, dir, `p${i}`, String(n)]);
      let o = ''; c.stdout.on('data', (d) => (o += d)); c.on('close', () => resolve(JSON.parse(o).worst));
    })));
    const el = (performance.now() - s) / 1000;
    (out[kind] ??= []).push({ rate: +(4 * n / el).toFixed(1), worstMs: +Math.max(...res).toFixed(1) });
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(JSON.stringify(out));
}
