/**
 * The roll-forward rule (invariant 7, against every writer): a dead transaction's journal replaces
 * or removes a target only while the target is still what it was at the commit point. Whatever
 * anyone wrote since (a single-file write, another program, a person) stands, and the report says
 * which targets were left.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { begin, recover, writeFile } from '../../src/index.js';
import { rollBack, rollForward, type ApplyContext } from '../../src/protocol/apply.js';
import { faults } from '../../src/io/faults.js';
import { crashAt, makeRoot, type SimpleOp } from '../helpers/crash.js';
import { leftovers, snapshot, tmpdir } from '../helpers/tmp.js';
import { fakeStaging } from '../helpers/fake-staging.js';

function rootWith(files: Record<string, string>): string {
  const dir = makeRoot(tmpdir());
  for (const [rel, data] of Object.entries(files)) fs.writeFileSync(path.join(dir, rel), data);
  return dir;
}

/**
 * The file written beside a lone write: one written file commits by its rename, with no journal
 * (src/protocol/direct.ts), so there is no "dead after its commit point" to leave without it.
 */
const COMPANION: SimpleOp = { op: 'write', path: 'companion.txt', data: 'c' };

/** Leave a (journaled) transaction that died right after its commit point; returns its id. */
function diedAfterCommitPoint(dir: string, ops: readonly SimpleOp[]): string {
  const lone = ops.length === 1 && ops[0]?.op === 'write';
  const r = crashAt(dir, lone ? [...ops, COMPANION] : ops, 'committed');
  expect(r.killed).toBe(true);
  const staging = fs.readdirSync(path.join(dir, '.txnfs')).filter((n) => n.startsWith('.txn-') && !n.endsWith('.lock'));
  expect(staging).toHaveLength(1);
  return (staging[0] as string).slice('.txn-'.length);
}

describe('a dead transaction never overwrites what was written after its commit point', () => {
  it('the issue: commit dies after its commit point, then writeFile saves doc.md: recover() keeps "saved" and says so', async () => {
    const dir = rootWith({ 'doc.md': 'v1' });
    const id = diedAfterCommitPoint(dir, [{ op: 'write', path: 'doc.md', data: 'from the dead transaction' }]);
    await writeFile(path.join(dir, 'doc.md'), 'saved');
    const report = await recover(dir);
    expect(snapshot(dir)).toEqual({ 'doc.md': 'saved', 'companion.txt': 'c' });
    expect(report.rolledForward.map((t) => t.id)).toEqual([id]);
    expect(report.superseded).toEqual([{ id, target: 'doc.md' }]);
    expect(leftovers(dir)).toEqual([]);
  });

  it('the rest of the transaction is still rolled forward', async () => {
    const dir = rootWith({ 'doc.md': 'v1', 'other.md': 'v1' });
    const id = diedAfterCommitPoint(dir, [
      { op: 'write', path: 'doc.md', data: 'dead' },
      { op: 'write', path: 'other.md', data: 'new other' },
    ]);
    await writeFile(path.join(dir, 'doc.md'), 'saved');
    const report = await recover(dir);
    expect(snapshot(dir)).toEqual({ 'doc.md': 'saved', 'other.md': 'new other' });
    expect(report.superseded).toEqual([{ id, target: 'doc.md' }]);
  });

  it('a file the transaction created, which another program created first after the commit point, stays', async () => {
    const dir = rootWith({});
    const id = diedAfterCommitPoint(dir, [{ op: 'write', path: 'new.md', data: 'dead' }]);
    fs.writeFileSync(path.join(dir, 'new.md'), 'foreign');
    const report = await recover(dir);
    expect(snapshot(dir)).toEqual({ 'new.md': 'foreign', 'companion.txt': 'c' });
    expect(report.superseded).toEqual([{ id, target: 'new.md' }]);
    expect(leftovers(dir)).toEqual([]);
  });

  it('a file the transaction removes, rewritten in place by another program after the commit point, stays', async () => {
    const dir = rootWith({ 'gone.md': 'v1' });
    const id = diedAfterCommitPoint(dir, [{ op: 'delete', path: 'gone.md' }]);
    fs.writeFileSync(path.join(dir, 'gone.md'), 'rewritten in place'); // same inode, new size and mtime
    const report = await recover(dir);
    expect(snapshot(dir)).toEqual({ 'gone.md': 'rewritten in place' });
    expect(report.superseded).toEqual([{ id, target: 'gone.md' }]);
  });

  it('a file the transaction replaces, replaced by another program (write a temp, rename it over), stays', async () => {
    const dir = rootWith({ 'conf.json': '{"v":1}' });
    const id = diedAfterCommitPoint(dir, [{ op: 'write', path: 'conf.json', data: '{"v":2}' }]);
    fs.writeFileSync(path.join(dir, 'conf.json.tmp'), '{"v":3}');
    fs.renameSync(path.join(dir, 'conf.json.tmp'), path.join(dir, 'conf.json'));
    const report = await recover(dir);
    expect(snapshot(dir)).toEqual({ 'conf.json': '{"v":3}', 'companion.txt': 'c' });
    expect(report.superseded).toEqual([{ id, target: 'conf.json' }]);
  });

  it('an in-place rewrite of the same size is told apart by its mtime', async () => {
    const dir = rootWith({ 'a.txt': 'aaaa' });
    const id = diedAfterCommitPoint(dir, [{ op: 'write', path: 'a.txt', data: 'dead' }]);
    await new Promise((r) => setTimeout(r, 20));
    fs.writeFileSync(path.join(dir, 'a.txt'), 'bbbb');
    const report = await recover(dir);
    expect(snapshot(dir)).toEqual({ 'a.txt': 'bbbb', 'companion.txt': 'c' });
    expect(report.superseded).toEqual([{ id, target: 'a.txt' }]);
  });

  it('untouched targets are rolled forward as before, with nothing superseded', async () => {
    const dir = rootWith({ 'a.txt': 'old', 'gone.md': 'x' });
    diedAfterCommitPoint(dir, [
      { op: 'write', path: 'a.txt', data: 'new' },
      { op: 'write', path: 'b.txt', data: 'created' },
      { op: 'delete', path: 'gone.md' },
    ]);
    const report = await recover(dir);
    expect(snapshot(dir)).toEqual({ 'a.txt': 'new', 'b.txt': 'created' });
    expect(report.superseded).toEqual([]);
  });
});

describe('a live commit obeys the same rule', () => {
  it('a foreign write between the commit point and the apply stands; the commit resolves with a warning naming it', async () => {
    const dir = rootWith({ 'a.txt': 'old a', 'b.txt': 'old b' });
    faults.hook = (e) => {
      if (e.kind === 'step' && e.name === 'committed') fs.writeFileSync(path.join(dir, 'a.txt'), 'foreign');
    };
    try {
      const tx = begin({ dir });
      void tx.write('a.txt', 'txn a');
      void tx.write('b.txt', 'txn b');
      const result = await tx.commit();
      expect(result.warnings).toHaveLength(1);
      expect(result.warnings[0]).toMatch(/'a\.txt' was changed by another writer/);
    } finally {
      faults.hook = undefined;
    }
    expect(snapshot(dir)).toEqual({ 'a.txt': 'foreign', 'b.txt': 'txn b' });
    expect(leftovers(dir)).toEqual([]);
  });
});

describe('rollBack never undoes over what someone wrote after the apply', () => {
  function applied(): { root: string; ctx: ApplyContext } {
    const root = tmpdir();
    const staging = fakeStaging(root);
    const st = (p: string) => fs.statSync(p, { bigint: true });
    const orig = (p: string) => ({ ino: String(st(p).ino), size: Number(st(p).size), mtimeNs: String(st(p).mtimeNs), backup: 'link' as const });
    const staged = (p: string) => ({ stagedIno: String(st(p).ino), stagedSize: Number(st(p).size) });
    const journal = {
      id: 't1',
      created: Date.now(),
      dirs: [],
      entries: [
        { op: 'write' as const, target: 'a', staged: 0, existed: true, ...orig(path.join(root, 'a')), ...staged(path.join(staging, 'files', '0')), mode: 0o644 },
        { op: 'write' as const, target: 'b', staged: 1, existed: false, ino: null, ...staged(path.join(staging, 'files', '1')), mode: 0o644, size: null, mtimeNs: null, backup: null },
        { op: 'delete' as const, target: 'c', staged: -1, existed: true, ...orig(path.join(root, 'c')), stagedIno: null, stagedSize: null, mode: null },
      ],
    };
    return { root, ctx: { root, staging, journal, durable: false, concurrency: 2 } };
  }

  it('leaves targets changed after the apply as they are, and restores the rest', async () => {
    const { root, ctx } = applied();
    await rollForward(ctx);
    fs.writeFileSync(path.join(root, 'a.tmp'), 'someone replaced a');
    fs.renameSync(path.join(root, 'a.tmp'), path.join(root, 'a'));
    fs.writeFileSync(path.join(root, 'c'), 'someone re-created c');
    const outcome = await rollBack(ctx);
    expect(snapshot(root)).toEqual({ a: 'someone replaced a', c: 'someone re-created c' });
    expect(outcome.superseded.sort()).toEqual(['a', 'c']);
  });

  it('without foreign changes, restores every original exactly', async () => {
    const { root, ctx } = applied();
    await rollForward(ctx);
    const outcome = await rollBack(ctx);
    expect(snapshot(root)).toEqual({ a: 'old a', c: 'old c' });
    expect(outcome.superseded).toEqual([]);
  });
});
