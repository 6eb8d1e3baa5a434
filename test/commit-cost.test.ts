/**
 * The cost of a small commit, counted through the filesystem seam (src/fs.ts reports every call to
 * the fault hook of src/faults.ts, reads included). A one-file commit has a budget per protocol step
 * (docs/protocol.md, "The cost of a small commit"); a change that adds calls fails here, so a slower
 * commit path is a deliberate, documented decision, never an accident.
 */
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { begin } from '../src/index.js';
import { faults, type FaultEvent } from '../src/faults.js';

/** Calls counted per phase: the steps the commit reports (faults.step) split the run. */
interface Count {
  readonly total: number;
  readonly byPhase: Record<string, number>;
  readonly lock: number;
  readonly ops: string[];
}

async function counted(fn: () => Promise<void>): Promise<Count> {
  const byPhase: Record<string, number> = {};
  const ops: string[] = [];
  let phase = 'stage';
  let lock = 0;
  faults.hook = (e: FaultEvent) => {
    if (e.kind === 'step') {
      phase = e.name;
      return;
    }
    byPhase[phase] = (byPhase[phase] ?? 0) + 1;
    // The lock's own calls (src/lock.ts): its directories and their owner records and tombs.
    if (/(?:\/lock|\.lock|\/\.tomb-)/.test(e.path)) lock += 1;
    ops.push(`${phase} ${e.op} ${e.path}${e.dest === undefined ? '' : ` -> ${e.dest}`}`);
  };
  try {
    await fn();
  } finally {
    faults.hook = undefined;
  }
  return { total: ops.length, byPhase, lock, ops };
}

let dir: string;
beforeEach(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'txnfs-cost-'));
});
afterEach(async () => {
  faults.hook = undefined;
  await fsp.rm(dir, { recursive: true, force: true });
});

async function oneFileCommit(durability: 'full' | 'none', existing: boolean): Promise<Count> {
  if (existing) await fsp.writeFile(path.join(dir, 'a.json'), 'old');
  // A first commit creates the home; the budget is for the steady state of a root in use.
  const warm = begin({ dir, durability });
  warm.write('warm.json', 'x');
  await warm.commit();
  return counted(async () => {
    const tx = begin({ dir, durability });
    tx.write('a.json', JSON.stringify({ n: 1 }));
    await tx.commit();
  });
}

describe('filesystem calls of a one-file commit', () => {
  it.each([
    ['full', false],
    ['full', true],
    ['none', false],
  ] as const)('durability %s, target existed %s: at most 40 calls through the seam', async (durability, existing) => {
    const c = await oneFileCommit(durability, existing);
    if (process.env['TXNFS_COST'] !== undefined) {
      console.log(`${durability} existed=${existing}: ${c.total} calls, ${c.lock} of them the locks'`, c.byPhase);
      console.log(c.ops.join('\n'));
    }
    expect(c.total).toBeLessThanOrEqual(40);
    expect(await fsp.readFile(path.join(dir, 'a.json'), 'utf8')).toBe('{"n":1}');
  });
});
