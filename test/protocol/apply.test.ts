import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { rollBack, rollForward, type ApplyContext } from '../../src/protocol/apply.js';
import { codes } from '../../src/errors.js';
import type { DecodedJournal as Journal, JournalEntry } from '../../src/protocol/journal.js';
import { snapshot, tmpdir } from '../helpers/tmp.js';
import { fakeStaging } from '../helpers/fake-staging.js';

/**
 * Build, by hand, what commit leaves just after its commit point: staged files, backup links and a
 * journal, for: overwrite a, create new/deep/b, delete c.
 */
function committed(): { root: string; outside: string; ctx: ApplyContext } {
  const base = tmpdir();
  const root = path.join(base, 'root');
  const outside = path.join(base, 'outside');
  const staging = fakeStaging(root);
  fs.mkdirSync(outside);
  const ino = (p: string) => String(fs.statSync(p, { bigint: true }).ino);
  const entries: JournalEntry[] = [
    { op: 'write', target: 'a', staged: 0, existed: true, ino: ino(path.join(root, 'a')), stagedIno: ino(path.join(staging, 'files', '0')), mode: 0o644 },
    { op: 'write', target: 'new/deep/b', staged: 1, existed: false, ino: null, stagedIno: ino(path.join(staging, 'files', '1')), mode: 0o644 },
    { op: 'delete', target: 'c', staged: -1, existed: true, ino: ino(path.join(root, 'c')), stagedIno: null, mode: null },
  ];
  const journal: Journal = { id: 't1', created: Date.now(), dirs: ['new', 'new/deep'], entries };
  return { root, outside, ctx: { root, staging, journal, durable: true, concurrency: 4 } };
}

const OLD = { a: 'old a', c: 'old c' };
const NEW = { a: 'new a', 'new/deep/b': 'new b' };

describe('rollForward', () => {
  it('applies every entry and reports what it changed', async () => {
    const { root, ctx } = committed();
    expect(await rollForward(ctx)).toEqual({ changed: 3, unchanged: 0, superseded: [] });
    expect(snapshot(root)).toEqual(NEW);
  });

  it('is idempotent: a second run changes nothing', async () => {
    const { root, ctx } = committed();
    await rollForward(ctx);
    expect(await rollForward(ctx)).toEqual({ changed: 0, unchanged: 3, superseded: [] });
    expect(snapshot(root)).toEqual(NEW);
  });

  it('finishes a run that was cut after its first entry', async () => {
    const { root, ctx } = committed();
    fs.renameSync(path.join(ctx.staging, 'files', '0'), path.join(root, 'a'));
    expect(await rollForward(ctx)).toEqual({ changed: 2, unchanged: 1, superseded: [] });
    expect(snapshot(root)).toEqual(NEW);
  });

  it('never deletes a file that is no longer the original inode', async () => {
    const { root, ctx } = committed();
    fs.rmSync(path.join(root, 'c'));
    fs.writeFileSync(path.join(root, 'c'), 'someone else wrote c'); // a new inode
    await rollForward(ctx);
    expect(fs.readFileSync(path.join(root, 'c'), 'utf8')).toBe('someone else wrote c');
  });

  it('never deletes without the backup link that pins the inode number', async () => {
    const { root, ctx } = committed();
    fs.rmSync(path.join(ctx.staging, 'backup', '2'));
    await rollForward(ctx);
    expect(fs.readFileSync(path.join(root, 'c'), 'utf8')).toBe('old c');
  });

  it('refuses to follow a parent that became a symlink, and writes nothing outside', async () => {
    const { root, outside, ctx } = committed();
    fs.symlinkSync(outside, path.join(root, 'new'));
    await expect(rollForward(ctx)).rejects.toMatchObject({ code: codes.ETARGET });
    expect(fs.readdirSync(outside)).toEqual([]);
  });

  it('creates every planned directory, even one no remaining entry needs', async () => {
    const { root, ctx } = committed();
    const journal: Journal = { ...ctx.journal, entries: [ctx.journal.entries.at(0) as JournalEntry] };
    expect(await rollForward({ ...ctx, journal })).toEqual({ changed: 1, unchanged: 0, superseded: [] });
    expect(fs.statSync(path.join(root, 'new', 'deep')).isDirectory()).toBe(true);
  });

  it('reports progress after every entry', async () => {
    const { ctx } = committed();
    const seen: string[] = [];
    await rollForward({ ...ctx, onProgress: (done, total) => seen.push(`${done}/${total}`) });
    expect(seen).toEqual(['1/3', '2/3', '3/3']);
  });
});

describe('rollBack', () => {
  it('undoes a complete roll-forward, including the directories it created', async () => {
    const { root, ctx } = committed();
    await rollForward(ctx);
    await rollBack(ctx);
    expect(snapshot(root)).toEqual(OLD);
    expect(fs.existsSync(path.join(root, 'new'))).toBe(false);
  });

  it('undoes a partial roll-forward and is idempotent', async () => {
    const { root, ctx } = committed();
    fs.mkdirSync(path.join(root, 'new', 'deep'), { recursive: true });
    fs.renameSync(path.join(ctx.staging, 'files', '1'), path.join(root, 'new', 'deep', 'b'));
    await rollBack(ctx);
    expect(snapshot(root)).toEqual(OLD);
    expect(await rollBack(ctx)).toEqual({ changed: 0, unchanged: 3, superseded: [] });
    expect(snapshot(root)).toEqual(OLD);
  });

  it('keeps a created directory that now holds something else', async () => {
    const { root, ctx } = committed();
    await rollForward(ctx);
    fs.writeFileSync(path.join(root, 'new', 'theirs'), 'x');
    await rollBack(ctx);
    expect(snapshot(root)).toEqual({ ...OLD, 'new/theirs': 'x' });
  });

  it('without changes to undo, changes nothing', async () => {
    const { root, ctx } = committed();
    expect(await rollBack(ctx)).toEqual({ changed: 0, unchanged: 3, superseded: [] });
    expect(snapshot(root)).toEqual(OLD);
  });
});
