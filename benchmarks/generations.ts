/**
 * generations.ts: the generations layout's benchmarks (`--only=generations`; part of the default set).
 *
 *  - commit: N files of 4 KiB into a fresh root, generations layout (a missing pointer: the first
 *    commit creates it) against the in-place layout (an empty directory), alternating, medians;
 *  - small commit on a large generation: 10 files written on top of a generation of `large` files
 *    in 100 directories; the cost is dominated by linking every unchanged file. keepGenerations is
 *    large so that no collection runs inside the measured commit; the collection of one old
 *    generation (rm -rf of `large` links) is measured on its own, through recover();
 *  - openSnapshot + release, in a loop, median per pair.
 * Durability 'full' throughout, on the real disk, as the rest of the suite.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { begin, openSnapshot, recover } from './txnfs.js';
import { uniformFiles, type FileSpec } from './methods.js';
import { median } from './stats.js';

export interface GenerationsResults {
  readonly commit: { readonly files: number; readonly runs: number; readonly inPlaceMs: number; readonly generationsMs: number; readonly ratio: number; readonly inPlaceRunsMs: number[]; readonly generationsRunsMs: number[] };
  readonly small: { readonly generationFiles: number; readonly written: number; readonly runsMs: number[]; readonly medianMs: number; readonly perUnchangedFileMs: number; readonly collectMs: number; readonly collectPerFileMs: number };
  readonly snapshot: { readonly pairs: number; readonly medianUs: number; readonly p90Us: number };
}

interface Scratch {
  fresh(label: string): string;
  remove(dir: string): Promise<void>;
}

async function commitFiles(dir: string, files: readonly FileSpec[], layout: 'in-place' | 'generations', keep?: number): Promise<void> {
  const tx = begin({ dir, layout, ...(keep === undefined ? {} : { keepGenerations: keep }) });
  for (const f of files) void tx.write(f.name, f.data);
  await tx.commit();
}

/** A generation of `n` small files in 100 directories, made directly (as a conversion would find it). */
function plainTree(dir: string, n: number): void {
  const data = Buffer.alloc(100, 0x71);
  for (let d = 0; d < 100; d++) {
    fs.mkdirSync(path.join(dir, `d${d}`), { recursive: true });
    for (let i = d; i < n; i += 100) fs.writeFileSync(path.join(dir, `d${d}`, `f${i}`), data);
  }
}

export async function runGenerations(o: { readonly quick: boolean; readonly scratch: Scratch; readonly log: (line: string) => void }): Promise<GenerationsResults> {
  const n = 1000;
  const runs = o.quick ? 3 : 7;
  const files = uniformFiles(n);
  const samples = { 'in-place': [] as number[], generations: [] as number[] };
  for (let r = 0; r <= runs; r++) {
    for (const layout of r % 2 === 0 ? (['in-place', 'generations'] as const) : (['generations', 'in-place'] as const)) {
      const parent = o.scratch.fresh(`gen-commit-${layout}`);
      const dir = layout === 'in-place' ? parent : path.join(parent, 'out');
      execFileSync('sync');
      const t = performance.now();
      await commitFiles(dir, files, layout);
      const ms = performance.now() - t;
      if (fs.readdirSync(dir).filter((x) => x !== '.txnfs').length !== n) throw new Error(`${layout}: not ${n} files`);
      if (r > 0) samples[layout].push(ms);
      await o.scratch.remove(parent);
    }
  }
  const inPlaceMs = median(samples['in-place']);
  const generationsMs = median(samples.generations);
  o.log(`  generations: ${n}-file commit ${generationsMs.toFixed(1)} ms vs in-place ${inPlaceMs.toFixed(1)} ms (${(generationsMs / inPlaceMs).toFixed(2)}x)`);

  const large = o.quick ? 20_000 : 100_000;
  const parent = o.scratch.fresh('gen-large');
  const out = path.join(parent, 'out');
  // The large generation: a plain tree converted by a first commit (not measured).
  plainTree(out, large);
  // Durability 'none' for this setup only (not measured): it would fsync each of the files once.
  const seedTx = begin({ dir: out, layout: 'generations', keepGenerations: 1000, durability: 'none' });
  seedTx.write('seed', 's');
  await seedTx.commit();
  execFileSync('sync');
  const smallRuns = o.quick ? 3 : 5;
  const smallMs: number[] = [];
  for (let r = 0; r <= smallRuns; r++) {
    const ten = Array.from({ length: 10 }, (_, i) => ({ name: `d${i}/new-${r}-${i}`, data: Buffer.alloc(4096, 0x61 + r) }));
    execFileSync('sync');
    const t = performance.now();
    await commitFiles(out, ten, 'generations', 1000);
    const ms = performance.now() - t;
    if (r > 0) smallMs.push(ms);
  }
  const medianMs = median(smallMs);
  const unchanged = large + 1; // every file of the generation below (plus 'seed'); the new ones grow it slightly
  o.log(`  generations: 10-file commit on ${large} files ${medianMs.toFixed(0)} ms, ${(medianMs / unchanged).toFixed(4)} ms per unchanged file`);
  // Collection: recover() with the default retention removes every generation but the last two.
  const before = fs.readdirSync(path.join(parent, '.out.txnfs')).filter((x) => x.startsWith('gen-')).length;
  execFileSync('sync');
  const t = performance.now();
  const rep = await recover(out);
  const collectTotal = performance.now() - t;
  const collected = rep.generations?.collected.length ?? 0;
  if (collected !== before - 2) throw new Error(`recover collected ${collected} generations, expected ${before - 2}`);
  const collectMs = collectTotal / collected;
  o.log(`  generations: collecting one ${large}-file generation ${collectMs.toFixed(0)} ms (${(collectMs / large).toFixed(4)} ms per file)`);
  await o.scratch.remove(parent);

  const snapParent = o.scratch.fresh('gen-snapshot');
  const snapOut = path.join(snapParent, 'out');
  await commitFiles(snapOut, files.slice(0, 10), 'generations');
  const pairs = o.quick ? 200 : 1000;
  const us: number[] = [];
  for (let i = 0; i < pairs; i++) {
    const t0 = performance.now();
    const snap = await openSnapshot(snapOut);
    await snap.release();
    us.push((performance.now() - t0) * 1000);
  }
  us.sort((a, b) => a - b);
  const snapshot = { pairs, medianUs: median(us), p90Us: us[Math.floor(us.length * 0.9)] as number };
  o.log(`  generations: openSnapshot + release ${snapshot.medianUs.toFixed(0)} µs median, p90 ${snapshot.p90Us.toFixed(0)} µs`);
  await o.scratch.remove(snapParent);
  return {
    commit: { files: n, runs, inPlaceMs, generationsMs, ratio: generationsMs / inPlaceMs, inPlaceRunsMs: samples['in-place'], generationsRunsMs: samples.generations },
    small: { generationFiles: large, written: 10, runsMs: smallMs, medianMs, perUnchangedFileMs: medianMs / unchanged, collectMs, collectPerFileMs: collectMs / large },
    snapshot,
  };
}
