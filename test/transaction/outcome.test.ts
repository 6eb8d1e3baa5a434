import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PendingWrite, type OutcomeSource } from '../../src/transaction/outcome.js';

/** An outcome source that answers from a table, and counts how often it was asked. */
function source(outcomes: Record<number, 'ok' | Error>): OutcomeSource & { asked: number[] } {
  const asked: number[] = [];
  return {
    asked,
    outcome(key) {
      asked.push(key);
      const o = outcomes[key];
      return o === 'ok' ? Promise.resolve() : Promise.reject(o);
    },
    describe: (key) => (outcomes[key] === 'ok' ? 'staged' : 'failed'),
  };
}

describe('PendingWrite', () => {
  it('is a Promise that await, then, catch, finally and the combinators settle by its outcome', async () => {
    const boom = new Error('boom');
    const src = source({ 0: 'ok', 1: boom });
    expect(new PendingWrite(src, 0)).toBeInstanceOf(Promise);
    await expect(new PendingWrite(src, 0)).resolves.toBeUndefined();
    await expect(new PendingWrite(src, 1)).rejects.toBe(boom);
    await expect(new PendingWrite(src, 1).catch((e: unknown) => e)).resolves.toBe(boom);
    let finished = false;
    await new PendingWrite(src, 0).finally(() => {
      finished = true;
    });
    expect(finished).toBe(true);
    await expect(Promise.all([new PendingWrite(src, 0), new PendingWrite(src, 0)])).resolves.toEqual([undefined, undefined]);
    await expect(Promise.allSettled([new PendingWrite(src, 1)])).resolves.toEqual([{ status: 'rejected', reason: boom }]);
    const viaAsync = async (): Promise<void> => new PendingWrite(src, 1);
    await expect(viaAsync()).rejects.toBe(boom);
  });

  it('looks its outcome up only when asked: one nobody awaits costs no lookup and no rejection', async () => {
    const src = source({ 1: new Error('ignored') });
    void new PendingWrite(src, 1);
    await new Promise((r) => setTimeout(r, 20));
    expect(src.asked).toEqual([]);
  });

  it('derives ordinary promises (Symbol.species), so nothing chained off it is a PendingWrite', () => {
    const src = source({ 0: 'ok' });
    const derived = new PendingWrite(src, 0).then(() => 1);
    expect(derived).not.toBeInstanceOf(PendingWrite);
    expect(derived.constructor).toBe(Promise);
  });

  it('shows the write state in util.inspect, not the never-settling base promise', () => {
    expect(inspect(new PendingWrite(source({ 0: 'ok' }), 0))).toBe('PendingWrite { <staged> }');
  });
});
