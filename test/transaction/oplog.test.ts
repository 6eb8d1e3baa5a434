import { describe, expect, it } from 'vitest';
import { OpLog } from '../../src/transaction/oplog.js';

/** last() with its codes (an Int32Array) as a plain array, to compare with expected values. */
const plain = (l: { targets: string[]; codes: Int32Array }) => ({ targets: l.targets, codes: [...l.codes] });

describe('OpLog', () => {
  it('keeps the last operation on each target, in the order of those last operations', () => {
    const log = new OpLog();
    log.append('x', 0);
    log.append('y', 1);
    log.append('x', 2);
    log.append('z', -1);
    log.append('y', -1);
    log.append('w', 3);
    expect(log.length).toBe(6);
    expect(plain(log.last())).toEqual({ targets: ['x', 'z', 'y', 'w'], codes: [2, -1, -1, 3] });
  });

  it('matches a Map-based reference on a large random log spanning many blocks', () => {
    let seed = 42;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const log = new OpLog();
    const reference = new Map<string, number>();
    for (let i = 0; i < 20_000; i++) {
      const target = `d${Math.floor(random() * 50)}/f${Math.floor(random() * 400)}`;
      const code = random() < 0.1 ? -1 : i;
      log.append(target, code);
      reference.delete(target);
      reference.set(target, code);
    }
    expect(plain(log.last())).toEqual({ targets: [...reference.keys()], codes: [...reference.values()] });
  });

  it('an empty log has no last operations', () => {
    expect(plain(new OpLog().last())).toEqual({ targets: [], codes: [] });
  });

  it('grows its first block as operations come, across the block boundary', () => {
    const log = new OpLog();
    for (let i = 0; i < 9000; i++) log.append(`t${i % 5000}`, i);
    const { targets, codes } = log.last();
    expect(targets).toHaveLength(5000);
    expect(targets[0]).toBe('t4000');
    expect(codes[0]).toBe(4000);
    expect(targets[4999]).toBe('t3999');
    expect(codes[4999]).toBe(8999);
  });

  it('a log of one operation reserves little: 2,000 of them hold under 1 MiB of typed arrays', () => {
    // A full first block (4,096 codes) was 16 KiB each: 32 MiB here.
    const before = process.memoryUsage().arrayBuffers;
    const kept = Array.from({ length: 2000 }, () => {
      const log = new OpLog();
      log.append('a', 0);
      return log;
    });
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1024 * 1024);
    expect(kept.every((l) => l.length === 1)).toBe(true);
  });
});
