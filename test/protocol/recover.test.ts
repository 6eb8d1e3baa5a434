import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { begin, codes, inspect, recover } from '../../src/index.js';
import { crashAt, makeRoot, type SimpleOp } from '../helpers/crash.js';
import { leftovers, snapshot, tmpdir } from '../helpers/tmp.js';

const ops: SimpleOp[] = [
  { op: 'write', path: 'x', data: 'new x' },
  { op: 'write', path: 'sub/y', data: 'new y' },
];

function rootWith(files: Record<string, string>): string {
  const dir = makeRoot(tmpdir());
  for (const [rel, data] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), data);
  }
  return dir;
}

function stagingDirs(dir: string): string[] {
  return leftovers(dir).filter((n) => /^\.txn-[^.]+$/.test(n));
}

describe('recover() classifies and resolves what a crash left', () => {
  it('discards a transaction that died before its commit point', async () => {
    const dir = rootWith({ x: 'old x' });
    crashAt(dir, ops, 'staged');
    expect((await inspect(dir)).map((t) => [t.state, t.owner])).toEqual([['staging', 'dead']]);
    const report = await recover(dir);
    expect(report.discarded).toHaveLength(1);
    expect(report.rolledForward).toEqual([]);
    expect(snapshot(dir)).toEqual({ x: 'old x' });
    expect(leftovers(dir)).toEqual([]);
  });

  it('rolls forward a transaction that died after its commit point', async () => {
    const dir = rootWith({ x: 'old x' });
    crashAt(dir, ops, 'committed');
    const [found] = await inspect(dir);
    expect(found).toMatchObject({ state: 'committed', owner: 'dead', entries: 2 });
    const report = await recover(dir);
    expect(report.rolledForward).toEqual([{ id: found?.id, entries: 2, changed: 2 }]);
    expect(snapshot(dir)).toEqual({ x: 'new x', 'sub/y': 'new y' });
    expect(leftovers(dir)).toEqual([]);
  });

  it('finishes a rollback that was under way (a marker wins over the journal)', async () => {
    const dir = rootWith({ x: 'old x' });
    crashAt(dir, ops, 'applied:0');
    const [staging] = stagingDirs(dir);
    fs.writeFileSync(path.join(dir, '.txnfs', staging as string, 'rollback'), 'rollback\n');
    expect((await inspect(dir))[0]?.state).toBe('rolling-back');
    const report = await recover(dir);
    expect(report.rolledBack).toHaveLength(1);
    expect(snapshot(dir)).toEqual({ x: 'old x' });
    expect(fs.existsSync(path.join(dir, 'sub'))).toBe(false);
    expect(leftovers(dir)).toEqual([]);
  });

  it('leaves a corrupt journal in place, reports it, and refuses commits over it', async () => {
    const dir = rootWith({ x: 'old x' });
    crashAt(dir, ops, 'committed');
    const [staging] = stagingDirs(dir);
    const journal = path.join(dir, '.txnfs', staging as string, 'journal');
    const bytes = fs.readFileSync(journal);
    bytes[bytes.length - 3] = (bytes[bytes.length - 3] as number) ^ 1;
    fs.writeFileSync(journal, bytes);
    for (let i = 0; i < 2; i++) {
      const report = await recover(dir);
      expect(report.corrupt).toEqual([expect.objectContaining({ path: path.join(dir, '.txnfs', staging as string) })]);
      expect(report.corrupt[0]?.reason).toMatch(/checksum/);
      expect(fs.readFileSync(journal)).toEqual(bytes); // never deleted, never "repaired"
    }
    const tx = begin({ dir });
    tx.write('x', 'later');
    const err = await tx.commit().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: codes.ECORRUPT });
    expect((err as Error).message).toContain(staging);
    expect(snapshot(dir)).toEqual({ x: 'old x' });
  });

  it('never touches a live transaction (this process holds its owner lock)', async () => {
    const dir = rootWith({ x: 'old x' });
    const live = begin({ dir });
    await live.write('x', 'live x');
    await live.write('y', 'live y'); // a second file makes the staging dir (lone.ts)
    const report = await recover(dir);
    expect(report.skipped).toEqual([{ id: live.id, state: 'staging' }]);
    expect(report.discarded).toEqual([]);
    expect(report.orphans).toEqual([]);
    expect(stagingDirs(dir)).toEqual([`.txn-${live.id}`]);
    await live.commit();
    expect(snapshot(dir)).toEqual({ x: 'live x', y: 'live y' });
    expect(leftovers(dir)).toEqual([]);
  });

  it('never touches a live lone file (a transaction of one write so far, src/transaction/lone.ts)', async () => {
    const dir = rootWith({ x: 'old x' });
    const live = begin({ dir });
    await live.write('x', 'live x');
    const [lone, ...more] = fs.readdirSync(path.join(dir, '.txnfs'));
    expect(more).toEqual([]);
    expect(lone).toMatch(/^\.tmp-/);
    const report = await recover(dir);
    expect(report).toMatchObject({ skipped: [], discarded: [], orphans: [] });
    expect(fs.readdirSync(path.join(dir, '.txnfs'))).toEqual([lone]);
    await live.commit();
    expect(snapshot(dir)).toEqual({ x: 'live x' });
    expect(leftovers(dir)).toEqual([]);
  });

  it('removes an owner lock whose transaction never created its staging dir', async () => {
    const dir = rootWith({});
    fs.mkdirSync(path.join(dir, '.txnfs', '.txn-orphan1.lock'), { recursive: true });
    fs.writeFileSync(path.join(dir, '.txnfs', '.txn-orphan1.lock', 'owner'), JSON.stringify({ host: 'elsewhere', pid: 1, start: '1', token: 't', stale: 2000 }));
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(path.join(dir, '.txnfs', '.txn-orphan1.lock', 'owner'), old, old);
    expect((await inspect(dir))[0]).toMatchObject({ id: 'orphan1', state: 'orphan-lock', owner: 'dead' });
    const report = await recover(dir);
    expect(report.discarded).toEqual([{ id: 'orphan1', entries: 0, changed: 0 }]);
    expect(leftovers(dir)).toEqual([]);
  });

  it('dryRun reports what it would do and changes nothing', async () => {
    const dir = rootWith({ x: 'old x' });
    crashAt(dir, ops, 'committed');
    const before = leftovers(dir);
    const report = await recover(dir, { dryRun: true });
    expect(report.dryRun).toBe(true);
    expect(report.rolledForward).toHaveLength(1);
    expect(snapshot(dir)).toEqual({ x: 'old x' });
    expect(leftovers(dir)).toEqual(before);
  });

  it('on a clean root reads only the home: no lock, nothing created', async () => {
    const dir = rootWith({ a: '1' });
    const report = await recover(dir);
    expect(report).toMatchObject({ rolledForward: [], rolledBack: [], discarded: [], skipped: [], corrupt: [], failed: [] });
    expect(fs.readdirSync(dir)).toEqual(['a']);
    expect((await recover(path.join(dir, 'missing'))).rolledForward).toEqual([]);
  });
});

describe('ordering (invariant 7)', () => {
  it('a later commit first rolls forward a dead committed transaction, so old never overwrites new', async () => {
    const dir = rootWith({ x: 'old x' });
    crashAt(dir, ops, 'committed');
    const tx = begin({ dir });
    tx.write('x', 'newest x');
    const result = await tx.commit();
    expect(result.recovered).toHaveLength(1);
    expect(snapshot(dir)).toEqual({ x: 'newest x', 'sub/y': 'new y' });
    expect(await recover(dir)).toMatchObject({ rolledForward: [], discarded: [] });
    expect(leftovers(dir)).toEqual([]);
  });

  it('two dead committed transactions are applied oldest first', async () => {
    // Both were committed against the same 'old x' (the first hidden while the second committed:
    // something no real commit can do, as it recovers the first before it plans). The first one
    // applied changes x, so the second finds x no longer what it recorded and leaves it: before
    // the roll-forward rule this test expected 'second' on top.
    const dir = rootWith({ x: 'old x' });
    // Each with a second file: one written file alone commits by its rename, with no journal.
    crashAt(dir, [{ op: 'write', path: 'x', data: 'first' }, { op: 'write', path: 'y1', data: '1' }], 'committed');
    const [first] = stagingDirs(dir) as [string];
    const aside = path.join(path.dirname(dir), 'aside');
    fs.mkdirSync(aside);
    // Hide the first so the second commit cannot recover it, then put it back.
    for (const n of leftovers(dir).filter((n) => n.startsWith(first))) fs.renameSync(path.join(dir, '.txnfs', n), path.join(aside, n));
    await new Promise((r) => setTimeout(r, 5)); // distinct commit times
    crashAt(dir, [{ op: 'write', path: 'x', data: 'second' }, { op: 'write', path: 'y2', data: '2' }], 'committed');
    for (const n of fs.readdirSync(aside)) fs.renameSync(path.join(aside, n), path.join(dir, '.txnfs', n));
    const report = await recover(dir);
    expect(report.rolledForward.map((t) => t.id)[0]).toBe(first.slice('.txn-'.length));
    expect(snapshot(dir)).toEqual({ x: 'first', y1: '1', y2: '2' });
    expect(report.superseded).toEqual([{ id: report.rolledForward[1]?.id, target: 'x' }]);
    expect(leftovers(dir)).toEqual([]);
  });
});
