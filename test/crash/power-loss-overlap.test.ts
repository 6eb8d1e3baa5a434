/**
 * Power loss across two commits that overlap on disk (src/transaction/committer.ts, concludeEarly):
 * a one-file commit A releases the root lock right after its rename and makes the rename durable
 * afterwards, so the next commit B plans, reaches its commit point and applies while A's rename
 * may still be lost to a power loss. Here A's two fsyncs are held until B's commit point is
 * durable (the widest such window), and the run is crashed at every point and in every way the
 * model allows (as power-loss.ts does for one commit), recovered, and judged:
 *   - each commit all-or-nothing: the root is before both, A alone, or A then B; never a part of
 *     B (the mix a lost A would make: B's journal names A's file as the original, so rolling B
 *     forward over the older file supersedes that entry and applies the others);
 *   - B's commit point holds: from B's durable journal on, the root is A then B;
 *   - A and B each durable once resolved;
 *   - recovery clean (nothing left in .txnfs, nothing reported corrupt, failed or live).
 * B relies on A's file three ways: it replaces it (journaled), only reads it (a precondition, its
 * one written file elsewhere), or replaces it by a one-file commit of its own. The mutation
 * 'skip-fsync-relied-on' (B does not fsync what it relied on before its commit point) is caught.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { begin, recover, type RecoverReport } from '../../src/index.js';
import type { FaultEvent } from '../../src/io/faults.js';
import type { Mutation } from '../helpers/mutations.mjs';
import { allVariants, CrashPoint, crashPoints, eachContent, fingerprint } from './crash-states.js';
import { ModelFs, nodeAt, SnapshotBuilder, type Rec, type Snapshot } from './model-fs.js';
import { assertNoLockHeld, MODEL_ROOT, rebooted, viewRoot, withModel } from './power-loss.js';

type Who = 'A' | 'B';
const who = new AsyncLocalStorage<Who>();

interface Scenario {
  readonly name: string;
  /** B's operations: what it writes, and the file its precondition reads, if any. */
  readonly b: { readonly writes: Readonly<Record<string, string>>; readonly reads?: string };
}

const OLD = 'a0';
const A = 'aA';

const scenarios: Scenario[] = [
  { name: 'B replaces A\'s file and writes another (journaled)', b: { writes: { 'a.txt': 'aB', 'b.txt': 'bB' } } },
  // In another directory than A's: a rename into A's own directory after A's is durable only
  // with A's, and would need nothing more.
  { name: 'B reads A\'s file (a precondition) and writes one in another directory (one file)', b: { writes: { 'sub/b.txt': 'bB' }, reads: 'a.txt' } },
  { name: 'B reads A\'s file (a precondition) and writes two others (journaled)', b: { writes: { 'b.txt': 'bB', 'c.txt': 'cB' }, reads: 'a.txt' } },
  { name: 'B replaces A\'s file by a one-file commit', b: { writes: { 'a.txt': 'aB' } } },
];

/** The three states the root may be in: before both, A alone, A then B. */
function states(s: Scenario): Record<'O' | 'A' | 'AB', Map<string, string>> {
  const o = new Map([['a.txt', OLD]]);
  const a = new Map([['a.txt', A]]);
  const ab = new Map(a);
  for (const [k, v] of Object.entries(s.b.writes)) ab.set(k, v);
  return { O: o, A: a, AB: ab };
}

interface Recorded {
  readonly model: ModelFs;
  readonly start: Snapshot;
  readonly aResolved: number;
  readonly bResolved: number;
  readonly bCommitted: number;
}

/** Run A and B on a model, A's fsyncs after its rename held until B's commit point is durable. */
async function record(s: Scenario, mutation: Mutation | undefined): Promise<Recorded> {
  // The home is there already (durably), as in a root in use: so no fsync B makes before its
  // commit point is owed to a home made by A, and the mutation below removes only what B relied on.
  const me = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
  const start = new SnapshotBuilder().dir(MODEL_ROOT).dir(`${MODEL_ROOT}/.txnfs`).dir(`${MODEL_ROOT}/sub`).file(`${MODEL_ROOT}/a.txt`, OLD, { mode: 0o644, ...me }).build();
  const model = new ModelFs(start);
  let release!: () => void;
  const bCommitted = new Promise<void>((resolve) => {
    release = resolve;
  });
  let renamed = false;
  let held = 0;
  let stuck = false;
  const onEvent = (e: FaultEvent): void => {
    if (e.kind === 'step' && e.name === 'committed' && who.getStore() === 'B') release();
    if (e.kind === 'op' && e.op === 'rename' && who.getStore() === 'A') renamed = true;
  };
  // A's directory fsyncs after its rename wait for B's commit point (the model records them when
  // they run, so the trace has B's whole commit before them).
  const view = new Proxy(model, {
    get(target, key) {
      if (key === 'syncDir') {
        return async (p: string): Promise<void> => {
          if (who.getStore() === 'A' && renamed) {
            held++;
            // A commit that kept the root lock through these fsyncs would keep B waiting for ever.
            await Promise.race([bCommitted, new Promise((r) => setTimeout(r, 3_000)).then(() => void (stuck = true))]);
          }
          return target.syncDir(p);
        };
      }
      const v = Reflect.get(target, key, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  let aResolved = -1;
  let bResolved = -1;
  await withModel(
    view,
    mutation,
    async () => {
      const ta = begin({ dir: MODEL_ROOT });
      const tb = begin({ dir: MODEL_ROOT });
      // A first: it stages its lone file and takes the root lock before B asks for it.
      const a = who.run('A', async () => {
        ta.write('a.txt', A);
        await ta.commit();
        aResolved = model.log.length;
      });
      await new Promise((r) => setImmediate(r));
      const b = who.run('B', async () => {
        if (s.b.reads !== undefined) {
          // B read A's file once A's rename made it visible: expect() it unchanged at commit.
          tb.expect(s.b.reads, { exists: true, sha256: createHash('sha256').update(A).digest('hex') });
        }
        for (const [k, v] of Object.entries(s.b.writes)) tb.write(k, v);
        await tb.commit();
        bResolved = model.log.length;
      });
      await Promise.all([a, b]);
    },
    onEvent,
  );
  expect(held, 'A fsynced its rename while B ran (the window this test needs)').toBeGreaterThan(0);
  expect(stuck, "B could not reach its commit point while A's fsyncs waited: A held the root lock through them").toBe(false);
  const committed = model.log.findIndex((r) => r.t === 'step' && r.name === 'committed');
  return { model, start, aResolved, bResolved, bCommitted: committed + 1 };
}

interface Outcome {
  readonly verdict: 'O' | 'A' | 'AB' | string;
  readonly problems: string[];
  readonly observed: ReadonlySet<number>;
  readonly visible: ReadonlySet<number>;
}

async function recoverImage(s: Scenario, image: Snapshot): Promise<Outcome> {
  const m = new ModelFs(rebooted(image));
  const problems: string[] = [];
  await withModel(m, undefined, async () => {
    let report: RecoverReport;
    try {
      report = await recover(MODEL_ROOT, { lockTimeout: 0 });
    } catch (err) {
      problems.push(`recover() threw: ${(err as Error).message}`);
      return;
    }
    if (report.corrupt.length > 0) problems.push(`corrupt: ${report.corrupt.map((c) => c.reason).join('; ')}`);
    if (report.failed.length > 0) problems.push(`failed: ${report.failed.map((c) => c.reason).join('; ')}`);
    if (report.skipped.length > 0) problems.push(`judged live: ${report.skipped.map((c) => c.id).join(', ')}`);
  });
  const after = m.snapshot();
  const home = nodeAt(after, `${MODEL_ROOT}/.txnfs`);
  if (home !== undefined && home.entries.size > 0) problems.push(`not clean: .txnfs holds ${[...home.entries.keys()].join(', ')}`);
  const v = viewRoot(after);
  const got = new Map([...v.files].map(([k, d]) => [k, d.toString()]));
  const all = states(s);
  const same = (x: Map<string, string>): boolean => x.size === got.size && [...x].every(([k, d]) => got.get(k) === d);
  const verdict = (['O', 'A', 'AB'] as const).find((k) => same(all[k])) ?? `a mix: ${JSON.stringify([...got])}`;
  return { verdict, problems, observed: m.observed, visible: v.ids };
}

async function explore(s: Scenario, mutation?: Mutation, stopAtFirst = false): Promise<{ violations: string[]; points: number; states: number }> {
  const r = await record(s, mutation);
  assertNoLockHeld('after the recorded commits');
  const log: readonly Rec[] = r.model.log;
  // Both commits done: A then B in place.
  expect(viewRoot(r.model.snapshot()).files.get('a.txt')?.toString()).toBe(s.b.writes['a.txt'] ?? A);
  expect(r.bCommitted).toBeGreaterThan(0);
  expect(r.bCommitted).toBeLessThan(r.aResolved);
  const cache = new Map<string, Outcome>();
  const violations: string[] = [];
  let covered = 0;
  const points = crashPoints(log);
  for (const k of points) {
    if (stopAtFirst && violations.length > 0) break;
    const point = new CrashPoint(r.start, log, k, 'prefix', allVariants);
    const wanted = k >= r.bCommitted || k >= r.bResolved ? ['AB'] : k >= r.aResolved ? ['A', 'AB'] : ['O', 'A', 'AB'];
    for (const st of point.structures()) {
      await eachContent(
        point,
        st,
        async (img) => {
          const key = fingerprint(img.snapshot);
          let out = cache.get(key);
          if (out === undefined) {
            out = await recoverImage(s, img.snapshot);
            cache.set(key, out);
          }
          return out;
        },
        (_img, out) => {
          covered++;
          const bad = [...out.problems];
          if (!wanted.includes(out.verdict)) bad.push(`${out.verdict} where ${wanted.join(' or ')} is required`);
          if (bad.length > 0) violations.push(`crash @${k} (after: ${k === 0 ? 'start' : (log[k - 1] as Rec).what}): ${bad.join(' | ')}`);
        },
        () => stopAtFirst && violations.length > 0,
      );
    }
  }
  assertNoLockHeld('after the last recovery');
  return { violations, points: points.length, states: covered };
}

describe('power loss while a one-file commit\'s rename is not yet durable and the next commit runs', () => {
  for (const s of scenarios) {
    it(s.name, async () => {
      const r = await explore(s);
      console.log(`power-loss overlap | ${s.name} | crash points ${r.points} | states ${r.states} | violations ${r.violations.length}`);
      expect(r.violations.slice(0, 5)).toEqual([]);
      expect(r.points).toBeGreaterThan(20);
    });
  }

  // Where B's own rename or journal does not cover A's directory (it writes elsewhere, or records
  // A's file as the original to replace), only the fsync of what B relied on keeps B from
  // outliving A. Replacing A's file by a one-file commit needs none: B's rename in the same
  // directory is durable only with A's before it.
  for (const s of scenarios.slice(0, 3)) {
    it(`skip-fsync-relied-on is caught (${s.name})`, async () => {
      const r = await explore(s, 'skip-fsync-relied-on', true);
      console.log(`power-loss overlap [skip-fsync-relied-on] | ${s.name} | caught: ${r.violations[0]}`);
      expect(r.violations.length).toBeGreaterThan(0);
      expect(r.violations[0]).toContain('a mix');
    });
  }
});
