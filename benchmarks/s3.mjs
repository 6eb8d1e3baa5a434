// Issue 16: txnfs/s3 on a real Ceph RGW (scripts/rgw.sh, started and stopped here): commits per
// second with 1, 4 and 8 writer processes (each its own client, one-file transactions to keys of
// its own, so they race only for the log), requests per commit (counted by the S3 seam), and the
// latency and request count of openSnapshot() on the log those runs left. Medians over the
// writers' commits; the machine is shared and noisy, so compare figures of one run only.
//
//   npm run bench:s3 [-- <commits per writer, default 20>]
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';

const lib = new URL('../dist/s3/index.js', import.meta.url).href;
const client = (e) => new S3Client({ endpoint: e.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: e.access, secretAccessKey: e.secret } });
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length === 0 ? NaN : s[Math.floor((s.length - 1) / 2)]; };
const sum = (counts) => Object.values(counts).reduce((a, b) => a + b, 0);

if (process.argv[2] === 'child') {
  const e = JSON.parse(process.argv[3]);
  const [name, n] = [process.argv[4], Number(process.argv[5])];
  const { begin, s3Store } = await import(lib);
  const c = client(e);
  const store = s3Store({ client: c, bucket: e.bucket, prefix: e.prefix });
  const data = Buffer.alloc(4096, 'x');
  const ms = [];
  let retries = 0;
  let maxRebases = 0;
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    // maxRetries well above the default (20): with 4 or more writers a commit can lose the log
    // race more than 20 times in a row here; the table reports the rebases and the slowest commit.
    const tx = begin({ store, maxRetries: 1000 });
    tx.write(`${name}/${i}.bin`, data);
    const r = await tx.commit();
    retries += r.rebases;
    maxRebases = Math.max(maxRebases, r.rebases);
    ms.push(performance.now() - s);
  }
  c.destroy();
  console.log(JSON.stringify({ ms, requests: store.seam.requests, retries, maxRebases }));
} else {
  const n = Number(process.argv[2] ?? 20);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'txnfs-bench-rgw-'));
  const script = new URL('../scripts/rgw.sh', import.meta.url).pathname;
  const stop = () => { try { execFileSync(script, ['stop', dir], { stdio: 'ignore' }); } catch {} fs.rmSync(dir, { recursive: true, force: true }); };
  process.on('exit', stop);
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));
  const started = performance.now();
  const out = execFileSync(script, ['start', dir], { encoding: 'utf8', timeout: 120_000 });
  const m = /endpoint=(\S+) access=(\S+) secret=(\S+)/.exec(out);
  if (m === null) throw new Error(`rgw.sh printed no endpoint: ${out}`);
  const base = { endpoint: m[1], access: m[2], secret: m[3], bucket: 'bench' };
  const c = client(base);
  await c.send(new CreateBucketCommand({ Bucket: base.bucket }));
  console.log(`RGW up in ${((performance.now() - started) / 1000).toFixed(1)} s; ${n} one-file commits (4 KiB) per writer`);
  const { openSnapshot, s3Store } = await import(lib);
  const rows = [];
  for (const writers of [1, 4, 8]) {
    const e = { ...base, prefix: `w${writers}` };
    const t0 = performance.now();
    const res = await Promise.all(Array.from({ length: writers }, (_, i) => new Promise((resolve, reject) => {
      const ch = spawn(process.execPath, [process.argv[1], 'child', JSON.stringify(e), `p${i}`, String(n)], { stdio: ['ignore', 'pipe', 'inherit'] });
      let o = '';
      ch.stdout.on('data', (d) => (o += d));
      ch.on('close', (code) => (code === 0 ? resolve(JSON.parse(o)) : reject(new Error(`writer exited ${code}`))));
    })));
    const seconds = (performance.now() - t0) / 1000;
    const commits = writers * n;
    const requests = res.reduce((a, r) => a + sum(r.requests), 0);
    const puts = res.reduce((a, r) => a + r.requests.put, 0);
    const retries = res.reduce((a, r) => a + r.retries, 0);
    const maxRebases = Math.max(...res.map((r) => r.maxRebases));
    const store = s3Store({ client: c, bucket: base.bucket, prefix: e.prefix });
    const o0 = performance.now();
    const snap = await openSnapshot({ store });
    const openMs = performance.now() - o0;
    const files = snap.list().length;
    snap.release();
    rows.push({ writers, commitsPerSec: +(commits / seconds).toFixed(1), medianCommitMs: +median(res.flatMap((r) => r.ms)).toFixed(1), worstCommitMs: +Math.max(...res.flatMap((r) => r.ms)).toFixed(1), requestsPerCommit: +(requests / commits).toFixed(1), putsPerCommit: +(puts / commits).toFixed(1), retries, maxRebases, snapshot: { generation: snap.generation, files, openMs: +openMs.toFixed(1), requests: sum(store.seam.requests) } });
  }
  c.destroy();
  console.log('| writers | commits/s | median commit | slowest commit | requests per commit (PUTs) | log races lost (most by one commit) | openSnapshot after (generation, files): time, requests |');
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const r of rows) console.log(`| ${r.writers} | ${r.commitsPerSec} | ${r.medianCommitMs} ms | ${r.worstCommitMs} ms | ${r.requestsPerCommit} (${r.putsPerCommit}) | ${r.retries} (${r.maxRebases}) | generation ${r.snapshot.generation}, ${r.snapshot.files} files: ${r.snapshot.openMs} ms, ${r.snapshot.requests} requests |`);
  console.log(JSON.stringify(rows));
}
