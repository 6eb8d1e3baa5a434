/**
 * The kill loop for tx.copy() and tx.rename() (issue 18): a child commits a transaction that
 * copies, renames, writes and removes, and SIGKILLs itself before every mutating filesystem
 * operation and at every named step; after recover(), every target (the renamed sources
 * included) is all-old or all-new, acknowledged commits are never lost, nothing is left behind.
 * Both add no journal op (a clone is a staged write, a rename adds a removal: src/transaction/copy.ts), so
 * the power-loss model's enumeration of those ops covers them; this loop shows the calls compose
 * into one all-or-nothing commit. dirWorkloads() (mkdir, removeTree, emptyDir) run here too: the
 * check then also requires the directories to be exactly the old or the new set.
 */
import { describe, expect, it } from 'vitest';
import type { ChildResult } from './child.js';
import { allPoints, killLoop } from './kill-loop.js';
import { loopScratch } from './scratch.js';
import { Tally } from './summary.js';
import { dirWorkloads, treeWorkloads } from './workloads.js';

const tally = new Tally('kill loop (tree operations)');
const scratchOf = loopScratch('txnfs-kill-tree-', tally);

describe('kill loop: copy, rename, mkdir, removeTree and emptyDir, stopped at every mutating operation and every named step', () => {
  const dirNames = new Set(dirWorkloads().map((w) => w.name));
  for (const w of [...treeWorkloads(), ...dirWorkloads()]) {
    it(w.name, async () => {
      // The directory workloads are small: every point, not a sample.
      const every = dirNames.has(w.name) ? 1 : 20;
      const r = await killLoop({ workload: w, scratch: scratchOf(), singlePoints: (t: ChildResult) => allPoints(t).filter((_, i) => i % every === 0) });
      tally.crashPoints += r.points;
      tally.violations += r.violations.length;
      expect(r.violations).toEqual([]);
      // A copy alone is one written file: it commits by its rename (src/protocol/direct.ts), about
      // 30 points where a journaled commit has over 40.
      expect(r.points).toBeGreaterThan(w.ops.length === 1 ? 20 : 30);
      expect(r.outcomes.old ?? 0).toBeGreaterThan(0);
      expect(r.outcomes.new ?? 0).toBeGreaterThan(0);
    }, 300_000);
  }
});
