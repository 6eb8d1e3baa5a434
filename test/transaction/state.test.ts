/**
 * state.ts: a new transaction's state. What it keeps, and what making it costs: every begin()
 * makes one, so a slow way of building it is paid by every commit, however small.
 */
import { Session } from 'node:inspector/promises';
import { describe, expect, it } from 'vitest';
import { resolveCommon } from '../../src/options/options.js';
import { newTxState } from '../../src/transaction/state.js';

const o = resolveCommon({ dir: '.' });
const init = { id: 'abc', dir: '/tmp/root', o, gen: undefined, warnUnsafeFs: true };
const noStage = (): Promise<void> => Promise.resolve();

/** Bytes allocated per call of `fn` (V8's sampling heap profiler, collected objects included). */
async function bytesPerCall(fn: () => unknown, calls: number): Promise<number> {
  for (let i = 0; i < 2_000; i++) fn();
  const session = new Session();
  session.connect();
  try {
    await session.post('HeapProfiler.enable');
    await session.post('HeapProfiler.startSampling', { samplingInterval: 64, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
    for (let i = 0; i < calls; i++) fn();
    const { profile } = await session.post('HeapProfiler.stopSampling');
    let total = 0;
    const walk = (node: typeof profile.head): void => {
      total += node.selfSize;
      for (const child of node.children) walk(child);
    };
    walk(profile.head);
    return total / calls;
  } finally {
    session.disconnect();
  }
}

describe('newTxState', () => {
  it('keeps the identity and options it is given, with nothing staged', () => {
    const tx = newTxState(init, noStage);
    expect([tx.id, tx.dir, tx.o, tx.gen, tx.warnUnsafeFs, tx.state]).toEqual(['abc', '/tmp/root', o, undefined, true, 'open']);
    expect([tx.ops.length, tx.modes.size, tx.treeOps, tx.conditions, tx.streams]).toEqual([0, 0, [], [], []]);
    expect([tx.place, tx.setup, tx.lone]).toEqual([undefined, undefined, undefined]);
  });

  it('allocates little: about 2 KB per transaction (built from a spread of its init, 8 KB)', async () => {
    // Sampled, so an average over many calls; the two ways of building it differ by 4x.
    expect(await bytesPerCall(() => newTxState(init, noStage), 20_000)).toBeLessThan(4 * 1024);
  });
});
