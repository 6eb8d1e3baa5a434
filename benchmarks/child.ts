/**
 * child.ts: one measurement, or one crash setup, in a process of its own.
 *
 * Peak RSS (getrusage's maxRSS) only ever grows, so it says something about one case only in a
 * process that ran nothing else: the parent spawns this script once per measurement, passing a
 * JSON spec as argv[2], and reads one JSON line back from stdout.
 *
 *   stream             1 GiB (or the plan's size) through tx.createWriteStream + commit, or through
 *                      fs.createWriteStream({ flush: true }) (fsync before close); same source
 *   scale              one transaction of n 4 KiB files, after a small warm-up transaction
 *   setup-committed    a transaction of n files that SIGKILLs itself right after its commit point
 *   setup-uncommitted  `count` transactions that each stage one file, then SIGKILL
 *
 * Baseline RSS is read after the imports and the source buffers exist, right before the measured
 * operation starts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import v8 from 'node:v8';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { begin } from './txnfs.js';
import { faults } from '../src/io/faults.js';

export type ChildSpec =
  | { readonly kind: 'stream'; readonly method: 'txnfs' | 'fs'; readonly dir: string; readonly bytes: number; readonly chunk: number }
  | { readonly kind: 'scale'; readonly dir: string; readonly warmDir: string; readonly n: number }
  | { readonly kind: 'setup-committed'; readonly dir: string; readonly n: number }
  | { readonly kind: 'setup-uncommitted'; readonly dir: string; readonly count: number };

export interface ChildResult {
  readonly ms: number;
  /** Peak RSS of the whole child, KiB. */
  readonly maxRssKiB: number;
  /** Peak RSS right before the measured operation started, KiB. */
  readonly baseRssKiB: number;
  readonly journalBytes?: number | undefined;
  /** V8's young generation (new space) at the end, MiB: it grows in steps and never shrinks here. */
  readonly youngMiB?: number | undefined;
}

/**
 * Peak RSS of this process image, KiB. On Linux this is VmHWM from /proc/self/status, because
 * getrusage's maxRSS survives exec: a child forked from a parent holding 127 MB starts with
 * maxRSS = 127 MB before it has done anything (seen in the first full run). Elsewhere maxRSS.
 */
function maxRss(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (m?.[1] !== undefined) return Number(m[1]);
  } catch {
    // No procfs: fall back to getrusage.
  }
  return process.resourceUsage().maxRSS;
}
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

function source(bytes: number, chunkSize: number): Readable {
  const chunk = Buffer.alloc(chunkSize, 0x63);
  return Readable.from(
    (function* () {
      for (let left = bytes; left > 0; left -= chunkSize) yield left >= chunkSize ? chunk : chunk.subarray(0, left);
    })(),
    { objectMode: false },
  );
}

async function stream(spec: Extract<ChildSpec, { kind: 'stream' }>): Promise<ChildResult> {
  const src = source(spec.bytes, spec.chunk);
  gc();
  const baseRssKiB = maxRss();
  const t = performance.now();
  if (spec.method === 'txnfs') {
    const tx = begin({ dir: spec.dir });
    await pipeline(src, tx.createWriteStream('big.bin'));
    await tx.commit();
  } else {
    await pipeline(src, fs.createWriteStream(path.join(spec.dir, 'big.bin'), { flush: true }));
  }
  const ms = performance.now() - t;
  const size = fs.statSync(path.join(spec.dir, 'big.bin')).size;
  if (size !== spec.bytes) throw new Error(`stream wrote ${size} bytes, expected ${spec.bytes}`);
  return { ms, maxRssKiB: maxRss(), baseRssKiB };
}

async function scale(spec: Extract<ChildSpec, { kind: 'scale' }>): Promise<ChildResult> {
  const data = Buffer.alloc(4096, 0x64);
  // Warm the JIT on a small transaction, so the per-file time of n = 1,000 is not a cold start.
  const warm = begin({ dir: spec.warmDir });
  for (let i = 0; i < 200; i++) void warm.write(`w${i}`, data);
  await warm.commit();
  fs.rmSync(spec.warmDir, { recursive: true, force: true });
  gc();
  const baseRssKiB = maxRss();
  const tx = begin({ dir: spec.dir });
  let journalBytes: number | undefined;
  const journal = path.join(spec.dir, '.txnfs', `.txn-${tx.id}`, 'journal');
  faults.hook = (e) => {
    if (e.kind === 'step' && e.name === 'committed') journalBytes = fs.statSync(journal).size;
  };
  const t = performance.now();
  for (let i = 0; i < spec.n; i++) void tx.write(`f${i}`, data);
  await tx.commit();
  const ms = performance.now() - t;
  faults.hook = undefined;
  // Read before the check below: listing 100,000 names is the benchmark's work, not txnfs's, and
  // its strings alone can raise the peak or grow V8's young generation.
  const maxRssKiB = maxRss();
  const young = v8.getHeapSpaceStatistics().find((sp) => sp.space_name === 'new_space');
  // Exactly the n files: no `.txnfs/` is left after a commit (docs/protocol.md, "No litter"). This
  // expected n + 1 names while a commit left its empty home behind.
  const names = fs.readdirSync(spec.dir);
  if (names.length !== spec.n || names.includes('.txnfs')) throw new Error(`scale: ${names.length} names in the root (.txnfs ${names.includes('.txnfs') ? 'left' : 'gone'}), expected the ${spec.n} files alone`);
  return { ms, maxRssKiB, baseRssKiB, journalBytes, youngMiB: young === undefined ? undefined : young.space_size / 1024 ** 2 };
}

async function setupCommitted(spec: Extract<ChildSpec, { kind: 'setup-committed' }>): Promise<never> {
  const data = Buffer.alloc(4096, 0x65);
  // Die the instant the journal is durable: the transaction is committed and nothing is applied.
  faults.hook = (e) => {
    if (e.kind === 'step' && e.name === 'committed') process.kill(process.pid, 'SIGKILL');
  };
  const tx = begin({ dir: spec.dir });
  for (let i = 0; i < spec.n; i++) void tx.write(`f${i}`, data);
  await tx.commit();
  throw new Error('setup-committed: the commit finished instead of dying at its commit point');
}

async function setupUncommitted(spec: Extract<ChildSpec, { kind: 'setup-uncommitted' }>): Promise<never> {
  const data = Buffer.alloc(4096, 0x66);
  const staged: Promise<void>[] = [];
  // Two files each: a transaction of one file stages it as a temp in the home (its lone file),
  // which recover() removes as a dead writer's temp, not as a transaction; two make the staging
  // dir whose discard this measures.
  for (let i = 0; i < spec.count; i++) {
    const tx = begin({ dir: spec.dir });
    staged.push(tx.write(`u${i}a`, data), tx.write(`u${i}b`, data));
  }
  await Promise.all(staged);
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable');
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '') as ChildSpec;
  let result: ChildResult;
  switch (spec.kind) {
    case 'stream':
      result = await stream(spec);
      break;
    case 'scale':
      result = await scale(spec);
      break;
    case 'setup-committed':
      return setupCommitted(spec);
    case 'setup-uncommitted':
      return setupUncommitted(spec);
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
