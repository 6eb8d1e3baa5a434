/**
 * lock/acquire.ts loads proper-lockfile without graceful-fs (its default `fs`, which txnfs never
 * uses: every lock passes the seam's adapter). graceful-fs patches Node's own fs.close and
 * fs.closeSync for the whole process when it loads; importing txnfs must not do that to an app.
 */
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { run } from '../../helpers/child.js';
import { leftovers, tmpdir } from '../../helpers/tmp.js';

describe('lock/acquire: proper-lockfile loaded without graceful-fs', () => {
  // dist/index.js: tsc's modules; dist/bundle/index.js: what `import 'txnfs'` loads.
  it.each(['dist/index.js', 'dist/bundle/index.js'])("importing %s and committing leaves the app's fs.close as Node's own, and graceful-fs unloaded", async (entry) => {
    const dir = tmpdir();
    const r = await run('fs-untouched.mjs', [dir, entry]);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ closeUntouched: true, gracefulCached: 0, appGracefulKept: null });
    expect(fs.readFileSync(`${dir}/b.txt`, 'utf8')).toBe('b');
    expect(leftovers(dir)).toEqual([]);
  });

  it('an app that loaded graceful-fs first keeps it: the cache still holds its module, and the commit works', async () => {
    const dir = tmpdir();
    const r = await run('fs-untouched.mjs', [dir, 'dist/bundle/index.js', 'graceful-first']);
    expect(r.stderr).toBe('');
    // graceful-fs patched fs.close when the app loaded it: that is the app's choice, not txnfs's.
    expect(JSON.parse(r.stdout)).toEqual({ closeUntouched: true, gracefulCached: 1, appGracefulKept: true });
    expect(fs.readFileSync(`${dir}/a.txt`, 'utf8')).toBe('a');
  });

  it('an app that requires proper-lockfile after txnfs gets a working one of its own (its default fs, the real graceful-fs)', async () => {
    const dir = tmpdir();
    const r = await run('fs-untouched.mjs', [dir, 'dist/bundle/index.js', 'lockfile-after']);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ closeUntouched: true, gracefulCached: 0, appGracefulKept: null, appLocked: true });
    expect(leftovers(dir)).toEqual([]);
  });
});
