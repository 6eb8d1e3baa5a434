// examples/service.mjs: recovers at boot, keeps its two state files in agreement through kills,
// and stops cleanly on SIGTERM.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { start } from '../helpers/child.js';
import { crashExample, examples, runExample } from '../helpers/examples.js';
import { leftovers, tmpdir } from '../helpers/tmp.js';

/** The service's invariant: counters.json counts exactly the events and ticks in events.csv. */
function agree(dir: string): boolean {
  const counters = JSON.parse(fs.readFileSync(path.join(dir, 'counters.json'), 'utf8')) as { events: number; ticks: number };
  const rows = fs.readFileSync(path.join(dir, 'events.csv'), 'utf8').trim().split('\n').slice(1);
  const lastTick = Number(rows.at(-1)?.split(',')[0]);
  return rows.length === counters.events && lastTick === counters.ticks;
}

describe('examples/service.mjs', () => {
  it('after a kill in the middle of a commit, the next boot rolls it forward before reading its state', () => {
    const dir = path.join(tmpdir(), 'state');
    // Killed in its third transaction, after events.csv was renamed into place and before
    // counters.json was (two renames per transaction: this is the 6th): on disk the two files
    // disagree.
    crashExample('rename', 6, 'service.mjs', [dir, '0']);
    expect(agree(dir)).toBe(false);

    const boot = runExample('service.mjs', [dir, '0', '1']);
    expect(boot.stderr).toBe('');
    expect(boot.status).toBe(0);
    expect(boot.stdout).toMatch(/^boot: recovered .* \(rolled forward 1, rolled back 0, discarded 0\)/);
    // The third tick was finished by recovery; this run did the fourth.
    expect(boot.stdout).toContain('tick 4: 7 events\n');
    expect(agree(dir)).toBe(true);
    expect(leftovers(dir)).toEqual([]);
  });

  it('stops on SIGTERM with exit code 0, its state consistent', async () => {
    const dir = path.join(tmpdir(), 'state');
    const service = start('', [], { command: [process.execPath, path.join(examples, 'service.mjs'), dir, '20'] });
    // Wait until it has committed a few ticks, then ask it to stop.
    const ticks = (): number => {
      try {
        return (JSON.parse(fs.readFileSync(path.join(dir, 'counters.json'), 'utf8')) as { ticks: number }).ticks;
      } catch {
        return 0; // not written yet
      }
    };
    await expect.poll(ticks, { timeout: 15_000, interval: 20 }).toBeGreaterThanOrEqual(3);
    service.child.kill('SIGTERM');
    const r = await service.done;
    expect(r.stderr).toBe('');
    expect({ status: r.status, signal: r.signal }).toEqual({ status: 0, signal: null });
    expect(r.stdout).toMatch(/stopped \(\d+ ticks in this run\)\n$/);
    expect(agree(dir)).toBe(true);
    expect(leftovers(dir)).toEqual([]);
  });

  it('refuses to start on a root recovery cannot resolve (a corrupt journal), and says why', () => {
    const dir = path.join(tmpdir(), 'state');
    crashExample('committed', 1, 'service.mjs', [dir, '0']);
    const home = path.join(dir, '.txnfs');
    const staging = fs.readdirSync(home).find((n) => n.startsWith('.txn-') && !n.endsWith('.lock')) as string;
    const journal = path.join(home, staging, 'journal');
    const bytes = fs.readFileSync(journal);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 2) ^ 0x01, bytes.length - 2); // one flipped bit: the checksum fails
    fs.writeFileSync(journal, bytes);

    const boot = runExample('service.mjs', [dir, '0', '1']);
    expect(boot.status).toBe(1);
    expect(boot.stderr).toContain(`boot: ${path.join(home, staging)}: `);
    expect(boot.stdout).not.toContain('tick');
    expect(fs.existsSync(journal)).toBe(true); // left for a person
  });
});
