/**
 * No writer starves (issue 14): 4 processes commit one-file transactions to one root at once, and
 * while any commit waits for the root lock, no other writer takes the lock more than a few times
 * (bounded bypass). Counted, not timed: each child (test/fixtures/commit-timed.mjs) records on the
 * shared wall clock when each commit asked for the root lock (step 'staged') and when it held it
 * (step 'locked'); a commit is passed over by every lock taken in between by another writer.
 *
 * Why it holds (docs/protocol.md, Locks): a waiter that finds only later arrivals beside it keeps
 * its entry and takes a released lock at once (lock/adapter.ts, `keep`); one that steps back is
 * woken by the leaving of an entry it saw (lock/wait.ts), not by its backoff timer, and retries
 * against whoever is there. Measured here (4 × 60 commits, durability 'full', 2026-12-06): a
 * commit was passed over by one other writer at most 2-4 times and by all of them at most 3-7
 * times (some thirty runs), also with two busy loops on this machine's two cores and the power-loss
 * tests beside it. Without the watch's wake (the
 * `nowatch` run below; as for a lock released on another host of a network filesystem, whose
 * changes inotify does not see) waiters sleep out their backoff: 16-35 times by one writer and
 * 29-51 by all on an idle machine, 6-16 and 14-29 beside the two busy loops (commits are slower
 * there, so fewer fit in one backoff), which is what the bound is there to catch. The bounds sit
 * between the two.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { start } from '../../helpers/child.js';
import { leftovers, tmpdir } from '../../helpers/tmp.js';

const WRITERS = 4;
const COMMITS = 60;
/** The most times one other writer may take the lock while a commit waits. */
const BYPASS_BY_ONE = 6;
/** The most times all the others together may. */
const BYPASS_BY_ALL = 12;

interface Commit {
  readonly w: string;
  readonly staged: number;
  readonly locked: number;
}

/** Run the writers on a fresh root; every commit's times, and the errors of all. */
async function race(flag?: 'nowatch'): Promise<{ commits: Commit[]; errors: string[]; root: string }> {
  const root = tmpdir();
  const writers = Array.from({ length: WRITERS }, (_, i) => start('commit-timed.mjs', [root, `w${i}`, String(COMMITS), 'full', ...(flag === undefined ? [] : [flag])]));
  await Promise.all(writers.map((w) => w.output('READY')));
  fs.writeFileSync(path.join(root, 'GO'), '');
  const commits: Commit[] = [];
  const errors: string[] = [];
  for (const w of writers) {
    const r = await w.done;
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.split('\n').find((l) => l.startsWith('{')) ?? '{}') as { name: string; commits: { staged: number; locked: number }[]; errors: string[] };
    errors.push(...out.errors);
    for (const c of out.commits) commits.push({ w: out.name, staged: c.staged, locked: c.locked });
  }
  return { commits, errors, root };
}

/** The most times a commit was passed over: by any one other writer, and by all of them. */
function bypass(commits: readonly Commit[]): { byOne: number; byAll: number } {
  let byOne = 0;
  let byAll = 0;
  for (const c of commits) {
    const passed = new Map<string, number>();
    for (const d of commits) if (d.w !== c.w && d.locked > c.staged && d.locked < c.locked) passed.set(d.w, (passed.get(d.w) ?? 0) + 1);
    byOne = Math.max(byOne, ...passed.values());
    byAll = Math.max(byAll, [...passed.values()].reduce((a, b) => a + b, 0));
  }
  return { byOne, byAll };
}

describe(`${WRITERS} processes × ${COMMITS} one-file commits on one root`, () => {
  it('every commit resolves, and no writer is passed over more than a few times while it waits', async () => {
    const { commits, errors, root } = await race();
    expect(errors).toEqual([]);
    expect(commits).toHaveLength(WRITERS * COMMITS);
    // Every commit recorded both steps, in order: the counting below sees each one.
    for (const c of commits) expect(c.locked).toBeGreaterThan(c.staged);
    const b = bypass(commits);
    console.log(`fairness | ${WRITERS} × ${COMMITS} | passed over by one writer at most ${b.byOne}, by all at most ${b.byAll}`);
    expect(b.byOne).toBeLessThanOrEqual(BYPASS_BY_ONE);
    expect(b.byAll).toBeLessThanOrEqual(BYPASS_BY_ALL);
    expect(leftovers(root).filter((n) => n !== 'GO')).toEqual([]);
  }, 120_000);

  it('the bound fails where waiters are not woken by the release (no watch: backoff timers only)', async () => {
    // The check above can fail: the same race with every watch failing (fixture flag `nowatch`)
    // still resolves every commit, but waiters wake only by their timers and are passed over far
    // more often.
    const { commits, errors } = await race('nowatch');
    expect(errors).toEqual([]);
    expect(commits).toHaveLength(WRITERS * COMMITS);
    const b = bypass(commits);
    console.log(`fairness | ${WRITERS} × ${COMMITS} without watches | passed over by one writer at most ${b.byOne}, by all at most ${b.byAll}`);
    expect(b.byOne > BYPASS_BY_ONE || b.byAll > BYPASS_BY_ALL).toBe(true);
  }, 120_000);
});
