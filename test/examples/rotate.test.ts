// examples/rotate.mjs: tx.rename and tx.copy in one commit with a write: the replaced report moves
// into the archive and is kept as archive/latest.csv; a run killed before or after its commit point
// leaves the previous rotation or the new one, never a report in two places or in none.
import { describe, expect, it } from 'vitest';
import { recover } from '../../src/index.js';
import { crashExample, runExample } from '../helpers/examples.js';
import { leftovers, snapshot, tmpdir } from '../helpers/tmp.js';

const report = (n: number): string => `report,${n}\nrows,${n * 10}\n`;

function expected(n: number): Record<string, string> {
  const out: Record<string, string> = { 'report.csv': report(n) };
  if (n > 1) out['archive/latest.csv'] = report(n - 1);
  for (let k = 1; k < n; k++) out[`archive/report-${k}.csv`] = report(k);
  return out;
}

describe('examples/rotate.mjs', () => {
  it('each run moves the replaced report into the archive and keeps a copy as latest', () => {
    const out = tmpdir();
    expect(runExample('rotate.mjs', [out, '1']).stdout).toBe('report 1: 1 written, 0 removed\n');
    expect(snapshot(out)).toEqual(expected(1));
    expect(runExample('rotate.mjs', [out, '2']).stdout).toBe('report 2: 3 written, 0 removed\n');
    expect(snapshot(out)).toEqual(expected(2));
    expect(runExample('rotate.mjs', [out, '3']).status).toBe(0);
    expect(snapshot(out)).toEqual(expected(3));
    expect(leftovers(out)).toEqual([]);
    expect(runExample('rotate.mjs', [out]).status).toBe(2);
  });

  it.each([
    { step: 'staged', nth: 1, n: 2 }, // before the commit point: the previous rotation stays
    { step: 'rename', nth: 2, n: 3 }, // after it: the next run's recover() finishes it
  ])('a run killed at $step #$nth leaves rotation $n whole', async ({ step, nth, n }) => {
    const out = tmpdir();
    expect(runExample('rotate.mjs', [out, '1']).status).toBe(0);
    expect(runExample('rotate.mjs', [out, '2']).status).toBe(0);
    crashExample(step, nth, 'rotate.mjs', [out, '3']);
    await recover(out);
    expect(snapshot(out)).toEqual(expected(n));
    expect(leftovers(out)).toEqual([]);
  });
});
