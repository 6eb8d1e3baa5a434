/**
 * Random soak (soak.ts): writer processes committing over shared targets, SIGKILLed at random
 * moments, recover() beside them, recovery and a check after every round.
 *
 * In `npm test` it runs for a few seconds (TXNFS_SOAK_SECONDS, default 4). `npm run test:soak`
 * runs it for TXNFS_SOAK_SECONDS (default 300) together with the full kill and error loops.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { judgeRound, seedRoot, soak, SOAK_TARGETS, type Txn } from './soak.js';
import { loopScratch } from './scratch.js';
import { Tally } from './summary.js';
import { tmpdir } from '../helpers/tmp.js';

const seconds = Number(process.env.TXNFS_SOAK_SECONDS ?? 4);
const writers = Number(process.env.TXNFS_SOAK_WRITERS ?? 3);
const seed = Number(process.env.TXNFS_SOAK_SEED ?? 20_261_128);
const tally = new Tally(`random soak (${seconds} s, ${writers} writers, seed ${seed})`);
const scratchOf = loopScratch('txnfs-soak-', tally);

describe('random soak', () => {
  it(`writers killed at random moments over ${seconds} s: every round recovers to one whole generation, nothing acknowledged lost`, async () => {
    const r = await soak({ scratch: scratchOf(), durationMs: seconds * 1000, roundMs: Math.min(1500, seconds * 250), writers, seed });
    tally.crashPoints += r.kills;
    tally.deferred += r.deferred;
    tally.violations += r.violations.length;
    console.log(`[txnfs crash] soak detail: ${r.rounds} rounds, ${r.kills} kills (${r.randomKills} at random moments), ${r.commits} commits begun, ${r.acks} acknowledged, ${r.liveRecoveries} recoveries beside live writers`);
    expect(r.violations).toEqual([]);
    // It really soaked: several rounds, writers killed in the middle of their work, commits made.
    expect({ rounds: r.rounds > 1, randomKills: r.randomKills > 0, acks: r.acks > 0 }).toEqual({ rounds: true, randomKills: true, acks: true });
  }, (seconds + 120) * 1000);
});

describe('the soak check catches what it is there to catch', () => {
  // The random kills may or may not hit a given window, so these show on fixed roots that the
  // round check itself fails when it must.
  const gen = (g: string, t: string): string => `gen ${g} ${t} xxx\n`;
  const txn = (g: string, began: number, writes: readonly string[], ack?: number): Txn => ({ gen: g, began, writes, ...(ack === undefined ? {} : { ack }) });
  function root(files: Record<string, string>): string {
    const dir = tmpdir();
    for (const [t, data] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, t)), { recursive: true });
      fs.writeFileSync(path.join(dir, t), data);
    }
    return dir;
  }
  const every = (g: string): Record<string, string> => Object.fromEntries(SOAK_TARGETS.map((t) => [t, gen(g, t)]));
  const a = txn('w1.1', 100, SOAK_TARGETS, 200);
  const b = txn('w2.1', 300, SOAK_TARGETS.slice(1), 400);
  const txns = new Map([a, b, txn('seed.0', 0, SOAK_TARGETS, 0)].map((t) => [t.gen, t]));

  it('accepts a root that shows the last acknowledged commit', () => {
    const { [SOAK_TARGETS[0]]: _dropped, ...rest } = every('w2.1');
    expect(judgeRound(root(rest), txns, [a, b], 'seed.0')).toEqual({ final: 'w2.1', violations: [] });
  });

  it('reports a mix of two commits', () => {
    const files = every('w1.1');
    files['e.txt'] = gen('w2.1', 'e.txt');
    expect(judgeRound(root(files), txns, [a, b], 'seed.0').violations.join()).toMatch(/2 generations/);
  });

  it('reports a torn file and a file holding another target', () => {
    const torn = { ...every('w1.1'), 'b.csv': 'gen w1.1 b.csv xx' };
    expect(judgeRound(root(torn), txns, [a], 'seed.0').violations.join()).toMatch(/torn/);
    const swapped = { ...every('w1.1'), 'b.csv': gen('w1.1', 'a.json') };
    expect(judgeRound(root(swapped), txns, [a], 'seed.0').violations.join()).toMatch(/holds the data of/);
  });

  it('reports a file the generation removed, still present', () => {
    expect(judgeRound(root(every('w2.1')), txns, [a, b], 'seed.0').violations.join()).toMatch(/wrote \[/);
  });

  it('reports an acknowledged commit that began after the one shown had ended (lost)', () => {
    expect(judgeRound(root(every('w1.1')), txns, [a, b], 'seed.0').violations.join()).toMatch(/acknowledged commits lost: w2.1/);
  });

  it('reports a round whose acknowledged commits left no trace', () => {
    const dir = tmpdir();
    seedRoot(dir);
    expect(judgeRound(dir, txns, [txn('w3.1', 100, SOAK_TARGETS, 150)], 'seed.0').violations.join()).toMatch(/still shows seed.0/);
  });
});
