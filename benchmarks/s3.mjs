// Issue 16: txnfs/s3 on a real Ceph RGW (scripts/rgw.sh, started here and stopped on exit, also
// on an error or Ctrl-C). Two parts:
//
// 1. Writers: 1, 4 and 8 writer processes (each its own client, a stand-in for a host), each
//    committing one-file transactions to keys of its own, so they race only for the log. Per
//    count, `--runs` runs on fresh prefixes: commits per second, the median and slowest commit,
//    requests per commit (counted by the S3 seam, src/s3/seam.ts), log races lost, and what
//    opening a snapshot of the log a run left costs (a new store handle, as a new host would).
// 2. Tree size: a tree of `--files` files built in commits of `--per-commit` files, then on it:
//    openSnapshot() from a new store handle (`--opens` times), and a 10-file commit from a new
//    handle (a host that has not read the store yet) and from a warm one (has read it).
//    Request counts and latencies; the issue's goal is O(10) requests for that commit and a
//    bounded number for the open, whatever the tree size.
//
// Medians throughout; the machine is shared and noisy, so compare figures of one run only.
//
//   npm run bench:s3 [-- --commits 20 --runs 3 --files 10000 --per-commit 1000 --opens 5 --skip-writers]
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';

const lib = new URL('../dist/s3/index.js', import.meta.url).href;
const client = (e) => new S3Client({ endpoint: e.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: e.access, secretAccessKey: e.secret } });
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length === 0 ? NaN : s[Math.floor((s.length - 1) / 2)]; };
// The run in the middle (by order, not by time): the request counts shown for a repeated step.
const mid = (runs) => runs[Math.floor((runs.length - 1) / 2)];
const total = (counts) => Object.values(counts).reduce((a, b) => a + b, 0);
const minus = (a, b) => Object.fromEntries(Object.keys(a).map((k) => [k, a[k] - (b[k] ?? 0)]));
const ms = (x) => `${x < 10 ? x.toFixed(1) : Math.round(x)} ms`;
// "12 (GET 10, HEAD 2)": the total and the kinds that occur.
const describe = (c) => `${total(c)} (${Object.entries(c).filter(([, v]) => v > 0).map(([k, v]) => `${k.toUpperCase()} ${v}`).join(', ')})`;

if (process.argv[2] === 'child') {
  const e = JSON.parse(process.argv[3]);
  const [name, n] = [process.argv[4], Number(process.argv[5])];
  const { begin, s3Store } = await import(lib);
  const c = client(e);
  const store = s3Store({ client: c, bucket: e.bucket, prefix: e.prefix });
  const data = Buffer.alloc(4096, 'x');
  const times = [];
  let retries = 0;
  let maxRebases = 0;
  let locked = 0;
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    // The default maxRetries: a commit that still loses that many races fails with ELOCKED
    // (counted, then the write is committed by a new transaction, as an application would).
    for (;;) {
      const tx = begin({ store });
      tx.write(`${name}/${i}.bin`, data);
      try {
        const r = await tx.commit();
        retries += r.rebases;
        maxRebases = Math.max(maxRebases, r.rebases);
        break;
      } catch (err) {
        if (err?.code !== 'ELOCKED') throw err;
        locked++;
      }
    }
    times.push(performance.now() - s);
  }
  c.destroy();
  console.log(JSON.stringify({ ms: times, requests: store.seam.requests, retries, maxRebases, locked }));
} else {
  const { values: a } = parseArgs({
    options: {
      commits: { type: 'string', default: '20' },
      runs: { type: 'string', default: '3' },
      files: { type: 'string', default: '10000' },
      'per-commit': { type: 'string', default: '1000' },
      opens: { type: 'string', default: '5' },
      'skip-writers': { type: 'boolean', default: false },
    },
  });
  const [n, runs, files, perCommit, opens] = [a.commits, a.runs, a.files, a['per-commit'], a.opens].map(Number);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'txnfs-bench-rgw-'));
  const script = new URL('../scripts/rgw.sh', import.meta.url).pathname;
  const children = new Set();
  // Runs on every exit (also after an uncaught error, and on SIGINT/SIGTERM below): no writer, no
  // gateway and no scratch directory outlives the bench.
  const stop = () => {
    for (const ch of children) ch.kill('SIGKILL');
    try { execFileSync(script, ['stop', dir], { stdio: 'ignore' }); } catch {}
    fs.rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', stop);
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));
  const started = performance.now();
  const out = execFileSync(script, ['start', dir], { encoding: 'utf8', timeout: 120_000 });
  const m = /endpoint=(\S+) access=(\S+) secret=(\S+)/.exec(out);
  if (m === null) throw new Error(`rgw.sh printed no endpoint: ${out}`);
  const base = { endpoint: m[1], access: m[2], secret: m[3], bucket: 'bench' };
  const c = client(base);
  await c.send(new CreateBucketCommand({ Bucket: base.bucket }));
  console.log(`RGW up in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const { begin, openSnapshot, s3Store } = await import(lib);
  const storeAt = (prefix) => s3Store({ client: c, bucket: base.bucket, prefix });

  /** openSnapshot() on a new store handle: latency, requests, generation, files. */
  async function openFresh(prefix) {
    const store = storeAt(prefix);
    const t = performance.now();
    const snap = await openSnapshot({ store });
    const took = performance.now() - t;
    const result = { ms: took, requests: { ...store.seam.requests }, generation: snap.generation, files: snap.list().length };
    snap.release();
    return result;
  }

  const report = { date: new Date().toISOString(), commitsPerWriter: n, runs };
  if (!a['skip-writers']) {
    console.log(`\n## Writers: ${n} one-file commits (4 KiB) per writer, ${runs} runs per row, medians over runs`);
    const rows = [];
    for (const writers of [1, 4, 8]) {
      const perRun = [];
      for (let run = 0; run < runs; run++) {
        const e = { ...base, prefix: `w${writers}-r${run}` };
        const t0 = performance.now();
        const res = await Promise.all(Array.from({ length: writers }, (_, i) => new Promise((resolve, reject) => {
          const ch = spawn(process.execPath, [process.argv[1], 'child', JSON.stringify(e), `p${i}`, String(n)], { stdio: ['ignore', 'pipe', 'inherit'] });
          children.add(ch);
          let o = '';
          ch.stdout.on('data', (d) => (o += d));
          ch.on('close', (code) => { children.delete(ch); code === 0 ? resolve(JSON.parse(o)) : reject(new Error(`writer exited ${code}`)); });
        })));
        const seconds = (performance.now() - t0) / 1000;
        const commits = writers * n;
        const open = await openFresh(e.prefix);
        if (open.generation !== commits || open.files !== commits) throw new Error(`run ${e.prefix}: generation ${open.generation}, ${open.files} files; expected ${commits} of each`);
        perRun.push({
          rate: commits / seconds,
          ms: res.flatMap((r) => r.ms),
          requestsPerCommit: res.reduce((s, r) => s + total(r.requests), 0) / commits,
          putsPerCommit: res.reduce((s, r) => s + r.requests.put, 0) / commits,
          retries: res.reduce((s, r) => s + r.retries, 0),
          maxRebases: Math.max(...res.map((r) => r.maxRebases)),
          locked: res.reduce((s, r) => s + r.locked, 0),
          open,
        });
      }
      const all = perRun.flatMap((r) => r.ms);
      rows.push({
        writers,
        commitsPerSec: +median(perRun.map((r) => r.rate)).toFixed(1),
        ratesPerRun: perRun.map((r) => +r.rate.toFixed(1)),
        medianCommitMs: +median(all).toFixed(1),
        slowestCommitMs: +Math.max(...all).toFixed(1),
        requestsPerCommit: +median(perRun.map((r) => r.requestsPerCommit)).toFixed(1),
        putsPerCommit: +median(perRun.map((r) => r.putsPerCommit)).toFixed(1),
        racesLostPerRun: median(perRun.map((r) => r.retries)),
        mostRacesLostByOneCommit: Math.max(...perRun.map((r) => r.maxRebases)),
        lockedInAllRuns: perRun.reduce((s, r) => s + r.locked, 0),
        open: { generation: perRun[0].open.generation, ms: +median(perRun.map((r) => r.open.ms)).toFixed(1), requests: median(perRun.map((r) => total(r.open.requests))) },
      });
    }
    console.log('| writers | commits/s (runs) | median commit | slowest commit | requests per commit (PUTs) | log races lost per run (most by one commit) | ELOCKED, all runs | openSnapshot after: generation, time, requests |');
    console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
    for (const r of rows) console.log(`| ${r.writers} | ${r.commitsPerSec} (${r.ratesPerRun.join(', ')}) | ${ms(r.medianCommitMs)} | ${ms(r.slowestCommitMs)} | ${r.requestsPerCommit} (${r.putsPerCommit}) | ${r.racesLostPerRun} (${r.mostRacesLostByOneCommit}) | ${r.lockedInAllRuns} | ${r.open.generation}: ${ms(r.open.ms)}, ${r.open.requests} |`);
    report.writers = rows;
  }

  if (files > 0) {
    const prefix = `tree-${files}`;
    const commitsToBuild = Math.ceil(files / perCommit);
    console.log(`\n## A tree of ${files} files (16 bytes each) built in ${commitsToBuild} commits of up to ${perCommit}`);
    const builder = storeAt(prefix);
    const b0 = performance.now();
    for (let done = 0; done < files; done += perCommit) {
      // 32 uploads in flight: this is setup, not a measured figure.
      const tx = begin({ store: builder, concurrency: 32 });
      for (let i = done; i < Math.min(files, done + perCommit); i++) tx.write(`d${Math.floor(i / 1000)}/f${i}.txt`, `file ${String(i).padStart(10, '0')}\n`);
      await tx.commit();
    }
    const buildSeconds = (performance.now() - b0) / 1000;
    console.log(`built in ${buildSeconds.toFixed(1)} s`);

    const openRuns = [];
    for (let i = 0; i < opens; i++) openRuns.push(await openFresh(prefix));
    const open = openRuns[0];
    if (open.files !== files || open.generation !== commitsToBuild) throw new Error(`tree: generation ${open.generation}, ${open.files} files; expected ${commitsToBuild} and ${files}`);

    /** A 10-file commit through `store`: latency and the requests it sent. */
    async function tenFiles(store, round) {
      const before = { ...store.seam.requests };
      const t = performance.now();
      const tx = begin({ store });
      for (let i = 0; i < 10; i++) tx.write(`d${i}/f${i}.txt`, `changed in round ${round}\n`);
      await tx.commit();
      return { ms: performance.now() - t, requests: minus(store.seam.requests, before) };
    }
    const cold = [];
    for (let i = 0; i < opens; i++) cold.push(await tenFiles(storeAt(prefix), `cold ${i}`));
    const warmStore = storeAt(prefix);
    await warmStore.current(); // this handle has read the tree: what a long-lived writer has
    const warm = [];
    for (let i = 0; i < opens; i++) warm.push(await tenFiles(warmStore, `warm ${i}`));

    const row = (what, runs) => `| ${what} | ${ms(median(runs.map((r) => r.ms)))} | ${describe(mid(runs).requests)} |`;
    console.log(`| on ${files} files (generation ${open.generation}), ${opens} times each | median time | requests (one run) |`);
    console.log('| --- | ---: | --- |');
    console.log(row('openSnapshot(), new store handle', openRuns));
    console.log(row('10-file commit, new store handle', cold));
    console.log(row('10-file commit, handle that has read the tree', warm));
    report.tree = {
      files, perCommit, generation: open.generation, buildSeconds: +buildSeconds.toFixed(1),
      open: { ms: +median(openRuns.map((r) => r.ms)).toFixed(1), requests: open.requests },
      commitNewHandle: { ms: +median(cold.map((r) => r.ms)).toFixed(1), requests: mid(cold).requests },
      commitWarmHandle: { ms: +median(warm.map((r) => r.ms)).toFixed(1), requests: mid(warm).requests },
    };
  }
  c.destroy();
  console.log(`\n${JSON.stringify(report)}`);
}
