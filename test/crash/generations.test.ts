/**
 * The crash harness for the generations layout (docs/snapshots.md):
 *  - kill loop: a child process commits and SIGKILLs itself before its k-th mutating filesystem
 *    operation, for every k (plain-directory conversion too); this process recovers and checks
 *    that the pointer names a complete generation, old or new (new once acknowledged), and that
 *    nothing is left behind (generations.ts);
 *  - I/O-error loop: the same commit in process, an errno injected at operation k, for every k;
 *  - readers at every operation: at each mutating operation of a commit, a reader that resolves
 *    the pointer once must read a complete old or new generation.
 * Each loop is shown to catch a deliberate protocol bug (a mutation).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { begin, codes, isTxnError, recover } from '../../src/index.js';
import { faults, type Mutation } from '../../src/io/faults.js';
import { errnoError } from '../helpers/errno.mjs';
import { runChild } from './child.js';
import { age, ownerlessLocks } from './check.js';
import { afterState, beforeState, genOps, homeOfPointer, judge, seed, type GenOutcome } from './generations.js';
import { readTree } from './workloads.js';
import { pool } from './kill-loop.js';
import { loopScratch } from './scratch.js';
import { Tally } from './summary.js';
import { writeOpsFile } from './child.js';

const tally = new Tally('generations crash loops');
const scratchRoot = loopScratch('txnfs-gen-', tally);
/** A fresh directory inside the loop's scratch dir, one per test. */
const scratchOf = (): string => fs.mkdtempSync(path.join(scratchRoot(), 't-'));

afterEach(() => {
  faults.hook = undefined;
  faults.mutations.clear();
});

/**
 * recover() until done. A lock or tomb without an owner record (a crash or an error between
 * proper-lockfile's mkdir and its owner file, or during a release) cannot be told from one being
 * taken this instant except by its age: as the in-place loops do, age those by lockStale and
 * recover again instead of sleeping.
 */
async function recoverFully(out: string): Promise<string[]> {
  const home = homeOfPointer(out);
  const once = async (): Promise<string | undefined> => {
    try {
      const r = await recover(out, { lockTimeout: 100 });
      const stuck = [...r.failed, ...r.corrupt, ...r.skipped];
      return stuck.length === 0 ? undefined : `recover() left transactions unresolved: ${JSON.stringify(stuck)}`;
    } catch (err) {
      return `recover() rejected: ${(err as Error).message}`;
    }
  };
  let problem = await once();
  const ownerless = fs.existsSync(path.join(home, '.txnfs')) ? ownerlessLocks(home) : [];
  if (ownerless.length > 0) {
    age(home, ownerless, 20_000);
    problem = await once();
  }
  return problem === undefined ? [] : [problem];
}

interface LoopResult {
  readonly points: number;
  readonly outcomes: Record<GenOutcome, number>;
  readonly violations: string[];
}

async function killLoop(o: { plain: boolean; mutations?: readonly Mutation[]; stopAtFirst?: boolean }): Promise<LoopResult> {
  const scratch = scratchOf();
  const opsFile = path.join(scratch, 'ops.json');
  writeOpsFile(opsFile, genOps());
  const fresh = async (name: string): Promise<string> => {
    const parent = path.join(scratch, name);
    fs.mkdirSync(parent);
    const out = path.join(parent, 'out');
    await seed(out, o.plain);
    return out;
  };
  const job = (out: string, k?: number) => ({ mode: 'commit' as const, root: out, opsFile, begin: { layout: 'generations' }, ...(k === undefined ? {} : { kill: { op: k } }) });
  const traceOut = await fresh('trace');
  const trace = await runChild({ ...job(traceOut), trace: true }, { dir: scratch, mutations: o.mutations });
  expect(trace.acks, trace.stderr).toHaveLength(1);
  const total = trace.ops.length;
  expect(total).toBeGreaterThan(10);
  const outcomes: Record<GenOutcome, number> = { old: 0, new: 0, broken: 0 };
  const violations: string[] = [];
  const ks = Array.from({ length: total + 1 }, (_, i) => i + 1);
  let stop = false;
  await pool(ks, 2, async (k) => {
    if (stop) return;
    const out = await fresh(`k${k}`);
    const r = await runChild(job(out, k), { dir: scratch, mutations: o.mutations });
    const problems = await recoverFully(out);
    const v = judge(out, r.acks.length > 0);
    outcomes[v.outcome]++;
    const all = [...problems, ...v.problems];
    if (k === total + 1 && r.acks.length === 0) all.push(`the commit did not complete without a kill: ${r.stderr}`);
    if (all.length > 0) {
      violations.push(`k=${k} (${trace.ops[k - 1]?.op ?? 'end'} ${trace.ops[k - 1]?.path ?? ''}): ${all.join('; ')}`);
      if (o.stopAtFirst === true) stop = true;
    }
    fs.rmSync(path.dirname(out), { recursive: true, force: true });
  });
  tally.crashPoints += ks.length;
  tally.violations += o.mutations === undefined ? violations.length : 0;
  return { points: ks.length, outcomes, violations };
}

describe('generations: kill loop (SIGKILL before every mutating operation, then recover())', () => {
  it('commit on top of a generation: the pointer always names a complete old or new generation', async () => {
    const r = await killLoop({ plain: false });
    expect(r.violations).toEqual([]);
    expect(r.outcomes.old).toBeGreaterThan(0);
    expect(r.outcomes.new).toBeGreaterThan(0);
  }, 240_000);

  it('conversion of a plain directory: old (still plain) or new, never lost', async () => {
    const r = await killLoop({ plain: true });
    expect(r.violations).toEqual([]);
    expect(r.outcomes.old).toBeGreaterThan(0);
    expect(r.outcomes.new).toBeGreaterThan(0);
  }, 240_000);

  it('catches a pointer swapped before the generation is complete (mutation gen-swap-before-build)', async () => {
    const r = await killLoop({ plain: false, mutations: ['gen-swap-before-build'], stopAtFirst: true });
    expect(r.violations.length).toBeGreaterThan(0);
    expect(r.violations[0]).toMatch(/neither old nor new/);
  }, 240_000);
});

async function commitWorkload(out: string): Promise<number | undefined> {
  const tx = begin({ dir: out, layout: 'generations', durability: 'none' });
  for (const o of genOps()) {
    if (o.op === 'write') tx.write(o.path, o.data);
    else tx.remove(o.path);
  }
  return (await tx.commit()).generation;
}

describe('generations: I/O-error loop (an errno at every mutating operation, in process)', () => {
  for (const code of ['EIO', 'ENOSPC'] as const) {
    it(`${code}: rejects with nothing published, or resolves; recover() leaves old or new, clean`, async () => {
      const scratch = scratchOf();
      // Count the mutating operations of a clean commit.
      let total = 0;
      {
        const out = path.join(scratch, 'clean', 'out');
        fs.mkdirSync(path.dirname(out));
        await seed(out, false);
        faults.hook = (e) => {
          if (e.kind === 'op' && e.mutating) total++;
        };
        await commitWorkload(out);
        faults.hook = undefined;
      }
      const violations: string[] = [];
      for (let k = 1; k <= total + 1; k++) {
        const out = path.join(scratch, `k${k}`, 'out');
        fs.mkdirSync(path.dirname(out));
        await seed(out, false);
        let n = 0;
        let fired = false;
        faults.hook = (e) => {
          if (e.kind !== 'op' || !e.mutating) return;
          if (++n === k) {
            fired = true;
            throw errnoError(code, e.op, e.path);
          }
        };
        let resolved = false;
        let err: unknown;
        try {
          await commitWorkload(out);
          resolved = true;
        } catch (e) {
          err = e;
        }
        faults.hook = undefined;
        if (!resolved && !isTxnError(err)) violations.push(`k=${k}: rejected with a non-TxnError ${String(err)}`);
        // Right away, before any recovery: a reader resolving the pointer sees old or new.
        const now = judgeNow(out);
        if (now === 'broken') violations.push(`k=${k}: the pointer names a broken generation before recovery`);
        if (resolved && now !== 'new') violations.push(`k=${k}: resolved but the state is ${now}`);
        if (!resolved && isTxnError(err) && err.code !== codes.EINCOMPLETE && now !== 'old') violations.push(`k=${k}: rejected ${err.code} ("nothing changed") but the state is ${now}`);
        const problems = await recoverFully(out);
        const v = judge(out, resolved);
        violations.push(...[...problems, ...v.problems].map((p) => `k=${k}: ${p}`));
        if (k === total + 1 && fired) violations.push('the clean run had more operations than counted');
        fs.rmSync(path.dirname(out), { recursive: true, force: true });
      }
      tally.crashPoints += total + 1;
      tally.violations += violations.length;
      expect(violations).toEqual([]);
    }, 240_000);
  }
});

/** What a reader resolving the pointer once reads now. */
function judgeNow(out: string): GenOutcome {
  let real: string;
  try {
    real = fs.realpathSync(out);
  } catch {
    return 'broken';
  }
  const files = readTree(real);
  files.delete('.txnfs');
  const eq = (m: ReadonlyMap<string, Buffer>) => files.size === m.size && [...m].every(([k, v]) => files.get(k)?.equals(v) === true);
  return eq(afterState()) ? 'new' : eq(beforeState()) ? 'old' : 'broken';
}

describe('generations: a reader at every operation of a commit', () => {
  const readersAtEveryOp = async (plain: boolean, mutations: readonly Mutation[] = []): Promise<{ seen: Record<string, number>; bad: string[] }> => {
    const out = path.join(scratchOf(), 'out');
    await seed(out, plain);
    for (const m of mutations) faults.mutations.add(m);
    const seen: Record<string, number> = { old: 0, new: 0, broken: 0, missing: 0 };
    const bad: string[] = [];
    faults.hook = (e) => {
      if (e.kind !== 'op' || !e.mutating) return;
      // Synchronous, before the operation runs: the state any reader could meet at this instant.
      if (!fs.existsSync(out)) {
        seen.missing = (seen.missing ?? 0) + 1; // the conversion's window (docs/snapshots.md)
        return;
      }
      const v = judgeNow(out);
      seen[v] = (seen[v] ?? 0) + 1;
      if (v === 'broken') bad.push(`${e.op} ${e.path}`);
    };
    await commitWorkload(out);
    faults.hook = undefined;
    expect(judgeNow(out)).toBe(mutations.length === 0 ? 'new' : judgeNow(out));
    return { seen, bad };
  };

  it('on top of a generation: always a complete old or new generation, never a mix', async () => {
    const { seen, bad } = await readersAtEveryOp(false);
    expect(bad).toEqual([]);
    expect(seen.old).toBeGreaterThan(10);
    expect(seen.new).toBeGreaterThan(0); // the collection after the swap
    expect(seen.missing).toBe(0);
  });

  it('during a conversion: old or new, and the pointer missing for exactly one operation', async () => {
    const { seen, bad } = await readersAtEveryOp(true);
    expect(bad).toEqual([]);
    // Between renaming the plain directory away and renaming the pointer in: one rename.
    expect(seen.missing).toBe(1);
  });

  it('catches a pointer swapped before the build is complete (mutation gen-swap-before-build)', async () => {
    const { bad } = await readersAtEveryOp(false, ['gen-swap-before-build']);
    expect(bad.length).toBeGreaterThan(0);
  });
});
