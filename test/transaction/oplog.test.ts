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
});
