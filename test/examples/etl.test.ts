// examples/etl.mjs: each day's orders.json + orders.csv + manifest.json land together; finished
// days are skipped; a run killed mid-commit is finished (or discarded) by the next run.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { crashExample, examples, runExample } from '../helpers/examples.js';
import { leftovers, snapshot, tmpdir } from '../helpers/tmp.js';

const input = path.join(examples, 'data/orders.ndjson');
const days = ['2024-05-01', '2024-05-02', '2024-05-03'];

interface Manifest {
  readonly day: string;
  readonly rows: number;
  readonly files: Record<string, { bytes: number; sha256: string }>;
}

/** The day's three files exist and agree: the manifest's sums match, the row counts match. */
function checkDay(out: string, day: string): void {
  const dir = path.join(out, day);
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;
  expect(manifest.day).toBe(day);
  expect(Object.keys(manifest.files).sort()).toEqual(['orders.csv', 'orders.json']);
  for (const [name, { bytes, sha256 }] of Object.entries(manifest.files)) {
    const data = fs.readFileSync(path.join(dir, name));
    expect({ name, bytes: data.length, sha256: createHash('sha256').update(data).digest('hex') }).toEqual({ name, bytes, sha256 });
  }
  expect((JSON.parse(fs.readFileSync(path.join(dir, 'orders.json'), 'utf8')) as unknown[]).length).toBe(manifest.rows);
}

describe('examples/etl.mjs', () => {
  it('exports each day as orders.json, orders.csv and a manifest, and skips finished days on a re-run', () => {
    const out = path.join(tmpdir(), 'out');
    const first = runExample('etl.mjs', [input, out]);
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(first.stdout.trim().split('\n')).toEqual(days.map((d) => `${d}: exported 3 orders`));
    for (const day of days) checkDay(out, day);
    // A field with a comma and one with quotes are quoted as CSV requires.
    expect(fs.readFileSync(path.join(out, '2024-05-02/orders.csv'), 'utf8')).toContain('1006,"globex, inc.",A-1,1,12.5\n');
    expect(fs.readFileSync(path.join(out, '2024-05-03/orders.csv'), 'utf8')).toContain('1009,"hooli ""labs""",A-1,1,12.5\n');

    const before = snapshot(out);
    const again = runExample('etl.mjs', [input, out]);
    expect(again.status).toBe(0);
    expect(again.stdout.trim().split('\n')).toEqual(days.map((d) => `${d}: done already, skipped`));
    expect(snapshot(out)).toEqual(before);
    expect(leftovers(out)).toEqual([]);
  });

  it.each([
    // Killed after its commit point, with 1 of the day's 3 files renamed into place (the first day
    // renamed 3, so this is the 5th rename): the next run's recover() finishes the day, and the skip
    // check then trusts it rightly.
    { step: 'rename', nth: 5, recovered: 'recovered: 1 finished, 0 discarded', day2: '2024-05-02: done already, skipped' },
    // Killed before its commit point: the day never happened; the next run exports it.
    { step: 'staged', nth: 2, recovered: 'recovered: 0 finished, 1 discarded', day2: '2024-05-02: exported 3 orders' },
  ])('a run killed at $step #$nth, while committing the second day, is healed by the next run', ({ step, nth, recovered, day2 }) => {
    const out = path.join(tmpdir(), 'out');
    crashExample(step, nth, 'etl.mjs', [input, out]);
    checkDay(out, '2024-05-01');
    // What a plain-fs job would be left with if it had got this far: part of the day.
    const torn = fs.existsSync(path.join(out, '2024-05-02/orders.json')) && !fs.existsSync(path.join(out, '2024-05-02/manifest.json'));
    expect(torn).toBe(step === 'rename');

    const next = runExample('etl.mjs', [input, out]);
    expect(next.stderr).toBe('');
    expect(next.status).toBe(0);
    expect(next.stdout.trim().split('\n')).toEqual([recovered, '2024-05-01: done already, skipped', day2, '2024-05-03: exported 3 orders']);
    for (const day of days) checkDay(out, day);
    expect(leftovers(out)).toEqual([]);
  });
});
