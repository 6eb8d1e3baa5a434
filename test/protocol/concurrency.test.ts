/**
 * Many writers in real child processes: every transaction all-or-nothing, the final state that of
 * the last committed transaction for every file, no commit lost, no deadlock, nothing left behind;
 * recovery running alongside never touches a live transaction; a stalled owner whose lock was
 * taken over fails with ECOMPROMISED instead of crashing or mixing targets.
 *
 * TXNFS_STRESS=1 (npm run test:stress) runs larger process and transaction counts.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recover } from '../../src/index.js';
import { jsonLines, run, start, waitFor } from '../helpers/child.js';
import { leftovers, tmpdir } from '../helpers/tmp.js';

const stress = process.env.TXNFS_STRESS === '1';

interface LogLine {
  readonly tag: string;
  readonly writes: string[];
  readonly removes: string[];
}
interface Outcome {
  readonly tag: string;
  readonly error?: string;
  readonly message?: string;
}

/** Start P writers on `root`; resolve with the commit log and every worker's outcomes. */
async function writers(root: string, p: number, t: number, files: number, setSize: number, durability: 'full' | 'none', seed: number) {
  // The commit log lives outside every root (a nested root's sibling file would be inside its parent root).
  const log = path.join(tmpdir('txnfs-log-'), 'commits.log');
  const runs = Array.from({ length: p }, (_, w) => run('concurrent-writer.mjs', [root, `w${w}`, String(t), String(files), String(setSize), log, durability, String(seed + w)]));
  const results = await Promise.all(runs);
  for (const r of results) expect(r.status, r.stderr).toBe(0);
  const outcomes = results.flatMap((r) => jsonLines<Outcome>(r.stdout));
  const lines = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as LogLine) : [];
  return { outcomes, lines };
}

/**
 * The checks every concurrent run must pass: each transaction resolved; the commit log holds each
 * exactly once (none lost, none invented); replaying the log in commit order gives exactly the
 * files on disk, each one whole; no staging dir, lock or tomb is left.
 */
function judge(root: string, outcomes: Outcome[], lines: LogLine[], expected: number, files: number): void {
  expect(outcomes.filter((o) => o.error !== undefined)).toEqual([]);
  expect(outcomes).toHaveLength(expected);
  expect(lines.map((l) => l.tag).sort()).toEqual(outcomes.map((o) => o.tag).sort());
  const state = new Map<string, string | undefined>();
  for (const l of lines) {
    for (const f of l.writes) state.set(f, l.tag);
    for (const f of l.removes) state.set(f, undefined);
  }
  for (let i = 0; i < files; i++) {
    const f = `f${String(i).padStart(2, '0')}`;
    const p = path.join(root, f);
    const want = state.get(f);
    if (want === undefined) {
      expect(fs.existsSync(p), `${f} should not exist`).toBe(false);
    } else {
      const got = JSON.parse(fs.readFileSync(p, 'utf8')) as { tag: string; file: string };
      expect({ file: f, tag: got.tag, named: got.file }).toEqual({ file: f, tag: want, named: f });
    }
  }
  expect(leftovers(root)).toEqual([]);
}

describe('P processes x T transactions on overlapping target sets in one root', () => {
  const p = stress ? 8 : 4;
  const t = stress ? 150 : 20;

  it(`${p} x ${t}, durability full: the final state is the last commit's for every file`, async () => {
    const root = path.join(tmpdir(), 'root');
    fs.mkdirSync(root);
    const { outcomes, lines } = await writers(root, p, t, 12, 4, 'full', 1);
    judge(root, outcomes, lines, p * t, 12);

    // The judge can fail: a file holding an older commit's data, or a commit missing from the log.
    const last = [...lines].reverse().find((l) => l.writes.length > 0) as LogLine;
    const older = lines.find((l) => l.tag !== last.tag) as LogLine;
    const victim = path.join(root, last.writes[0] as string);
    const kept = fs.readFileSync(victim);
    fs.writeFileSync(victim, JSON.stringify({ tag: older.tag, file: last.writes[0] }));
    expect(() => judge(root, outcomes, lines, p * t, 12)).toThrow();
    fs.writeFileSync(victim, kept);
    expect(() => judge(root, outcomes, lines.slice(1), p * t, 12)).toThrow();
    judge(root, outcomes, lines, p * t, 12);
  }, 120_000);

  it(`${p} x ${t + 10}, durability none, heavy overlap (6 of 8 files per transaction)`, async () => {
    const root = path.join(tmpdir(), 'root');
    fs.mkdirSync(root);
    const { outcomes, lines } = await writers(root, p, t + 10, 8, 6, 'none', 100);
    judge(root, outcomes, lines, p * (t + 10), 8);
  }, 120_000);
});

describe('separate roots do not interfere', () => {
  it('two sibling roots and a root nested inside another, all written at once', async () => {
    const base = tmpdir();
    const a = path.join(base, 'a');
    const b = path.join(base, 'b');
    const outer = path.join(base, 'outer');
    const inner = path.join(outer, 'inner');
    for (const d of [a, b, outer, inner]) fs.mkdirSync(d, { recursive: true });
    const t = stress ? 80 : 12;
    const results = await Promise.all([a, b, outer, inner].map((root, i) => writers(root, 2, t, 6, 3, 'none', 1000 * (i + 1))));
    [a, b, outer, inner].forEach((root, i) => {
      const r = results[i];
      if (r === undefined) throw new Error('missing result');
      judge(root, r.outcomes, r.lines, 2 * t, 6);
    });
    // The outer root's commits never touched the inner root's files or records, and vice versa:
    // the inner root holds only its own files (its .txnfs home is empty, checked by judge).
    expect(fs.readdirSync(inner).filter((n) => n !== '.txnfs').every((n) => /^f0[0-5]$/.test(n))).toBe(true);
    expect(fs.readdirSync(outer).filter((n) => n !== '.txnfs' && n !== 'inner').every((n) => /^f0[0-5]$/.test(n))).toBe(true);
  }, 120_000);
});

describe('recover() in a loop while others commit', () => {
  it('never touches a live transaction, even one that stages for longer than the stale time', async () => {
    const base = tmpdir();
    const root = path.join(base, 'root');
    fs.mkdirSync(root);
    const stop = path.join(base, 'stop');
    const stale = 2000; // proper-lockfile's minimum
    const recovering = start('recover-loop.mjs', [root, stop, String(stale)]);
    const slow = start('slow-stager.mjs', [root, String(stale), String(Math.round(stale * 1.6))]);
    const t = stress ? 60 : 15;
    const { outcomes, lines } = await writers(root, 3, t, 10, 3, 'none', 7);
    const slowResult = await slow.done;
    fs.writeFileSync(stop, '');
    const rec = await recovering.done;
    expect(slowResult.status, slowResult.stderr).toBe(0);
    expect(rec.status, rec.stderr).toBe(0);

    const [started, finished] = jsonLines<{ id: string; committed?: boolean; error?: string; chunks?: number }>(slowResult.stdout);
    expect(finished).toMatchObject({ id: started?.id, committed: true });
    const report = jsonLines<{ runs: number; acted: string[]; skipped: string[] }>(rec.stdout)[0];
    // Nobody died, so a correct recovery has nothing to do: any id here is a live transaction
    // that recovery touched.
    expect(report?.acted).toEqual([]);
    expect(report?.runs).toBeGreaterThan(2);
    // It did see the slow transaction (more than once, across its stale time) and left it alone.
    expect(report?.skipped).toContain(started?.id);

    const slowBody = fs.readFileSync(path.join(root, 'slow.bin'), 'utf8').trim().split('\n');
    expect(slowBody).toHaveLength(finished?.chunks ?? -1);
    expect(JSON.parse(fs.readFileSync(path.join(root, 'slow-meta.json'), 'utf8'))).toEqual({ id: started?.id });
    judge(root, outcomes, lines, 3 * t, 10);
  }, 120_000);
});

describe('a compromised lock: the owner stalls past the stale time while another process recovers', () => {
  const stale = 2000;
  // These tests run concurrently, and tmpdir()'s afterEach would remove the others' directories.
  let shared = '';
  beforeAll(() => {
    shared = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'txnfs-stall-')));
  });
  afterAll(() => fs.rmSync(shared, { recursive: true, force: true }));

  async function stalled(stallAt: 'staging' | 'locked' | 'committed') {
    const base = path.join(shared, stallAt);
    fs.mkdirSync(base);
    const root = path.join(base, 'root');
    const flags = path.join(base, 'flags');
    fs.mkdirSync(root);
    fs.mkdirSync(flags);
    fs.writeFileSync(path.join(root, 'a.txt'), 'old a');
    fs.writeFileSync(path.join(root, 'b.txt'), 'old b');
    const owner = start('stall-owner.mjs', [root, stallAt, flags, String(stale)]);
    await waitFor(() => fs.existsSync(path.join(flags, 'stalled')), 20_000, 'the owner to stall');
    // Recover from this process until the stalled transaction is dealt with (its lock goes stale
    // after `stale` ms; a root lock it holds is taken over the same way).
    const acted: string[] = [];
    const deadline = Date.now() + 20_000;
    while (acted.length === 0 && Date.now() < deadline) {
      const r = await recover(root, { lockStale: stale, lockTimeout: 20_000 });
      acted.push(...[...r.rolledForward, ...r.rolledBack, ...r.discarded].map((x) => x.id));
      if (acted.length === 0) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const midway = { a: fs.readFileSync(path.join(root, 'a.txt'), 'utf8'), b: fs.readFileSync(path.join(root, 'b.txt'), 'utf8') };
    fs.writeFileSync(path.join(flags, 'resume'), '');
    const result = await owner.done;
    const out = jsonLines<{ code?: string; committed?: boolean; alive?: boolean; message?: string }>(result.stdout);
    await recover(root, { lockStale: stale });
    const after = { a: fs.readFileSync(path.join(root, 'a.txt'), 'utf8'), b: fs.readFileSync(path.join(root, 'b.txt'), 'utf8') };
    return { result, out, acted, midway, after, root };
  }

  // Concurrent: each test mostly waits for a lock to go stale.
  it.concurrent.each(['staging', 'locked'] as const)('stalled at %s: the commit fails with ECOMPROMISED, the host survives, nothing changed', async (at) => {
    const { result, out, acted, midway, after, root } = await stalled(at);
    expect(acted).toHaveLength(1); // recovery discarded the stalled transaction
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    expect(out[0]).toMatchObject({ code: 'ECOMPROMISED' });
    expect(out[0]?.message).toMatch(/taken over by another process/);
    expect(out[1]).toEqual({ alive: true });
    expect(midway).toEqual({ a: 'old a', b: 'old b' });
    expect(after).toEqual({ a: 'old a', b: 'old b' });
    expect(leftovers(root)).toEqual([]);
  }, 60_000);

  it.concurrent('stalled just after its commit point: recovery rolls it forward, the host survives, all new', async () => {
    const { result, out, acted, midway, after, root } = await stalled('committed');
    expect(acted).toHaveLength(1);
    expect(result.status, result.stderr).toBe(0);
    expect(midway).toEqual({ a: 'new a', b: 'new b' }); // recovery finished the commit for it
    expect(after).toEqual({ a: 'new a', b: 'new b' });
    // Past its commit point the transaction did happen, so the owner must not claim that nothing
    // changed (ECOMPROMISED) nor that records remain for a person: it says recovery took it over.
    expect(out[0]).toMatchObject({ code: 'EINCOMPLETE', message: expect.stringMatching(/passed its commit point.*another process took the transaction over/) });
    expect(out[1]).toEqual({ alive: true });
    expect(leftovers(root)).toEqual([]);
  }, 60_000);
});
