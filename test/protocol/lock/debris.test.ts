/**
 * Issue 12, item 9 (lock parts): debris a crash leaves among the locks. A tomb (made only by an
 * older txnfs) whose owner record is gone, and a lock directory with no owner entry in it (a crash
 * between an acquirer's two mkdirs or a releaser's two rmdirs) are nobody's once a short grace has
 * passed (lock.ts, OWNERLESS_GRACE_MS): recover() removes them and commits take the lock without
 * waiting for lockStale; `status` reports tombs. Fresh ones are left alone by recovery.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { begin, inspect, recover } from '../../../src/index.js';
import { status } from '../../../src/protocol/status.js';
import { tmpdir } from '../../helpers/tmp.js';

/** Make an empty directory at `p`, last changed `ageMs` ago. */
function ownerless(p: string, ageMs: number): void {
  fs.mkdirSync(p, { recursive: true });
  const t = new Date(Date.now() - ageMs);
  fs.utimesSync(p, t, t);
}

describe('owner-less tombs', () => {
  it('one untouched for longer than the grace is reported by status and removed by recover(), before lockStale', async () => {
    const root = tmpdir();
    const tomb = path.join(root, '.txnfs', '.tomb-abcdefghij');
    ownerless(tomb, 5000);
    const before = await status(root);
    expect(before.tombs).toEqual([tomb]);
    expect(before.health).toBe('needs-recovery');
    await recover(root, { lockStale: 60_000 });
    expect(fs.existsSync(tomb)).toBe(false);
    const after = await status(root);
    expect(after.tombs).toEqual([]);
    expect(after.health).toBe('ok');
  });

  it('a fresh one is left alone (its remover may be between its two steps)', async () => {
    const root = tmpdir();
    const tomb = path.join(root, '.txnfs', '.tomb-abcdefghij');
    ownerless(tomb, 0);
    await recover(root);
    expect(fs.existsSync(tomb)).toBe(true);
  });
});

describe('lock directories without an owner (empty)', () => {
  it('an owner lock past the grace is dead: inspect says so and recover() removes it', async () => {
    const root = tmpdir();
    const lock = path.join(root, '.txnfs', '.txn-orphan2.lock');
    ownerless(lock, 5000);
    expect((await inspect(root)).map((t) => [t.id, t.owner])).toEqual([['orphan2', 'dead']]);
    await recover(root, { lockStale: 60_000 });
    expect(fs.existsSync(lock)).toBe(false);
  });

  it('a root lock past the grace does not make a commit wait for lockStale', async () => {
    const root = tmpdir();
    ownerless(path.join(root, '.txnfs', 'lock'), 5000);
    const tx = begin({ dir: root, lockTimeout: 1000, lockStale: 60_000 });
    tx.write('a.txt', 'a');
    await tx.commit();
    expect(fs.readFileSync(path.join(root, 'a.txt'), 'utf8')).toBe('a');
  });

  it('a fresh one does not block a commit: an acquirer adds its entry beside, and recovery waits the grace', async () => {
    const root = tmpdir();
    const lock = path.join(root, '.txnfs', '.txn-fresh1.lock');
    ownerless(lock, 0);
    // An owner lock with no entry yet may be an acquirer between its two mkdirs: not dead yet.
    expect((await inspect(root)).map((t) => [t.id, t.owner])).toEqual([['fresh1', 'held']]);
    ownerless(path.join(root, '.txnfs', 'lock'), 0);
    const tx = begin({ dir: root, lockTimeout: 200, lockStale: 60_000 });
    tx.write('a.txt', 'a');
    await tx.commit();
    expect(fs.readFileSync(path.join(root, 'a.txt'), 'utf8')).toBe('a');
  });
});
