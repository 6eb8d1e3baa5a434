/**
 * Issue 12 item 13: orphaned single-file temp files (a killed createWriteStream) are counted and
 * sized by `txnfs status` and `txnfs recover`, in text and --json; and a foreign staging dir is not
 * called a corrupt journal.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatStatus } from '../../src/cli/status.js';
import type { StatusReport } from '../../src/protocol/status.js';
import { hostHash } from '../../src/single/tempname.js';
import { txnfs } from '../helpers/bin.js';
import { tmpdir } from '../helpers/tmp.js';

const b36 = (n: number): string => BigInt(n).toString(36);

/** A temp of a writer on another host, 2 minutes old: an orphan by the mtime rule (orphans.ts). */
function plantOrphan(dir: string, bytes: number): string {
  const home = path.join(dir, '.txnfs');
  fs.mkdirSync(home, { recursive: true });
  const p = path.join(home, `.tmp-${hostHash('linux:some-other-boot:pidns')}-${b36(4242)}-${b36(12345)}-0-1`);
  fs.writeFileSync(p, Buffer.alloc(bytes));
  const t = new Date(Date.now() - 120_000);
  fs.utimesSync(p, t, t);
  return p;
}

describe('orphaned single-file temps in txnfs status and recover', () => {
  it('status counts and sizes them (text and --json), exit 3', () => {
    const dir = tmpdir();
    const orphan = plantOrphan(dir, 3 * 1024 * 1024);
    const r = txnfs(['status', dir]);
    expect(r.status).toBe(3);
    expect(r.stdout).toContain('1 orphan of dead single-file writers (temp files and update() locks, 3.0 MiB) to remove. Run: txnfs recover');
    expect(r.stdout).not.toContain('clean');
    const j = txnfs(['status', dir, '--json']);
    expect(j.status).toBe(3);
    expect(JSON.parse(j.stdout)).toMatchObject({ health: 'needs-recovery', transactions: [], orphans: { count: 1, bytes: 3 * 1024 * 1024, paths: [orphan] } });
    expect(fs.existsSync(orphan)).toBe(true); // status is read-only
  });

  it('recover --dry-run says what it would remove (exit 3); recover removes it and says so (exit 0)', () => {
    const dir = tmpdir();
    const orphan = plantOrphan(dir, 2048);
    const dry = txnfs(['recover', dir, '--dry-run']);
    expect(dry.status).toBe(3);
    expect(dry.stdout).toContain('would remove 1 orphan of dead single-file writers (temp files and update() locks, 2.0 KiB)');
    expect(dry.stdout).not.toContain('nothing to recover');
    const dryJson = JSON.parse(txnfs(['recover', dir, '--dry-run', '--json']).stdout);
    expect(dryJson).toMatchObject({ orphans: [orphan], orphanBytes: 2048 });
    expect(fs.existsSync(orphan)).toBe(true);
    const real = txnfs(['recover', dir]);
    expect(real.status).toBe(0);
    expect(real.stdout).toContain('removed 1 orphan of dead single-file writers (temp files and update() locks, 2.0 KiB)');
    expect(real.stdout).not.toContain('nothing to recover');
    expect(fs.existsSync(orphan)).toBe(false);
    const after = txnfs(['status', dir]);
    expect(after.status).toBe(0);
    expect(after.stdout).toContain('clean');
  });

  it('status words a foreign staging dir as one txnfs did not make, not a corrupt journal', () => {
    const report: StatusReport = {
      dir: '/srv/out',
      health: 'corrupt',
      orphans: { count: 0, bytes: 0, paths: [] },
      tombs: [],
      transactions: [
        { id: 'evil1', state: 'foreign', owner: 'absent', entries: 0, staged: 0, bytes: 0, mtimeMs: 0, reason: "'files' is a symlink", path: '/srv/out/.txnfs/.txn-evil1', ownerAlive: false, ageMs: 1000, needs: 'person' },
      ],
    };
    const text = formatStatus(report);
    expect(text).toContain('a staging dir txnfs did not make (foreign');
    expect(text).toContain("foreign evil1: 'files' is a symlink");
    expect(text).not.toMatch(/corrupt/);
  });
});
