import { describe, expect, it } from 'vitest';
import { StagedFacts } from '../../src/transaction/staged.js';

describe('StagedFacts', () => {
  it('records facts by staging number, in any order, and knows which are missing', () => {
    const facts = new StagedFacts();
    facts.set(3, { ino: 30n, mode: 0o600, uid: 1, gid: 2, bytes: 300 });
    facts.set(0, { ino: 10n, mode: 0o644, uid: 0, gid: 0, bytes: 0 });
    expect(facts.get(3)).toEqual({ ino: 30n, mode: 0o600, uid: 1, gid: 2, bytes: 300 });
    expect(facts.get(0)).toEqual({ ino: 10n, mode: 0o644, uid: 0, gid: 0, bytes: 0 });
    expect(facts.has(1)).toBe(false);
    expect(facts.get(2)).toBeUndefined();
    expect(facts.get(4)).toBeUndefined();
    expect(facts.has(3)).toBe(true);
    // Beyond the first block, with the blocks in between never touched.
    facts.set(5000, { ino: 50n, mode: 0o640, uid: 3, gid: 4, bytes: 2 ** 40 });
    expect(facts.get(5000)).toEqual({ ino: 50n, mode: 0o640, uid: 3, gid: 4, bytes: 2 ** 40 });
    expect(facts.has(4999)).toBe(false);
    expect(facts.has(2048)).toBe(false);
  });

  it('keeps inode numbers above 2^53 exact (XFS, btrfs)', () => {
    const facts = new StagedFacts();
    const big = 2n ** 63n + 12345n;
    const edge = BigInt(Number.MAX_SAFE_INTEGER);
    facts.set(0, { ino: big, mode: 0o644, uid: 0, gid: 0, bytes: 1 });
    facts.set(1, { ino: edge, mode: 0o644, uid: 0, gid: 0, bytes: 1 });
    facts.set(2, { ino: edge + 1n, mode: 0o644, uid: 0, gid: 0, bytes: 1 });
    expect(facts.get(0)?.ino).toBe(big);
    expect(facts.get(1)?.ino).toBe(edge);
    expect(facts.get(2)?.ino).toBe(edge + 1n);
  });

  it('grows its first block as staging numbers come (a few files reserve room for a few)', () => {
    const facts = new StagedFacts();
    const info = (n: number) => ({ ino: BigInt(n + 1), mode: 0o644, uid: 0, gid: 0, bytes: n });
    facts.set(0, info(0));
    // Past what the first block holds so far: not recorded, and no out-of-range read says otherwise.
    for (const n of [1, 7, 8, 100, 1023]) expect(facts.has(n)).toBe(false);
    for (const n of [9, 100, 1023, 1024, 1025]) facts.set(n, info(n));
    for (const n of [0, 9, 100, 1023, 1024, 1025]) expect(facts.get(n)).toEqual(info(n));
    for (const n of [1, 8, 10, 99, 101, 1022, 1026]) expect(facts.has(n)).toBe(false);
  });

  it('a transaction of one file reserves little: 2,000 of them hold under 1 MiB of typed arrays', () => {
    // A full first block (1,024 files) was 40 KiB each: 80 MiB here.
    const before = process.memoryUsage().arrayBuffers;
    const kept = Array.from({ length: 2000 }, () => {
      const facts = new StagedFacts();
      facts.set(0, { ino: 1n, mode: 0o644, uid: 0, gid: 0, bytes: 1 });
      return facts;
    });
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1024 * 1024);
    expect(kept.every((f) => f.has(0))).toBe(true);
  });
});
