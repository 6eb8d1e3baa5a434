// examples/pipeline.sh: a shell job run through `txnfs exec`: its reports land together, regions
// gone from the input are removed, and a failing step leaves the previous reports untouched.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { binDir, examples } from '../helpers/examples.js';
import { leftovers, snapshot, tmpdir } from '../helpers/tmp.js';

function pipeline(input: string, reports: string, bin: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(path.join(examples, 'pipeline.sh'), [input, reports], {
    encoding: 'utf8',
    timeout: 20_000,
    env: { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}` },
  });
  if (r.error !== undefined) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('examples/pipeline.sh', () => {
  it('writes one report per region and a summary, all in one transaction', () => {
    const base = tmpdir();
    const reports = path.join(base, 'reports');
    const r = pipeline(path.join(examples, 'data/sales.csv'), reports, binDir(base));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(snapshot(reports)).toEqual({
      'by-region/east.csv': 'product,units\ngizmo,4\nwidget,9\n',
      'by-region/north.csv': 'product,units\ngadget,3\ngizmo,6\nwidget,12\n',
      'by-region/south.csv': 'product,units\ngadget,11\nwidget,7\n',
      'summary.csv': 'region,units\neast,13\nnorth,21\nsouth,18\n',
    });
    expect(leftovers(reports)).toEqual([]);
  });

  it('removes the reports of regions gone from the input (--delete-missing), and a failing run changes nothing', () => {
    const base = tmpdir();
    const reports = path.join(base, 'reports');
    const bin = binDir(base);
    expect(pipeline(path.join(examples, 'data/sales.csv'), reports, bin).status).toBe(0);

    const noEast = path.join(base, 'no-east.csv');
    fs.writeFileSync(noEast, 'region,product,units\nnorth,widget,1\nsouth,gadget,2\n');
    expect(pipeline(noEast, reports, bin).status).toBe(0);
    const good = snapshot(reports);
    expect(good).toEqual({
      'by-region/north.csv': 'product,units\nwidget,1\n',
      'by-region/south.csv': 'product,units\ngadget,2\n',
      'summary.csv': 'region,units\nnorth,1\nsouth,2\n',
    });

    // The summary step fails after by-region/ was written in full: none of it lands.
    const bad = path.join(base, 'bad.csv');
    fs.writeFileSync(bad, 'region,product,units\nwest,widget,5\nnorth,widget,many\n');
    const r = pipeline(bad, reports, bin);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('pipeline.sh: line 3: units is not a number: north,widget,many');
    expect(r.stderr).toContain('nothing was committed');
    expect(snapshot(reports)).toEqual(good);
    expect(leftovers(reports)).toEqual([]);
  });
});
