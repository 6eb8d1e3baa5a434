/**
 * clock.ts: a monotonic millisecond clock that does not load perf_hooks.
 */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { now } from '../src/clock.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describe('now', () => {
  it('counts milliseconds, with sub-millisecond resolution, never backwards', async () => {
    const a = now();
    await new Promise((resolve) => setTimeout(resolve, 30));
    const b = now();
    expect(b - a).toBeGreaterThanOrEqual(25);
    expect(b - a).toBeLessThan(5_000);
    let last = now();
    let fractional = false;
    for (let i = 0; i < 1000; i++) {
      const t = now();
      expect(t).toBeGreaterThanOrEqual(last);
      if (t !== Math.floor(t)) fractional = true;
      last = t;
    }
    expect(fractional).toBe(true);
  });

  it('does not load perf_hooks (the global performance does, on its first use: about 1 ms)', () => {
    const script = `const { now } = await import(${JSON.stringify(path.join(repo, 'dist/clock.js'))});
now();
console.log(JSON.stringify(process.moduleLoadList.filter((m) => m.endsWith(' perf_hooks'))));`;
    expect(JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }))).toEqual([]);
  });
});
