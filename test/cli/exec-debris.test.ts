/**
 * Issue 12 item 9 (CLI parts): txnfs exec shows the commit's warnings on stderr, and removes its
 * staging dir again when the commit's cleanup could not (a background process of the command
 * writing into TXNFS_OUT makes that removal fail or brings the dir back).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { faults } from '../../src/io/faults.js';
import { errnoError } from '../helpers/errno.mjs';
import { runMain } from '../helpers/main.js';
import { tmpdir } from '../helpers/tmp.js';

afterEach(() => {
  faults.hook = undefined;
});

const stagingDirs = (dir: string): string[] => {
  const home = path.join(dir, '.txnfs');
  return fs.existsSync(home) ? fs.readdirSync(home).filter((n) => n.startsWith('.txn-')) : [];
};

describe('txnfs exec: warnings and a staging dir the cleanup left', () => {
  it("prints the commit's warnings on stderr (exit 0: the commit landed)", async () => {
    const dir = tmpdir();
    let failed = false;
    faults.hook = (e) => {
      // The commit's removal of its staging dir fails once: a warning, not an error.
      if (e.kind === 'op' && e.op === 'removeTree' && path.basename(e.path).startsWith('.txn-') && !failed) {
        failed = true;
        throw errnoError('EIO', 'rmdir', e.path);
      }
    };
    const r = await runMain(['exec', dir, '--', 'sh', '-c', 'echo a > "$TXNFS_OUT/a"']);
    expect(r.status).toBe(0);
    expect(failed).toBe(true);
    expect(r.stderr).toMatch(/^txnfs exec: warning: The staging dir '.*' could not be removed \(EIO: injected fault/m);
    expect(fs.readFileSync(path.join(dir, 'a'), 'utf8')).toBe('a\n');
    expect(stagingDirs(dir)).toEqual([]); // removed again after the commit (exec.ts settleStaging)
  });
});
