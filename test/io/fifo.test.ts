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
});
