// examples/publish.mjs: a site published with the generations layout; a reader that pins a
// snapshot sees one version, whatever lands meanwhile; a publisher killed before or after its
// commit point leaves the old or the new version, never a mix.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { crashExample, examples, runExample, type Ran } from '../helpers/examples.js';
import { tmpdir } from '../helpers/tmp.js';

const readLine = /^generation (\d+): version (\d+), 20 pages, read from gen-(\d+)\n$/;

/** `node examples/publish.mjs ...args`, without blocking the event loop (readers run alongside). */
function runAsync(args: readonly string[]): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(examples, 'publish.mjs'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
  });
}

describe('examples/publish.mjs', () => {
  it('publishes each version as a new generation behind the site symlink; a reader reads the current one', () => {
    const site = path.join(tmpdir(), 'site');
    expect(runExample('publish.mjs', ['publish', site, '1']).stdout).toBe('published version 1 as generation 1\n');
    expect(runExample('publish.mjs', ['publish', site, '2']).stdout).toBe('published version 2 as generation 2\n');
    expect(fs.readlinkSync(site)).toBe(path.join('.site.txnfs', 'gen-2'));
    const read = runExample('publish.mjs', ['read', site]);
    expect(read.stderr).toBe('');
    expect(read.stdout).toBe('generation 2: version 2, 20 pages, read from gen-2\n');
    expect(runExample('publish.mjs', ['publish']).status).toBe(2);
  });

  it('readers running while versions are published each see one whole version', async () => {
    const site = path.join(tmpdir(), 'site');
    expect(runExample('publish.mjs', ['publish', site, '1']).status).toBe(0);
    let publishing = true;
    const publisher = (async () => {
      for (let v = 2; v <= 5; v++) expect((await runAsync(['publish', site, String(v)])).status).toBe(0);
      publishing = false;
    })();
    const reads: Ran[] = [];
    const readers = [1, 2].map(async () => {
      while (publishing) reads.push(await runAsync(['read', site]));
    });
    await Promise.all([publisher, ...readers]);
    expect(reads.length).toBeGreaterThan(1);
    for (const r of reads) {
      expect(r.stderr).toBe('');
      const m = readLine.exec(r.stdout);
      // One generation holds one version: generation g was published as version g.
      expect(m?.[1]).toBe(m?.[2]);
    }
  }, 120_000);

  it.each([
    { step: 'staged', after: 'version 1' }, // before the commit point: the publish never happened
    { step: 'committed', after: 'version 9' }, // after it: the symlink was already swapped
  ])('a publisher killed at $step leaves $after whole, and the next publish works', ({ step, after }) => {
    const site = path.join(tmpdir(), 'site');
    expect(runExample('publish.mjs', ['publish', site, '1']).status).toBe(0);
    crashExample(step, 1, 'publish.mjs', ['publish', site, '9']);
    expect(runExample('publish.mjs', ['read', site]).stdout).toContain(`: ${after}, 20 pages`);
    expect(runExample('publish.mjs', ['publish', site, '10']).status).toBe(0);
    expect(runExample('publish.mjs', ['read', site]).stdout).toMatch(/: version 10, 20 pages/);
  });
});
