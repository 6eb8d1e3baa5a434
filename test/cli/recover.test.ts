/**
 * txnfs recover, through the built bin: finishes what crashes left, says what it did, and its
 * --json is the library's recover() report.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { begin } from '../../src/index.js';
import { bin, txnfs } from '../helpers/bin.js';
import { runMain } from '../helpers/main.js';
import { corruptJournal, crashAt } from '../helpers/crash-at.js';
import { leftovers, snapshot, tmpdir } from '../helpers/tmp.js';

const reportKeys = ['dir', 'dryRun', 'rolledForward', 'rolledBack', 'discarded', 'skipped', 'corrupt', 'foreign', 'failed', 'superseded', 'orphans', 'orphanBytes', 'durationMs'];
const content = (name: string, size: number): string => name.repeat(Math.ceil(size / name.length)).slice(0, size);

describe('txnfs recover', () => {
  it('rolls a dead committed transaction forward and discards a dead staging one: exit 0, clean after', () => {
    const dir = tmpdir();
    const committed = crashAt(dir, 'committed', 3, 12);
    const staging = crashAt(dir, 'staged', 2, 5, 'never/');
    const r = txnfs(['recover', dir]);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`${dir}: recovered 2 transactions in `);
    expect(r.stdout).toMatch(new RegExp(`rolled forward\\s+${committed}\\s+3 entries, 3 changed now`));
    expect(r.stdout).toMatch(new RegExp(`discarded\\s+${staging}\\s+never committed`));
    expect(snapshot(dir)).toEqual({ f0000: content('f0000', 12), f0001: content('f0001', 12), f0002: content('f0002', 12) });
    expect(leftovers(dir)).toEqual([]);
    expect(txnfs(['status', dir]).status).toBe(0);
    const again = txnfs(['recover', dir]);
    expect(again).toMatchObject({ status: 0, stdout: `${dir}: nothing to recover.\n` });
  });

  it('never touches a live transaction: reported as skipped', async () => {
    const dir = tmpdir();
    const live = begin({ dir });
    await live.write('live', 'l');
    await live.write('live2', 'l'); // two files: a staging dir (one alone is a lone file, lone.ts)
    try {
      const dead = crashAt(dir, 'staged', 2);
      const r = txnfs(['recover', dir]);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`skipped\\s+${live.id}\\s+staging, owner alive`));
      expect(r.stdout).toMatch(new RegExp(`discarded\\s+${dead}`));
      expect(fs.readdirSync(path.join(dir, '.txnfs'))).toContain(`.txn-${live.id}`);
    } finally {
      await live.abort();
    }
  });

  it('finishes an interrupted rollback', () => {
    const dir = tmpdir();
    const id = crashAt(dir, 'committed', 2);
    fs.writeFileSync(path.join(dir, '.txnfs', `.txn-${id}`, 'rollback'), 'rollback\n');
    const r = txnfs(['recover', dir, '--json']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).rolledBack).toEqual([{ id, entries: 2, changed: 0 }]);
    expect(snapshot(dir)).toEqual({});
    expect(leftovers(dir)).toEqual([]);
  });

  it('--dry-run says what it would do, changes nothing, and exits 3 when there is something to do', () => {
    const dir = tmpdir();
    const id = crashAt(dir, 'committed', 2);
    const list = (): string[] => fs.readdirSync(path.join(dir, '.txnfs')).sort();
    const before = list();
    const r = txnfs(['recover', dir, '--dry-run']);
    expect(r.status).toBe(3);
    expect(r.stdout).toMatch(new RegExp(`would roll forward\\s+${id}\\s+2 entries`));
    expect(r.stdout).toContain('dry run, nothing changed');
    expect(list()).toEqual(before);
    expect(snapshot(dir)).toEqual({});
    expect(txnfs(['recover', dir, '-n', '--json']).status).toBe(3);
    expect(txnfs(['recover', tmpdir(), '--dry-run']).status).toBe(0);
  });

  it('leaves a corrupt journal in place, reports it, and exits 4; the rest is still recovered', () => {
    const dir = tmpdir();
    const corrupt = crashAt(dir, 'committed', 2);
    corruptJournal(dir, corrupt);
    const staging = crashAt(dir, 'staged', 2);
    const r = txnfs(['recover', dir]);
    expect(r.status).toBe(4);
    expect(r.stdout).toMatch(new RegExp(`CORRUPT\\s+${corrupt}`));
    expect(r.stdout).toContain(`inspect, then remove: ${path.join(dir, '.txnfs', `.txn-${corrupt}`)}`);
    expect(fs.existsSync(path.join(dir, '.txnfs', `.txn-${corrupt}`, 'journal'))).toBe(true);
    expect(fs.existsSync(path.join(dir, '.txnfs', `.txn-${staging}`))).toBe(false);
    expect(snapshot(dir)).toEqual({});
  });

  it('--json is the library report: its fields, in order, and errors as data', () => {
    const dir = tmpdir();
    // A committed transaction whose targets need 'sub/' to be a directory; 'sub' is now a file, so
    // it can be neither rolled forward nor rolled back: it lands in `failed`, with its error.
    const failed = crashAt(dir, 'committed', 2, 8, 'sub/');
    fs.writeFileSync(path.join(dir, 'sub'), 'in the way');
    const corrupt = crashAt(dir, 'committed', 2);
    corruptJournal(dir, corrupt);
    const r = txnfs(['recover', dir, '--json']);
    expect(r.status).toBe(4);
    expect(r.stderr).toBe('');
    const report = JSON.parse(r.stdout);
    expect(Object.keys(report)).toEqual(reportKeys);
    expect(report).toMatchObject({ dir, dryRun: false, rolledForward: [], discarded: [], skipped: [] });
    expect(report.corrupt).toEqual([{ id: corrupt, path: path.join(dir, '.txnfs', `.txn-${corrupt}`), reason: expect.stringMatching(/checksum mismatch/) }]);
    expect(report.failed).toEqual([{
      id: failed,
      path: path.join(dir, '.txnfs', `.txn-${failed}`),
      reason: expect.stringMatching(/'sub' must be a directory/),
      error: { name: 'TxnError', code: 'ETARGET', message: expect.stringMatching(/'sub' must be a directory/), path: path.join(dir, 'sub') },
    }]);
    expect(typeof report.durationMs).toBe('number');
  });

  it('draws a progress bar on a terminal for a large transaction, and erases it', (ctx) => {
    const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;
    if (!hasScript) {
      ctx.skip('needs script(1) from util-linux to give the command a terminal');
      return;
    }
    const dir = tmpdir();
    const id = crashAt(dir, 'committed', 150, 4);
    const r = spawnSync('script', ['-qec', `"${process.execPath}" "${bin}" recover "${dir}"`, '/dev/null'], { encoding: 'utf8', env: { ...process.env, COLUMNS: '100' } });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`\r\x1b[Krolling forward ${id} [`);
    expect(r.stdout).toContain('] 150/150');
    // Erased before the report.
    expect(r.stdout).toMatch(new RegExp(`\\r\\x1b\\[K${dir.replace(/[/.]/g, '\\$&')}: recovered 1 transaction`));
    // Not with --json, even on a terminal, and not when stdout is not a terminal.
    // New names each time: the crash is staged in a scratch root, so its journal records these
    // files as absent, and a roll-forward never replaces a file that appeared since.
    crashAt(dir, 'committed', 150, 4, 'b-');
    const json = spawnSync('script', ['-qec', `"${process.execPath}" "${bin}" recover "${dir}" --json`, '/dev/null'], { encoding: 'utf8' });
    expect(json.status).toBe(0);
    expect(json.stdout).not.toContain('\x1b[K');
    expect(JSON.parse(json.stdout.replace(/\r/g, '')).rolledForward[0]).toMatchObject({ entries: 150, changed: 150 });
    crashAt(dir, 'committed', 150, 4, 'c-');
    const piped = txnfs(['recover', dir]);
    expect(piped.stdout).toMatch(/recovered 1 transaction/);
    expect(piped.stdout).not.toContain('\x1b[K');
  });

  it('bad arguments: exit 2, no stack; a missing root: exit 1 (not "nothing to recover")', async () => {
    for (const [args, message] of [
      [['recover'], /missing <dir>/],
      [['recover', 'a', '--dryrun'], /unknown option '--dryrun'/],
      [['recover', 'a', 'b'], /unexpected argument 'b'/],
    ] as const) {
      const r = await runMain(args);
      expect({ args, status: r.status }).toEqual({ args, status: 2 });
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toContain('Usage: txnfs recover <dir>|s3://<bucket>[/<prefix>] [--dry-run] [--json]');
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    const missing = path.join(tmpdir(), 'typo');
    const r = txnfs(['recover', missing]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/does not exist/);
    // Issue 12 item 15: recover creates nothing, so "creates nothing outside the root" was beside the point.
    expect(r.stderr).toMatch(/check the path/);
    expect(r.stderr).not.toMatch(/Create it first|creates nothing outside/);
    expect(fs.existsSync(missing)).toBe(false);
  });
});
