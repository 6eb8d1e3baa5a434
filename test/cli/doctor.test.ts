/**
 * txnfs doctor, through the built bin: the table, --json, the exit codes, and that it leaves the
 * root as it found it. The exit codes on filesystems where guarantees are conditional or broken
 * are asserted by the filesystem matrix (test/filesystems/).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { txnfs } from '../helpers/bin.js';
import { tmpdir } from '../helpers/tmp.js';

describe('txnfs doctor', () => {
  it('a local root: a table of every check, exit 0, and nothing left behind', () => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, 'mine.txt'), 'untouched');
    const r = txnfs(['doctor', dir]);
    expect(r).toMatchObject({ status: 0, stderr: '' });
    expect(r.stdout).toContain("txnfs's guarantees hold here.");
    for (const id of ['filesystem', 'rename', 'dir-rename', 'dir-fsync', 'hard-links', 'protected-hardlinks', 'inodes', 'modes', 'exclusive-create', 'mtime', 'case', 'unicode', 'mounts', 'space']) {
      expect(r.stdout).toMatch(new RegExp(`^${id} +ok `, 'm'));
    }
    expect(fs.readdirSync(dir)).toEqual(['mine.txt']);
    expect(fs.readFileSync(path.join(dir, 'mine.txt'), 'utf8')).toBe('untouched');
  });

  it('--json prints the library report; an existing .txnfs/ stays, emptied of the scratch dir only', () => {
    const dir = tmpdir();
    fs.mkdirSync(path.join(dir, '.txnfs'));
    const r = txnfs(['doctor', dir, '--json']);
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout) as { dir: string; verdict: string; checks: { id: string; holds: boolean }[] };
    expect(report).toMatchObject({ dir, verdict: 'holds' });
    expect(report.checks.every((c) => c.holds)).toBe(true);
    expect(fs.readdirSync(path.join(dir, '.txnfs'))).toEqual([]);
  });

  it('--lock-stale judges the mtime granularity; a missing root exits 1; bad arguments exit 2', () => {
    const dir = tmpdir();
    expect(txnfs(['doctor', dir, '--lock-stale', '60000']).status).toBe(0);
    expect(txnfs(['doctor', dir, '--lock-stale', '5'])).toMatchObject({ status: 2, stderr: expect.stringContaining('--lock-stale must be an integer from 2000 to 2147483647') });
    // The range of lockStale everywhere (options.ts): a longer period is no timer Node can set.
    expect(txnfs(['doctor', dir, '--lock-stale', '3000000000'])).toMatchObject({ status: 2, stderr: expect.stringContaining('--lock-stale must be an integer from 2000 to 2147483647') });
    expect(txnfs(['doctor', path.join(dir, 'nope')])).toMatchObject({ status: 1, stderr: expect.stringContaining('does not exist') });
    expect(txnfs(['doctor', dir, 'extra']).status).toBe(2);
    expect(txnfs(['doctor', '--help'])).toMatchObject({ status: 0, stdout: expect.stringContaining('Exit status:') });
  });
});
