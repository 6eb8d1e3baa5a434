/**
 * A live commit applies its journal once; a staged file missing then is not "already applied".
 * It happens when the owner stalled past lockStale between its last lock check and its commit
 * point while another process's recovery discarded the staging dir.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { begin, codes } from '../../src/index.js';
import { faults } from '../../src/io/faults.js';
import { leftovers, snapshot, tmpdir } from '../helpers/tmp.js';

describe('a staged file that vanished after the commit point', () => {
  it('fails the live commit (rolled back) instead of resolving with nothing written', async () => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, 'a'), 'old a');
    const tx = begin({ dir });
    tx.write('a', 'new a');
    tx.write('b', 'new b');
    faults.hook = (e) => {
      // What a concurrent recovery's removal of the staging dir looks like from here.
      if (e.kind === 'step' && e.name === 'committed') fs.rmSync(path.join(dir, '.txnfs', `.txn-${tx.id}`, 'files', '0'));
    };
    try {
      await expect(tx.commit()).rejects.toMatchObject({ code: codes.EAPPLY, cause: { code: 'ENOENT' } });
    } finally {
      faults.hook = undefined;
    }
    expect(snapshot(dir)).toEqual({ a: 'old a' });
    expect(leftovers(dir)).toEqual([]);
  });
});
