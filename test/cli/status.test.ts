/**
 * txnfs status, through the built bin: what a crash left, and an exit code that can gate a deploy.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { begin } from '../../src/index.js';
import { txnfs } from '../helpers/bin.js';
import { runMain } from '../helpers/main.js';
import { corruptJournal, crashAt } from '../helpers/crash-at.js';
import { tmpdir } from '../helpers/tmp.js';

const fields = ['id', 'state', 'owner', 'entries', 'mtimeMs', 'staged', 'bytes', 'path', 'ownerAlive', 'ageMs', 'needs'];

describe('txnfs status', () => {
  it('a clean root: exit 0', () => {
    const dir = tmpdir();
    const r = txnfs(['status', dir]);
    expect(r).toMatchObject({ status: 0, stderr: '' });
    expect(r.stdout).toBe(`${dir}: clean, no transaction pending.\n`);
    const j = txnfs(['status', dir, '--json']);
    expect(JSON.parse(j.stdout)).toEqual({ dir, health: 'ok', transactions: [], tombs: [], orphans: { count: 0, bytes: 0, paths: [] } });
  });

  it('a lock tomb a crashed remover left (no owner record, untouched for the grace): exit 3, reported in text and --json', () => {
    const dir = tmpdir();
    const tomb = path.join(dir, '.txnfs', '.tomb-abcdefghij');
    fs.mkdirSync(tomb, { recursive: true });
    const old = new Date(Date.now() - 5000);
    fs.utimesSync(tomb, old, old);
    const r = txnfs(['status', dir]);
    expect(r).toMatchObject({ status: 3, stderr: '' });
    expect(r.stdout).toBe(`${dir}: no transaction pending.\n${dir}: 1 lock tomb left by crashed processes. Run: txnfs recover ${dir}\n`);
    expect(JSON.parse(txnfs(['status', dir, '--json']).stdout)).toEqual({ dir, health: 'needs-recovery', transactions: [], tombs: [tomb], orphans: { count: 0, bytes: 0, paths: [] } });
  });

  it('a dead staging transaction: exit 3, with its id, state, owner, age, entries and bytes', () => {
    const dir = tmpdir();
    const id = crashAt(dir, 'staged', 3, 100);
    const r = txnfs(['status', dir]);
    expect(r.status).toBe(3);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('1 dead transaction to recover. Run: txnfs recover');
    expect(r.stdout).toMatch(new RegExp(`${id}\\s+staging\\s+dead\\s+\\d+(ms|s)\\s+0\\s+3 files, 300 B`));
    const j = JSON.parse(txnfs(['status', dir, '--json']).stdout);
    expect(j.health).toBe('needs-recovery');
    expect(Object.keys(j.transactions[0]).sort()).toEqual([...fields].sort());
    expect(j.transactions[0]).toMatchObject({
      id, state: 'staging', owner: 'dead', ownerAlive: false, entries: 0, staged: 3, bytes: 300, needs: 'recovery',
      path: path.join(dir, '.txnfs', `.txn-${id}`),
    });
    expect(j.transactions[0].ageMs).toBeGreaterThanOrEqual(0);
    expect(j.transactions[0].ageMs).toBeLessThan(60_000);
  });

  it('a dead committed transaction: exit 3', () => {
    const dir = tmpdir();
    const id = crashAt(dir, 'committed', 4, 10);
    const j = txnfs(['status', dir, '--json']);
    expect(j.status).toBe(3);
    expect(JSON.parse(j.stdout).transactions).toEqual([expect.objectContaining({ id, state: 'committed', entries: 4, staged: 4, bytes: 40 })]);
  });

  it('a rolling-back transaction: exit 3', () => {
    const dir = tmpdir();
    const id = crashAt(dir, 'committed', 2);
    fs.writeFileSync(path.join(dir, '.txnfs', `.txn-${id}`, 'rollback'), 'rollback\n');
    const j = txnfs(['status', dir, '--json']);
    expect(j.status).toBe(3);
    expect(JSON.parse(j.stdout).transactions[0]).toMatchObject({ id, state: 'rolling-back', needs: 'recovery' });
  });

  it('a corrupt journal: exit 4, whatever else is there, with its reason and where it is', () => {
    const dir = tmpdir();
    const staging = crashAt(dir, 'staged', 2);
    const corrupt = crashAt(dir, 'committed', 2);
    corruptJournal(dir, corrupt);
    const r = txnfs(['status', dir]);
    expect(r.status).toBe(4);
    expect(r.stdout).toContain('1 corrupt journal needs a person');
    expect(r.stdout).toContain(`corrupt ${corrupt}: `);
    expect(r.stdout).toContain('checksum mismatch');
    expect(r.stdout).toContain(path.join(dir, '.txnfs', `.txn-${corrupt}`));
    const j = JSON.parse(txnfs(['status', dir, '--json']).stdout);
    expect(j.health).toBe('corrupt');
    expect(j.transactions.map((t: { id: string; needs: string }) => [t.id, t.needs]).sort()).toEqual([[corrupt, 'person'], [staging, 'recovery']].sort());
  });

  it('a live transaction needs nothing: exit 0', async () => {
    const dir = tmpdir();
    const tx = begin({ dir });
    // Two files: a transaction's first file alone is staged as its lone file in the home, with no
    // staging dir to list yet (src/transaction/lone.ts); the second makes the staging dir.
    await tx.write('a', 'abc');
    await tx.write('b', 'de');
    try {
      const r = txnfs(['status', dir, '--json']);
      expect(r.status).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ health: 'ok', transactions: [{ id: tx.id, state: 'staging', ownerAlive: true, needs: 'nothing', staged: 1, bytes: 2 }] });
      expect(txnfs(['status', dir]).stdout).toContain('nothing to recover; 1 transaction in progress.');
    } finally {
      await tx.abort();
    }
  });

  it('takes no lock and changes nothing', () => {
    const dir = tmpdir();
    const id = crashAt(dir, 'committed', 2);
    const list = (): string[] => fs.readdirSync(path.join(dir, '.txnfs')).sort();
    const before = list();
    txnfs(['status', dir]);
    expect(list()).toEqual(before);
    expect(fs.readdirSync(dir).sort()).toEqual(['.txnfs']);
    expect(before).toContain(`.txn-${id}`);
  });

  it('bad arguments: exit 2 with the usage line, no stack; a missing root: exit 1', async () => {
    for (const [args, message] of [
      [['status'], /missing <dir>/],
      [['status', 'a', 'b'], /unexpected argument 'b'/],
      [['status', 'a', '--jsno'], /unknown option '--jsno'/],
      [['status', 'a', '--json=yes'], /does not take an argument/],
    ] as const) {
      const r = await runMain(args);
      expect({ args, status: r.status }).toEqual({ args, status: 2 });
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toContain('Usage: txnfs status <dir>|s3://<bucket>[/<prefix>] [--json]');
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stdout).toBe('');
    }
    const missing = txnfs(['status', path.join(tmpdir(), 'nope')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/does not exist/);
    expect(missing.stderr).not.toMatch(/\n\s+at /);
  });
});
