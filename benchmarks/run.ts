/**
 * run.ts: `npm run bench` (full) and `npm run bench -- --quick`.
 *
 * Every comparison is measured in the same run, alternating: each round runs every method once, in
 * an order rotated by one each round, and every run gets a fresh directory on the real disk (a
 * global `sync` before it, so no run pays for the previous one's writeback). The first round is a
 * warm-up: it is checked (every file present, at its size) and thrown away. The result is the
 * median of the measured rounds; on a machine shared with other work only ratios measured this way
 * mean anything, so the targets are stated as ratios.
 *
 * Peak RSS is measured in a child process per measurement (child.ts). Recovery setups are made by
 * child processes that SIGKILL themselves at the right moment.
 *
 * Output: a table on stdout, `benchmarks/results/<plan>.json`, and (full plan, or `--docs`)
 * `docs/benchmarks.md` with `docs/benchmarks-per-file.svg`.
 *
 * Flags: --quick, --dir=PATH (where runs happen; default .bench-tmp/runs in the repo),
 * --only=main,stream,scale,recover,generations (a subset), --counts=1000,10000 (main comparison sizes),
 * --scale=1000,100000 (scale sizes), --runs=N (rounds of the main comparison), --docs, --no-docs.
 * The subset flags are for profiling a change; only a complete run writes the docs by default.
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { recover } from './txnfs.js';
import type { ChildResult, ChildSpec } from './child.js';
import { filesystemOf, isMemoryFs, machineInfo, probeFsync } from './machine.js';
import { methods, mixedFiles, uniformFiles, type FileSpec, type MethodId } from './methods.js';
import { fullPlan, quickPlan, type Plan } from './plan.js';
import { median, prng } from './stats.js';
import { checkTargets, consoleReport, markdownReport, perFileSvg, type MainSet, type Results } from './report.js';
import { runGenerations } from './generations.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const childScript = fileURLToPath(new URL('./child.js', import.meta.url));

interface Args {
  readonly plan: Plan;
  readonly dir: string;
  readonly only: ReadonlySet<string>;
  /** A subset or resized run: its JSON gets its own name. */
  readonly partial: boolean;
  /** Measure only the --only sections again and replace them in results/<plan>.json. */
  readonly update: boolean;
  readonly docs: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  let plan = fullPlan;
  let dir = path.join(repo, '.bench-tmp', 'runs');
  let only = new Set(['main', 'stream', 'scale', 'recover', 'generations']);
  let docs: boolean | undefined;
  let update = false;
  const overrides: { -readonly [K in keyof Plan]?: Plan[K] } = {};
  const numbers = (v: string): number[] => v.split(',').map((x) => {
    const n = Number(x);
    if (!Number.isInteger(n) || n < 1) throw new Error(`Not a positive integer: '${x}'`);
    return n;
  });
  for (const a of argv) {
    if (a === '--quick') plan = quickPlan;
    else if (a.startsWith('--counts=')) overrides.counts = numbers(a.slice(9));
    else if (a.startsWith('--scale=')) overrides.scaleCounts = numbers(a.slice(8));
    else if (a.startsWith('--runs=')) overrides.runs = overrides.runsLargest = numbers(a.slice(7))[0] as number;
    else if (a.startsWith('--dir=')) dir = path.resolve(a.slice(6));
    else if (a.startsWith('--only=')) only = new Set(a.slice(7).split(','));
    else if (a === '--docs') docs = true;
    else if (a === '--update') update = true;
    else if (a === '--no-docs') docs = false;
    else throw new Error(`Unknown argument '${a}'. Known: --quick, --dir=PATH, --only=main,stream,scale,recover,generations, --counts=, --scale=, --runs=, --docs, --no-docs.`);
  }
  const partial = only.size !== 5 || Object.keys(overrides).length > 0;
  return { plan: { ...plan, ...overrides }, dir, only, partial, update, docs: docs ?? (plan.name === 'full' && (!partial || update)) };
}

/** Where the hand-measured section of docs/benchmarks.md starts; a docs run keeps it. */
const KEPT_SECTION = '<!-- kept: small transactions -->';

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

/** Flush every dirty page of the machine, so the next measurement starts from a quiet disk. */
function syncAll(): void {
  execFileSync('sync');
}

function rotate<T>(items: readonly T[], by: number): T[] {
  return items.map((_, i) => items[(i + by) % items.length] as T);
}

class Scratch {
  readonly #base: string;
  #n = 0;
  constructor(base: string) {
    this.#base = base;
  }
  fresh(label: string): string {
    const dir = path.join(this.#base, `${label}-${this.#n++}`);
    fs.mkdirSync(dir);
    return dir;
  }
  async remove(dir: string): Promise<void> {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}

/** Check that `dir` holds exactly `files` (and at most a `.txnfs` home), each at its size. */
function verifyWritten(dir: string, files: readonly FileSpec[], who: string): void {
  const names = fs.readdirSync(dir).filter((n) => n !== '.txnfs');
  if (names.length !== files.length) throw new Error(`${who}: ${names.length} entries in the directory, expected ${files.length}`);
  for (const f of files) {
    const size = fs.statSync(path.join(dir, f.name)).size;
    if (size !== f.data.length) throw new Error(`${who}: ${f.name} is ${size} bytes, expected ${f.data.length}`);
  }
}

function runChild(spec: ChildSpec, expectKill = false): Promise<ChildResult | undefined> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', childScript, JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (expectKill) {
        if (signal === 'SIGKILL') resolve(undefined);
        else reject(new Error(`${spec.kind} child should have died by SIGKILL, exited ${code}/${signal}: ${err}`));
        return;
      }
      if (code !== 0) {
        reject(new Error(`${spec.kind} child failed (${code}/${signal}): ${err}`));
        return;
      }
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as ChildResult);
      } catch (e) {
        reject(new Error(`${spec.kind} child printed no result: ${out} ${err} ${(e as Error).message}`));
      }
    });
  });
}

async function runMain(plan: Plan, scratch: Scratch): Promise<MainSet[]> {
  const sets: { label: string; files: FileSpec[]; runs: number }[] = plan.counts.map((n) => ({
    label: String(n),
    files: uniformFiles(n),
    runs: n === Math.max(...plan.counts) ? plan.runsLargest : plan.runs,
  }));
  sets.push({ label: 'mixed', files: mixedFiles(plan.mixedFiles, prng(20240601)), runs: plan.runs });
  const out: MainSet[] = [];
  for (const set of sets) {
    const samples = new Map<MethodId, number[]>(methods.map((m) => [m.id, []]));
    const started = performance.now();
    for (let r = 0; r <= set.runs; r++) {
      for (const m of rotate(methods, r)) {
        const dir = scratch.fresh(`${m.id}-${set.label}`);
        syncAll();
        gc();
        const t = performance.now();
        await m.run(dir, set.files);
        const ms = performance.now() - t;
        if (r === 0) verifyWritten(dir, set.files, `${m.id} N=${set.label}`);
        else samples.get(m.id)?.push(ms);
        await scratch.remove(dir);
      }
    }
    const bytes = set.files.reduce((s, f) => s + f.data.length, 0);
    const medians = Object.fromEntries(methods.map((m) => [m.id, median(samples.get(m.id) ?? [])])) as Record<MethodId, number>;
    out.push({
      set: set.label,
      files: set.files.length,
      bytes,
      runs: set.runs,
      methods: Object.fromEntries(
        methods.map((m) => [m.id, { runsMs: samples.get(m.id) ?? [], medianMs: medians[m.id], perFileMs: medians[m.id] / set.files.length }]),
      ) as unknown as MainSet['methods'],
    });
    log(`  N=${set.label}: txnfs ${medians.txnfs.toFixed(1)} ms, floor ${medians['durable-floor'].toFixed(1)} ms, wfa-seq ${medians['wfa-seq'].toFixed(1)} ms  (${((performance.now() - started) / 1000).toFixed(0)} s)`);
  }
  return out;
}

async function runStream(plan: Plan, scratch: Scratch): Promise<Results['stream']> {
  const runs: Record<'txnfs' | 'fs', ChildResult[]> = { txnfs: [], fs: [] };
  for (let r = 0; r <= plan.streamRuns; r++) {
    for (const method of rotate(['txnfs', 'fs'] as const, r)) {
      const dir = scratch.fresh(`stream-${method}`);
      syncAll();
      const res = (await runChild({ kind: 'stream', method, dir, bytes: plan.streamBytes, chunk: 64 * 1024 })) as ChildResult;
      if (r > 0) runs[method].push(res);
      await scratch.remove(dir);
    }
  }
  const summary = (rs: ChildResult[]) => {
    const ms = median(rs.map((x) => x.ms));
    return {
      runs: rs,
      medianMs: ms,
      throughputMiBs: plan.streamBytes / 1024 ** 2 / (ms / 1000),
      peakOverBaseMiB: median(rs.map((x) => (x.maxRssKiB - x.baseRssKiB) / 1024)),
      peakMiB: median(rs.map((x) => x.maxRssKiB / 1024)),
    };
  };
  const txnfs = summary(runs.txnfs);
  const plain = summary(runs.fs);
  log(`  stream: txnfs ${txnfs.throughputMiBs.toFixed(0)} MiB/s (+${txnfs.peakOverBaseMiB.toFixed(1)} MiB RSS), fs ${plain.throughputMiBs.toFixed(0)} MiB/s`);
  return { bytes: plan.streamBytes, txnfs, fs: plain, throughputRatio: txnfs.throughputMiBs / plain.throughputMiBs };
}

async function runScale(plan: Plan, scratch: Scratch): Promise<Results['scale']> {
  const runs = new Map<number, ChildResult[]>(plan.scaleCounts.map((n) => [n, []]));
  for (let r = 0; r < plan.scaleRuns; r++) {
    for (const n of rotate(plan.scaleCounts, r)) {
      const dir = scratch.fresh(`scale-${n}`);
      const warmDir = scratch.fresh(`scale-warm-${n}`);
      syncAll();
      runs.get(n)?.push((await runChild({ kind: 'scale', dir, warmDir, n })) as ChildResult);
      await scratch.remove(dir);
      await scratch.remove(warmDir);
    }
  }
  // Growth per entry is measured against the smallest size: (peak(N) - peak(smallest)) / (N -
  // smallest). That cancels what every commit pays once (V8's young generation at full size, the
  // lock timers, the code), which would otherwise dominate the per-entry figure at small N.
  const smallest = Math.min(...plan.scaleCounts);
  const peakKiB = (n: number): number => median((runs.get(n) ?? []).map((x) => x.maxRssKiB));
  return plan.scaleCounts.map((n) => {
    const rs = runs.get(n) ?? [];
    const ms = median(rs.map((x) => x.ms));
    const row = {
      n,
      runs: rs,
      medianMs: ms,
      perFileMs: ms / n,
      rssPerEntryBytes: n === smallest ? Number.NaN : ((peakKiB(n) - peakKiB(smallest)) * 1024) / (n - smallest),
      rssOverBasePerEntryBytes: median(rs.map((x) => ((x.maxRssKiB - x.baseRssKiB) * 1024) / n)),
      peakMiB: peakKiB(n) / 1024,
      journalBytes: median(rs.map((x) => x.journalBytes ?? Number.NaN)),
      youngMiB: median(rs.map((x) => x.youngMiB ?? Number.NaN)),
    };
    log(`  scale N=${n}: ${row.perFileMs.toFixed(3)} ms/file, +${row.rssPerEntryBytes.toFixed(0)} B RSS/entry over N=${smallest} (${row.rssOverBasePerEntryBytes.toFixed(0)} B/entry over the base), journal ${row.journalBytes} B`);
    return row;
  });
}

async function makeCleanRoot(dir: string, count: number): Promise<void> {
  const data = Buffer.alloc(100, 0x71);
  for (let i = 0; i < count; i += 512) {
    await Promise.all(Array.from({ length: Math.min(512, count - i) }, (_, k) => fsp.writeFile(path.join(dir, `plain${i + k}`), data)));
  }
}

async function runRecover(plan: Plan, scratch: Scratch): Promise<Results['recovery']> {
  const committed: number[] = [];
  const uncommitted: number[] = [];
  for (let r = 0; r <= plan.recoverRuns; r++) {
    for (const which of rotate(['committed', 'uncommitted'] as const, r)) {
      const dir = scratch.fresh(`recover-${which}`);
      if (which === 'committed') await runChild({ kind: 'setup-committed', dir, n: plan.recoverEntries }, true);
      else await runChild({ kind: 'setup-uncommitted', dir, count: plan.recoverDeadTxns }, true);
      syncAll();
      gc();
      const t = performance.now();
      const report = await recover(dir);
      const ms = performance.now() - t;
      if (which === 'committed') {
        const done = report.rolledForward[0];
        if (report.rolledForward.length !== 1 || done?.entries !== plan.recoverEntries || done.changed !== plan.recoverEntries) {
          throw new Error(`recover(committed) did not roll forward one transaction of ${plan.recoverEntries} entries: ${JSON.stringify(report)}`);
        }
        if (r > 0) committed.push(ms);
      } else {
        if (report.discarded.length !== plan.recoverDeadTxns) throw new Error(`recover(uncommitted) discarded ${report.discarded.length}, expected ${plan.recoverDeadTxns}`);
        if (r > 0) uncommitted.push(ms);
      }
      // Nothing pending is left: recover() removes the home then (No litter), or leaves it empty.
      const home = path.join(dir, '.txnfs');
      if (fs.existsSync(home) && fs.readdirSync(home).length !== 0) throw new Error(`recover(${which}) left records behind`);
      await scratch.remove(dir);
    }
  }

  // A root that has been used (an empty home, which the first recover() removes: No litter) and
  // holds many ordinary files, against a root with nothing in it at all. Otherwise read-only for
  // recover(), so the same two directories serve every run.
  const clean = scratch.fresh('recover-clean');
  await makeCleanRoot(clean, plan.cleanRootFiles);
  fs.mkdirSync(path.join(clean, '.txnfs'));
  const empty = scratch.fresh('recover-empty');
  syncAll();
  const cleanMs: number[] = [];
  const emptyMs: number[] = [];
  for (let r = 0; r <= plan.recoverRuns; r++) {
    for (const which of rotate(['clean', 'empty'] as const, r)) {
      const dir = which === 'clean' ? clean : empty;
      gc();
      const t = performance.now();
      for (let k = 0; k < plan.cleanCallsPerRun; k++) {
        const report = await recover(dir);
        if (report.rolledForward.length + report.discarded.length + report.rolledBack.length !== 0) throw new Error(`recover(${which}) found work`);
      }
      const ms = (performance.now() - t) / plan.cleanCallsPerRun;
      if (r > 0) (which === 'clean' ? cleanMs : emptyMs).push(ms);
    }
  }
  const readdirMs: number[] = [];
  for (let r = 0; r < 3; r++) {
    const t = performance.now();
    await fsp.readdir(clean);
    readdirMs.push(performance.now() - t);
  }
  // The empty home went with the first recover() (No litter); nothing else was made.
  if (fs.existsSync(path.join(clean, '.txnfs')) || fs.readdirSync(clean).length !== plan.cleanRootFiles) throw new Error('recover(clean) left its home, or changed the root\'s files');
  await scratch.remove(clean);
  await scratch.remove(empty);
  const result = {
    committed: { entries: plan.recoverEntries, runsMs: committed, medianMs: median(committed), perEntryMs: median(committed) / plan.recoverEntries },
    uncommitted: { transactions: plan.recoverDeadTxns, runsMs: uncommitted, medianMs: median(uncommitted), perTxnMs: median(uncommitted) / plan.recoverDeadTxns },
    clean: {
      files: plan.cleanRootFiles,
      cleanRunsMs: cleanMs,
      emptyRunsMs: emptyMs,
      cleanMedianMs: median(cleanMs),
      emptyMedianMs: median(emptyMs),
      ratio: median(cleanMs) / median(emptyMs),
      readdirRootMs: median(readdirMs),
    },
  };
  log(`  recover: committed ${result.committed.medianMs.toFixed(1)} ms, uncommitted ${result.uncommitted.medianMs.toFixed(1)} ms, clean ${result.clean.cleanMedianMs.toFixed(3)} vs empty ${result.clean.emptyMedianMs.toFixed(3)} ms`);
  return result;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const { plan } = args;
  fs.mkdirSync(args.dir, { recursive: true });
  const fsInfo = filesystemOf(args.dir);
  if (isMemoryFs(fsInfo)) {
    throw new Error(`'${args.dir}' is on ${fsInfo.type}: fsync is free there and the comparison means nothing. Pass --dir= on a real disk.`);
  }
  const base = fs.mkdtempSync(path.join(args.dir, 'bench-'));
  const scratch = new Scratch(base);
  const cleanup = (): void => fs.rmSync(base, { recursive: true, force: true });
  process.once('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
  const started = performance.now();
  try {
    const machine = machineInfo(args.dir, repo);
    log(`txnfs benchmark (${plan.name}) on ${machine.fs.device} (${machine.fs.type}, ${machine.fs.mountPoint}), Node ${machine.node}, ${machine.cores} cores`);
    const fsync = await probeFsync(base, plan.name === 'full' ? 500 : 200);
    log(`  fsync latency p50 ${fsync.latencyMs.p50.toFixed(3)} ms, p99 ${fsync.latencyMs.p99.toFixed(3)} ms`);
    const results: Results = {
      plan,
      machine,
      fsync,
      main: args.only.has('main') ? await runMain(plan, scratch) : [],
      stream: args.only.has('stream') ? await runStream(plan, scratch) : undefined,
      scale: args.only.has('scale') ? await runScale(plan, scratch) : [],
      recovery: args.only.has('recover') ? await runRecover(plan, scratch) : undefined,
      generations: args.only.has('generations') ? await runGenerations({ quick: plan.name === 'quick', scratch, log }) : undefined,
      targets: [],
      durationS: 0,
    };
    let merged = results;
    if (args.update) {
      // Keep every section that was not measured again from the previous complete run.
      const prev = JSON.parse(fs.readFileSync(path.join(repo, 'benchmarks', 'results', `${plan.name}.json`), 'utf8')) as Results;
      merged = {
        ...prev,
        machine: { ...prev.machine, commit: `${prev.machine.commit}; ${[...args.only].join(', ')} re-measured at ${results.machine.commit} on ${results.machine.date.slice(0, 10)}` },
        main: args.only.has('main') ? results.main : prev.main,
        stream: args.only.has('stream') ? results.stream : prev.stream,
        scale: args.only.has('scale') ? results.scale : prev.scale,
        recovery: args.only.has('recover') ? results.recovery : prev.recovery,
        generations: args.only.has('generations') ? results.generations : prev.generations,
      };
    }
    const final: Results = { ...merged, targets: checkTargets(merged), durationS: args.update ? merged.durationS : (performance.now() - started) / 1000 };
    process.stdout.write(consoleReport(final));
    const resultsDir = path.join(repo, 'benchmarks', 'results');
    fs.mkdirSync(resultsDir, { recursive: true });
    const jsonPath = path.join(resultsDir, args.partial && !args.update ? `partial-${plan.name}.json` : `${plan.name}.json`);
    fs.writeFileSync(jsonPath, `${JSON.stringify(final, null, 2)}\n`);
    log(`wrote ${path.relative(repo, jsonPath)}`);
    if (args.docs) {
      const docs = path.join(repo, 'docs');
      fs.mkdirSync(docs, { recursive: true });
      fs.writeFileSync(path.join(docs, 'benchmarks-per-file.svg'), perFileSvg(final));
      // The small-transaction section (measured by hand, same-run A/B: see there) is kept as it is.
      const mdPath = path.join(docs, 'benchmarks.md');
      const previous = fs.existsSync(mdPath) ? fs.readFileSync(mdPath, 'utf8') : '';
      const kept = previous.includes(KEPT_SECTION) ? `\n${previous.slice(previous.indexOf(KEPT_SECTION))}` : '';
      fs.writeFileSync(mdPath, `${markdownReport(final, path.relative(repo, jsonPath)).trimEnd()}\n${kept}`);
      log('wrote docs/benchmarks.md and docs/benchmarks-per-file.svg');
    }
  } finally {
    cleanup();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
