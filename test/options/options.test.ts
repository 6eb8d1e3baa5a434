import { describe, expect, it } from 'vitest';
import { begin, defaults, recover } from '../../src/index.js';

describe('defaults', () => {
  it('are what the docs promise (a change here is deliberate)', () => {
    expect(defaults).toMatchInlineSnapshot(`
      {
        "concurrency": 16,
        "durability": "full",
        "lockStale": 10000,
        "lockTimeout": 30000,
        "lockUpdate": undefined,
        "warnUnsafeFs": true,
      }
    `);
    expect(Object.isFrozen(defaults)).toBe(true);
  });
});

describe('option validation (begin)', () => {
  const bad: [string, unknown, RegExp, string][] = [
    ['options not an object', 'out', /"options" argument must be an object. Received "out"/, 'TypeError'],
    ['options an array', [], /must be an object. Received \[\] \(type array\)/, 'TypeError'],
    ['unknown key (typo)', { durabilty: 'none' }, /Unknown option "durabilty"/, 'TypeError'],
    ['warnUnsafeFs not a boolean', { warnUnsafeFs: 'no' }, /"warnUnsafeFs" argument must be a boolean. Received "no"/, 'TypeError'],
    ['dir not a string', { dir: 3 }, /"dir" argument must be a non-empty path string or a file: URL. Received 3/, 'TypeError'],
    ['dir empty', { dir: '' }, /non-empty path string/, 'TypeError'],
    ['durability unknown', { durability: 'paranoid' }, /'full' or 'none'. Received "paranoid"/, 'TypeError'],
    ['lockStale below 2000', { lockStale: 100 }, /"lockStale" option must be a number of milliseconds from 2000 to 2147483647\. Received 100/, 'RangeError'],
    // A timer period above 2^31-1 ms fires every millisecond (TimeoutOverflowWarning): refused.
    ['lockStale above the timer limit', { lockStale: 1e10 }, /"lockStale" option must be a number of milliseconds from 2000 to 2147483647\. Received 10000000000/, 'RangeError'],
    ['lockStale Infinity', { lockStale: Number.POSITIVE_INFINITY }, /"lockStale" option must be a number of milliseconds from 2000 to 2147483647/, 'RangeError'],
    ['lockUpdate above the timer limit', { lockStale: 2 ** 31 - 1, lockUpdate: 2 ** 31 }, /"lockUpdate" option must be a number of milliseconds from 1000 to 1073741823\.5/, 'RangeError'],
    ['lockStale not a number', { lockStale: '10s' }, /"lockStale" argument must be a number. Received "10s"/, 'TypeError'],
    ['lockUpdate above stale/2', { lockStale: 4000, lockUpdate: 3000 }, /"lockUpdate" option must be a number of milliseconds from 1000 to 2000/, 'RangeError'],
    ['lockTimeout negative', { lockTimeout: -1 }, /"lockTimeout" option must be a number of milliseconds ≥ 0 \(Infinity allowed\)\. Received -1/, 'RangeError'],
    ['lockTimeout NaN', { lockTimeout: Number.NaN }, /"lockTimeout" argument must be a number/, 'TypeError'],
    ['concurrency zero', { concurrency: 0 }, /"concurrency" option must be an integer from 1 to 1024/, 'RangeError'],
    ['concurrency fractional', { concurrency: 2.5 }, /"concurrency"/, 'RangeError'],
    ['signal not a signal', { signal: {} }, /"signal" argument must be an AbortSignal/, 'TypeError'],
  ];
  for (const [name, options, message, type] of bad) {
    it(`${name}: ${type}`, () => {
      let thrown: unknown;
      try {
        begin(options as never);
      } catch (err) {
        thrown = err;
      }
      expect((thrown as Error)?.constructor.name).toBe(type);
      expect((thrown as Error).message).toMatch(message);
    });
  }

  it('accepts any lockTimeout, Infinity included (a deadline, not a timer period)', () => {
    for (const lockTimeout of [0, 2 ** 31, 1e12, Number.POSITIVE_INFINITY]) expect(() => begin({ dir: '.', lockTimeout })).not.toThrow();
  });

  it('never mutates the caller\'s options object', () => {
    const options = Object.freeze({ dir: '.', durability: 'none' as const });
    expect(() => begin(options)).not.toThrow();
  });

  it('recover validates the same way, before any I/O', async () => {
    await expect(recover('.', { dryRun: 'yes' } as never)).rejects.toThrow(TypeError);
    await expect(recover('.', { lockStale: 1 })).rejects.toThrow(RangeError);
    await expect(recover(42 as never)).rejects.toThrow(TypeError);
  });
});
