/**
 * The power-loss model on the generations layout (power-loss-generations.ts): at every point of a
 * commit, every crash state the model allows, recovered, names a complete old or new generation
 * (new once commit() resolved). Each fsync of the layout is shown to matter by a mutation the
 * model catches.
 */
import { describe, expect, it } from 'vitest';
import { exploreGenerations } from './power-loss-generations.js';

describe('power loss: generations layout', () => {
  it('every crash state of a commit recovers to a complete old or new generation; acknowledged = new', async () => {
    const r = await exploreGenerations({ maxStructures: 24 });
    console.log(`generations power loss: ${r.crashPoints} crash points, ${r.states} states, ${r.runs} recoveries, ${r.violations.length} violations`);
    expect(r.violations).toEqual([]);
    expect(r.crashPoints).toBeGreaterThan(20);
    expect(r.afterResolved).toBeGreaterThan(0);
  }, 300_000);

  for (const [mutation, what] of [
    ['gen-skip-fsync-dirs', /neither old nor new|does not exist/],
    ['gen-skip-fsync-pointer', /lost a commit/],
    ['skip-fsync-staged', /neither old nor new/],
  ] as const) {
    it(`catches mutation ${mutation}`, async () => {
      const r = await exploreGenerations({ mutation, maxStructures: 24, stopAtFirst: true });
      expect(r.violations.length).toBeGreaterThan(0);
      expect(r.violations[0]).toMatch(what);
    }, 300_000);
  }
});
