/**
 * Fault-hook helpers for single-file tests: record the operations a call makes, fail one of them
 * with an errno error, and reset the hook, mutations and fs implementation after every test.
 */
import { afterEach } from 'vitest';
import { faults, type FaultEvent, type OpEvent } from '../../src/io/faults.js';
import { useFsImpl } from '../../src/io/fs.js';
import { errnoError } from './errno.mjs';
import { mutationLayer, type Mutation } from './mutations.mjs';

afterEach(() => {
  faults.hook = undefined;
  faults.mutations.clear();
  useFsImpl();
});

/** Record every event the library reports from now on (ops and named steps). */
export function record(): FaultEvent[] {
  const events: FaultEvent[] = [];
  const previous = faults.hook;
  faults.hook = (e) => {
    // An operation a mutation skips (its verdict) was never issued: it is not recorded.
    let verdict: void | 'skip' = undefined;
    try {
      verdict = previous?.(e);
    } finally {
      if (verdict !== 'skip') events.push(e);
    }
    return verdict;
  };
  return events;
}

/**
 * Switch on deliberate protocol bugs (mutations.mjs) until the end of the test: around the current
 * hook and filesystem implementation, so call it after swapping the implementation.
 */
export function mutate(...names: Mutation[]): void {
  const layer = mutationLayer(names);
  for (const m of layer.library) faults.mutations.add(m);
  useFsImpl(layer.impl(useFsImpl()));
  faults.hook = layer.hook(faults.hook);
}

/** The ops among `events`, as 'op path' strings (and '→ dest' for rename and link). */
export function ops(events: readonly FaultEvent[]): string[] {
  return events.filter((e): e is OpEvent => e.kind === 'op').map((e) => (e.dest === undefined ? `${e.op} ${e.path}` : `${e.op} ${e.path} → ${e.dest}`));
}

/** Make the first op matching `op` (and `pathPart`, when given) fail with `code`; later ones run. */
export function failOnce(op: string, code: string, pathPart?: string): { fired: () => boolean } {
  let fired = false;
  faults.hook = (e) => {
    if (fired || e.kind !== 'op' || e.op !== op) return;
    if (pathPart !== undefined && !e.path.includes(pathPart)) return;
    fired = true;
    throw errnoError(code, op, e.path);
  };
  return { fired: () => fired };
}
