/**
 * Fault-hook helpers for single-file tests: record the operations a call makes, fail one of them
 * with an errno error, and reset the hook, mutations and fs implementation after every test.
 */
import { afterEach } from 'vitest';
import { errnoError, faults, type FaultEvent, type OpEvent } from '../../src/faults.js';
import { useFsImpl } from '../../src/fs.js';

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
    events.push(e);
    previous?.(e);
  };
  return events;
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
