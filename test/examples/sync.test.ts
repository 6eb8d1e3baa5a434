// examples/sync.mjs: tx.emptyDir, tx.removeTree and tx.mkdir in one commit: <out>/site holds
// exactly the pages of the last version, the previous drafts tree is gone, uploads/ exists; a run
// killed before or after its commit point leaves the previous version or the new one.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { recover } from '../../src/index.js';
import { crashExample, runExample } from '../helpers/examples.js';
import { leftovers, snapshot, tmpdir } from '../helpers/tmp.js';

function expected(version: number, pages: number): Record<string, string> {
  const out: Record<string, string> = { 'site/index.html': `<!-- version ${version} -->\n<p>${pages} pages</p>\n`, [`drafts/v${version}/todo.txt`]: `notes for version ${version}\n` };
  for (let p = 1; p <= pages; p++) out[`site/pages/${p}.html`] = `<!-- version ${version} -->\n<h1>Page ${p}</h1>\n`;
  return out;
}

const dirsUnder = (dir: string): string[] => (fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }) as string[]).filter((r) => !r.startsWith('.txnfs') && fs.statSync(path.join(dir, r)).isDirectory()).sort();

describe('examples/sync.mjs', () => {
  it('each version leaves exactly its files: stale pages and the old drafts tree are gone', () => {
    const out = tmpdir();
    expect(runExample('sync.mjs', [out, '1', '5']).stdout).toBe('version 1: 7 written, 0 removed\n');
    expect(snapshot(out)).toEqual(expected(1, 5));
    expect(runExample('sync.mjs', [out, '2', '3']).stdout).toBe('version 2: 5 written, 3 removed\n');
    expect(snapshot(out)).toEqual(expected(2, 3));
    expect(dirsUnder(out)).toEqual(['drafts', 'drafts/v2', 'site', 'site/pages', 'uploads']);
    expect(leftovers(out)).toEqual([]);
    expect(runExample('sync.mjs', [out]).status).toBe(2);
  });

  it.each([
    { step: 'staged', nth: 1, version: 1 }, // before the commit point: the previous version stays
    { step: 'rename', nth: 2, version: 2 }, // after it: the next run's recover() finishes it
  ])('a run killed at $step #$nth leaves version $version whole', async ({ step, nth, version }) => {
    const out = tmpdir();
    expect(runExample('sync.mjs', [out, '1', '5']).status).toBe(0);
    crashExample(step, nth, 'sync.mjs', [out, '2', '3']);
    await recover(out);
    expect(snapshot(out)).toEqual(version === 1 ? expected(1, 5) : expected(2, 3));
    expect(dirsUnder(out)).toEqual(version === 1 ? ['drafts', 'drafts/v1', 'site', 'site/pages', 'uploads'] : ['drafts', 'drafts/v2', 'site', 'site/pages', 'uploads']);
    // Running the same version again converges on it.
    const next = runExample('sync.mjs', [out, '2', '3']);
    expect(next.stderr).toBe('');
    expect(snapshot(out)).toEqual(expected(2, 3));
    expect(leftovers(out)).toEqual([]);
  });
});
