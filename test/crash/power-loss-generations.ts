/**
 * power-loss-generations.ts: the power-loss model (power-loss.ts, model-fs.ts, crash-states.ts)
 * applied to the generations layout.
 *
 * The model starts from a durable generation 1 (test/crash/generations.ts's old state) behind a
 * pointer; the workload's transaction commits generation 2 on the model; then, at every point of
 * its trace, every crash state the model allows (which non-durable directory changes survived, and
 * for each non-durable file that recovery reads or that ends up in the current generation, each
 * way its content may come back) is rebooted and recovered, and:
 *   - the pointer names a complete generation whose files are exactly the old or the new state;
 *   - once commit() resolved (durability 'full'), it is the new state;
 *   - nothing is left in the txnfs home, no generation beyond the current and the previous one.
 * Simpler than power-loss.ts: no nested recovery crashes, no 'next-commit' variant.
 */
import { begin, recover } from '../../src/index.js';
import { useFsImpl } from '../../src/io/fs.js';
import { faults } from '../../src/io/faults.js';
import { mutationLayer, type Mutation } from '../helpers/mutations.mjs';
import { allVariants, CrashPoint, crashPoints, eachContent, fingerprint, type Structure } from './crash-states.js';
import { ModelFs, nodeAt, SnapshotBuilder, type NodeImage, type Rec, type Snapshot } from './model-fs.js';
import { rebooted } from './power-loss.js';
import { afterState, beforeState, genOps } from './generations.js';
import { same } from './workloads.js';

const PARENT = '/model/parent';
const OUT = `${PARENT}/out`;
const HOME = `${PARENT}/.out.txnfs`;

function startImage(): Snapshot {
  const b = new SnapshotBuilder().dir(`${HOME}/.txnfs`).symlink(OUT, '.out.txnfs/gen-1');
  for (const [rel, data] of beforeState()) b.file(`${HOME}/gen-1/${rel}`, data);
  return b.build();
}

function filesOf(s: Snapshot, dir: NodeImage): { files: Map<string, Buffer>; ids: Set<number> } {
  const files = new Map<string, Buffer>();
  const ids = new Set<number>();
  const walk = (n: NodeImage, rel: string): void => {
    for (const [name, id] of n.entries) {
      const r = rel === '' ? name : `${rel}/${name}`;
      const c = s.nodes.get(id) as NodeImage;
      if (c.kind === 'dir') walk(c, r);
      else {
        files.set(r, c.data);
        ids.add(c.id);
      }
    }
  };
  walk(dir, '');
  return { files, ids };
}

async function withModel<T>(m: ModelFs, mutation: Mutation | undefined, fn: () => Promise<T>): Promise<T> {
  // The mutation's filters (test/helpers/mutations.mjs) sit around the model and the hook.
  const layer = mutationLayer(mutation === undefined ? [] : [mutation]);
  const prev = useFsImpl(layer.impl(m));
  faults.hook = layer.hook((e) => {
    if (e.kind === 'step') m.step(e.name);
  });
  for (const x of layer.library) faults.mutations.add(x);
  try {
    return await fn();
  } finally {
    faults.hook = undefined;
    for (const x of layer.library) faults.mutations.delete(x);
    useFsImpl(prev);
  }
}

interface Outcome {
  readonly verdict: string;
  readonly problems: string[];
  readonly observed: ReadonlySet<number>;
  readonly visible: ReadonlySet<number>;
}

async function recoverImage(image: Snapshot, mutation: Mutation | undefined): Promise<Outcome> {
  const m = new ModelFs(rebooted(image));
  const problems: string[] = [];
  await withModel(m, mutation, async () => {
    try {
      const r = await recover(OUT, { lockTimeout: 0 });
      if (r.skipped.length + r.failed.length + r.corrupt.length > 0) problems.push(`recover() left work: ${JSON.stringify([r.skipped, r.failed, r.corrupt])}`);
    } catch (err) {
      problems.push(`recover() threw: ${(err as Error).message}`);
    }
  });
  const s = m.snapshot();
  const home = nodeAt(s, `${HOME}/.txnfs`);
  if (home !== undefined && home.entries.size > 0) problems.push(`not clean: .txnfs holds ${[...home.entries.keys()].join(', ')}`);
  const ptr = nodeAt(s, OUT);
  let verdict = 'broken';
  let visible = new Set<number>();
  if (ptr?.kind !== 'symlink') verdict = `the pointer is ${ptr === undefined ? 'missing' : `a ${ptr.kind}`}`;
  else {
    const m2 = /^\.out\.txnfs\/gen-(\d+)$/.exec(ptr.target);
    const gen = m2 === null ? undefined : nodeAt(s, `${HOME}/gen-${m2[1]}`);
    if (m2 === null || gen === undefined) verdict = `the pointer names '${ptr.target}', which does not exist`;
    else {
      const { files, ids } = filesOf(s, gen);
      visible = ids;
      verdict = same(files, afterState()) ? 'new' : same(files, beforeState()) ? 'old' : `generation ${m2[1]} is neither old nor new (${[...files.keys()].join(',')})`;
      const n = Number(m2[1]);
      const gens = [...(nodeAt(s, HOME)?.entries.keys() ?? [])].filter((x) => x.startsWith('gen-')).map((x) => Number(x.slice(4)));
      for (const g of gens) if (g !== n && g !== n - 1) problems.push(`generation ${g} left (current ${n})`);
    }
  }
  return { verdict, problems, observed: m.observed, visible };
}

export interface GenPowerLossResult {
  readonly crashPoints: number;
  readonly states: number;
  readonly runs: number;
  readonly violations: string[];
  /** States explored after commit() resolved (where "acknowledged = new" is checked). */
  readonly afterResolved: number;
}

export async function exploreGenerations(options: { mutation?: Mutation; maxStructures?: number; stopAtFirst?: boolean } = {}): Promise<GenPowerLossResult> {
  const start = startImage();
  const model = new ModelFs(start);
  const resolvedAt = await withModel(model, options.mutation, async () => {
    const tx = begin({ dir: OUT, layout: 'generations' });
    for (const o of genOps()) {
      if (o.op === 'write') void tx.write(o.path, o.data);
      else tx.remove(o.path);
    }
    const r = await tx.commit();
    if (r.generation !== 2) throw new Error(`the recorded commit published generation ${r.generation}`);
    return model.log.length;
  });
  const log: readonly Rec[] = model.log;
  const cache = new Map<string, Outcome>();
  const violations: string[] = [];
  let states = 0;
  let runs = 0;
  const points = crashPoints(log);
  // The log may end with protocol steps (no state change): a crash at the last point that changes
  // anything is a crash after commit() resolved.
  const resolvedPoint = Math.max(...points.filter((p) => p <= resolvedAt));
  let afterResolved = 0;
  for (const k of points) {
    if (options.stopAtFirst === true && violations.length > 0) break;
    const point = new CrashPoint(start, log, k, 'prefix', allVariants);
    let structures: Structure[] = [...point.structures()];
    if (options.maxStructures !== undefined && structures.length > options.maxStructures) {
      // Always the two extremes (everything lost, nothing lost), then evenly spread.
      const n = options.maxStructures;
      structures = Array.from({ length: n }, (_, i) => structures[Math.round((i * (structures.length - 1)) / (n - 1))] as Structure);
    }
    for (const s of structures) {
      await eachContent(point, s, async (img) => {
        const key = fingerprint(img.snapshot);
        let out = cache.get(key);
        if (out === undefined) {
          out = await recoverImage(img.snapshot, options.mutation);
          cache.set(key, out);
          runs++;
        }
        return out;
      }, (_img, out) => {
        states++;
        const problems = [...out.problems];
        if (out.verdict !== 'old' && out.verdict !== 'new') problems.push(out.verdict);
        else if (k >= resolvedPoint && out.verdict !== 'new') problems.push('lost a commit: old after commit() resolved');
        if (k >= resolvedPoint) afterResolved++;
        if (problems.length > 0) violations.push(`@${k} (after: ${k === 0 ? 'start' : (log[k - 1] as Rec).what}): ${problems.join(' | ')}`);
      });
    }
  }
  return { crashPoints: points.length, states, runs, violations, afterResolved };
}
