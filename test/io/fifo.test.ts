import { describe, expect, it } from 'vitest';
import { Fifo } from '../../src/io/fifo.js';

describe('Fifo', () => {
  it('gives items back in the order they were pushed, across many blocks, interleaved', () => {
    const q = new Fifo<number>();
    const out: number[] = [];
    let next = 0;
    // Push in bursts larger than a block, drain partly in between, so blocks are filled,
    // drained and dropped in every combination.
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 5000; i++) q.push(next++);
      for (let i = 0; i < 3000; i++) out.push(q.shift() as number);
    }
    expect(q.length).toBe(next - out.length);
    while (q.length > 0) out.push(q.shift() as number);
    expect(out).toEqual(Array.from({ length: next }, (_, i) => i));
    expect(q.shift()).toBeUndefined();
    q.push(7);
    expect(q.shift()).toBe(7);
    expect(q.length).toBe(0);
  });

  it('keeps undefined-looking values apart from "empty" by length, and lets a taken item go', () => {
    const q = new Fifo<object | null>();
    const held = { big: true };
    q.push(held);
    q.push(null);
    expect(q.shift()).toBe(held);
    expect(q.length).toBe(1);
    expect(q.shift()).toBeNull();
    expect(q.length).toBe(0);
  });

  it('a queue of a few items reserves little: 2,000 of them add under 8 MiB to the heap', () => {
    // A full first block (3,072 slots) was 24 KiB each: 48 MiB here. A collection during the loop
    // can only lower the figure (every queue is kept).
    const before = process.memoryUsage().heapUsed;
    const kept = Array.from({ length: 2000 }, (_, i) => {
      const q = new Fifo<number>();
      q.push(i);
      q.push(i + 1);
      return q;
    });
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(8 * 1024 * 1024);
    expect(kept.every((q) => q.length === 2)).toBe(true);
  });
});
