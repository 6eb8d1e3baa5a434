import { describe, expect, it } from 'vitest';
import { eachLimit, Limiter, mapLimit, settleAll } from '../../src/io/limit.js';

const tick = () => new Promise((r) => setTimeout(r, 1));

describe('Limiter', () => {
  it('runs at most `concurrency` tasks at once, in call order', async () => {
    const limiter = new Limiter(3);
    let active = 0;
    let peak = 0;
    const started: number[] = [];
    await Promise.all(Array.from({ length: 20 }, (_, i) => limiter.run(async () => {
      started.push(i);
      peak = Math.max(peak, ++active);
      await tick();
      active--;
    })));
    expect(peak).toBe(3);
    expect(started).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('frees the slot when a task fails', async () => {
    const limiter = new Limiter(1);
    await expect(limiter.run(async () => {
      throw new Error('x');
    })).rejects.toThrow('x');
    expect(await limiter.run(async () => 'next')).toBe('next');
  });
});

describe('mapLimit', () => {
  it('keeps results in input order and bounds concurrency', async () => {
    let active = 0;
    let peak = 0;
    const out = await mapLimit([5, 1, 4, 2, 3], 2, async (n) => {
      peak = Math.max(peak, ++active);
      await new Promise((r) => setTimeout(r, n));
      active--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30]);
    expect(peak).toBe(2);
  });

  it('rejects with the first error only after every started call settled', async () => {
    const settled: number[] = [];
    const err = await mapLimit([0, 1, 2], 3, async (n) => {
      if (n === 0) throw new Error('first');
      await new Promise((r) => setTimeout(r, 20));
      settled.push(n);
      return n;
    }).catch((e: Error) => e);
    expect((err as Error).message).toBe('first');
    expect(settled.sort()).toEqual([1, 2]);
  });

  it('handles an empty list', async () => {
    expect(await mapLimit([], 4, async () => 1)).toEqual([]);
  });
});

describe('eachLimit', () => {
  it('visits every item of anything with a length and at(), at most `concurrency` at once', async () => {
    const items = { length: 7, at: (i: number) => (i >= 0 && i < 7 ? i * 10 : undefined) };
    const seen: [number, number][] = [];
    let inFlight = 0;
    let max = 0;
    await eachLimit(items, 3, async (item, i) => {
      inFlight++;
      max = Math.max(max, inFlight);
      await tick();
      seen.push([i, item]);
      inFlight--;
    });
    expect(seen.sort((a, b) => a[0] - b[0])).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => [i, i * 10]));
    expect(max).toBe(3);
  });

  it('rejects with the first error only after every started call settled', async () => {
    const settled: number[] = [];
    const err = await eachLimit([0, 1, 2], 3, async (n) => {
      await tick();
      settled.push(n);
      if (n > 0) throw new Error(`e${n}`);
    }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('e1');
    expect(settled.sort()).toEqual([0, 1, 2]);
  });
});

describe('settleAll', () => {
  it('waits for every promise before rejecting with the first rejection in argument order', async () => {
    const order: string[] = [];
    const slow = new Promise<void>((resolve) => setTimeout(() => {
      order.push('slow settled');
      resolve();
    }, 30));
    const first = new Error('first');
    const late = new Promise<void>((_, reject) => setTimeout(() => reject(first), 10));
    const early = Promise.reject(new Error('second'));
    early.catch(() => undefined);
    await expect(settleAll([slow, late, early]).finally(() => order.push('settleAll done'))).rejects.toBe(first);
    expect(order).toEqual(['slow settled', 'settleAll done']);
    await expect(settleAll([Promise.resolve(1), slow])).resolves.toBeUndefined();
  });
});
