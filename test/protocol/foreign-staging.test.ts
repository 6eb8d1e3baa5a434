/**
 * Recovery never acts through a symlink anywhere in the home, and leaves alone (reports) state it
 * did not create with the types and owner it gives it (issue 12, item 2; invariant 3). Forged as
 * root: chown() to another uid is what another user's planted directory looks like.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { begin, codes, recover } from '../../src/index.js';
import { faults } from '../../src/io/faults.js';
import { encodeJournal, type JournalEntry } from '../../src/protocol/journal.js';
import { tmpdir } from '../helpers/tmp.js';

const isRoot = process.getuid?.() === 0;
const OTHER = 12345;

interface Scene {
  readonly root: string;
  readonly outside: string;
  readonly home: string;
}

function scene(): Scene {
  const base = tmpdir();
  const root = path.join(base, 'root');
  const outside = path.join(base, 'outside');
  fs.mkdirSync(root);
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, '0'), 'outside 0');
  fs.writeFileSync(path.join(root, 'a'), 'root a');
  const home = path.join(root, '.txnfs');
  fs.mkdirSync(home, { mode: 0o755 });
  return { root, outside, home };
}

/** Every file under `dir` with its content (symlinks as '-> target'). */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string): void => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel === '' ? e.name : `${rel}/${e.name}`;
      const p = path.join(dir, r);
      if (e.isSymbolicLink()) out[r] = `-> ${fs.readlinkSync(p)}`;
      else if (e.isDirectory()) walk(r);
      else out[r] = fs.readFileSync(p, 'utf8');
    }
  };
  walk('');
  return out;
}

const st = (p: string) => fs.lstatSync(p, { bigint: true });

/** A dead transaction `id` with a valid journal (no owner lock, 0700 like txnfs makes it). */
function plant(s: Scene, id: string, entries: JournalEntry[], extra: (staging: string) => void): string {
  const staging = path.join(s.home, `.txn-${id}`);
  fs.mkdirSync(staging, { mode: 0o700 });
  extra(staging);
  fs.writeFileSync(path.join(staging, 'journal'), encodeJournal({ id, created: Date.now(), dirs: [], entries }));
  return staging;
}

function writeOver(target: string, orig: string, staged: string): JournalEntry {
  return { op: 'write', target, staged: 0, existed: true, ino: String(st(orig).ino), stagedIno: String(st(staged).ino), mode: 0o644, size: Number(st(orig).size), mtimeNs: String(st(orig).mtimeNs), stagedSize: Number(st(staged).size), backup: 'link' };
}

describe.runIf(isRoot)('forged staging dirs (as root)', () => {
  it('files/ a symlink to a directory outside the root: nothing outside moves, the report names it', async () => {
    const s = scene();
    const staging = plant(s, 'evil1', [], (dir) => fs.symlinkSync(s.outside, path.join(dir, 'files')));
    // The journal writes a new file 'b' from files/0, which is outside/0 through the symlink.
    fs.writeFileSync(
      path.join(staging, 'journal'),
      encodeJournal({ id: 'evil1', created: Date.now(), dirs: [], entries: [{ op: 'write', target: 'b', staged: 0, existed: false, ino: null, stagedIno: String(st(path.join(s.outside, '0')).ino), mode: 0o644, size: null, mtimeNs: null, stagedSize: 9, backup: null }] }),
    );
    const before = { outside: tree(s.outside), root: tree(s.root) };
    const report = await recover(s.root).catch((err: unknown) => err);
    // First what happened on disk (before the fix: outside/0 was moved into the root as 'b').
    expect(tree(s.outside)).toEqual(before.outside);
    expect(tree(s.root)).toEqual(before.root);
    expect(report).toMatchObject({ foreign: [{ id: 'evil1', reason: expect.stringMatching(/files' is a symlink/) }], rolledForward: [], rolledBack: [], discarded: [], corrupt: [] });
  });

  it('backup/ a symlink outside, behind a rollback marker: the original outside is not moved into the root', async () => {
    const s = scene();
    // Rolling back a write of 'a' whose staged file is root/a itself: rollBack would rename
    // backup/0 (outside/0, through the symlink) over it.
    const staging = plant(s, 'evil2', [], (dir) => {
      fs.mkdirSync(path.join(dir, 'files'));
      fs.symlinkSync(s.outside, path.join(dir, 'backup'));
      fs.writeFileSync(path.join(dir, 'rollback'), 'rollback\n');
    });
    const a = path.join(s.root, 'a');
    fs.writeFileSync(path.join(staging, 'journal'), encodeJournal({ id: 'evil2', created: Date.now(), dirs: [], entries: [writeOver('a', path.join(s.outside, '0'), a)] }));
    const before = { outside: tree(s.outside), root: tree(s.root) };
    const report = await recover(s.root).catch((err: unknown) => err);
    expect(tree(s.outside)).toEqual(before.outside);
    expect(tree(s.root)).toEqual(before.root);
    expect(report).toMatchObject({ foreign: [{ id: 'evil2' }] });
  });

  it('backup/ a symlink to a directory holding a link of a root file: that file is not deleted', async () => {
    const s = scene();
    const victim = path.join(s.root, 'victim');
    fs.writeFileSync(victim, 'keep me');
    fs.linkSync(victim, path.join(s.outside, 'pin')); // what backup/0 would have to be
    fs.renameSync(path.join(s.outside, 'pin'), path.join(s.outside, '0'));
    plant(s, 'evil3', [{ op: 'delete', target: 'victim', staged: -1, existed: true, ino: String(st(victim).ino), stagedIno: null, mode: null, size: 7, mtimeNs: String(st(victim).mtimeNs), stagedSize: null, backup: 'link' }], (dir) =>
      fs.symlinkSync(s.outside, path.join(dir, 'backup')),
    );
    const report = await recover(s.root).catch((err: unknown) => err);
    expect(fs.readFileSync(victim, 'utf8')).toBe('keep me');
    expect(report).toMatchObject({ foreign: [{ id: 'evil3' }] });
  });

  it('a journal that is a symlink is not read through', async () => {
    const s = scene();
    const staging = path.join(s.home, '.txn-evil4');
    fs.mkdirSync(staging, { mode: 0o700 });
    fs.writeFileSync(path.join(s.outside, 'journal'), encodeJournal({ id: 'evil4', created: Date.now(), dirs: [], entries: [] }));
    fs.symlinkSync(path.join(s.outside, 'journal'), path.join(staging, 'journal'));
    const report = await recover(s.root);
    expect(fs.existsSync(staging)).toBe(true); // before the fix: read through, rolled forward, removed
    expect(report.foreign.map((t) => t.id)).toEqual(['evil4']);
  });

  it("a staging dir owned by another uid is left untouched and reported, and does not block this user's commits", async () => {
    const s = scene();
    const staged = path.join(s.outside, 'staged');
    const staging = plant(s, 'theirs', [], (dir) => {
      fs.mkdirSync(path.join(dir, 'files'));
      fs.writeFileSync(path.join(dir, 'files', '0'), 'their data');
      fs.linkSync(path.join(dir, 'files', '0'), staged);
    });
    fs.writeFileSync(
      path.join(staging, 'journal'),
      encodeJournal({ id: 'theirs', created: Date.now(), dirs: [], entries: [{ op: 'write', target: 'planted', staged: 0, existed: false, ino: null, stagedIno: String(st(staged).ino), mode: 0o644, size: null, mtimeNs: null, stagedSize: 10, backup: null }] }),
    );
    for (const p of [staging, path.join(staging, 'files'), path.join(staging, 'files', '0'), path.join(staging, 'journal')]) fs.chownSync(p, OTHER, OTHER);
    const report = await recover(s.root);
    expect(fs.existsSync(path.join(s.root, 'planted'))).toBe(false);
    expect(fs.readdirSync(path.join(staging, 'files'))).toEqual(['0']);
    expect(report.foreign).toEqual([{ id: 'theirs', path: staging, reason: expect.stringMatching(/owned by uid 12345/) }]);
    const tx = begin({ dir: s.root });
    void tx.write('mine', 'ok');
    await tx.commit();
    expect(fs.readFileSync(path.join(s.root, 'mine'), 'utf8')).toBe('ok');
    expect(fs.existsSync(path.join(s.root, 'planted'))).toBe(false);
  });

  it('a staging dir others may write to is not trusted', async () => {
    const s = scene();
    const staging = plant(s, 'loose', [], (dir) => fs.mkdirSync(path.join(dir, 'files')));
    fs.chmodSync(staging, 0o777);
    const report = await recover(s.root);
    expect(fs.existsSync(staging)).toBe(true);
    expect(report.foreign.map((t) => t.id)).toEqual(['loose']);
  });
});

describe.runIf(isRoot)("the home's own mode and owner", () => {
  it('a home (1777) owned by another user who is not the root\'s owner is refused with ETARGET by recover() and commit()', async () => {
    const s = scene();
    fs.chmodSync(s.home, 0o1777);
    fs.chownSync(s.home, OTHER, OTHER);
    await expect(recover(s.root)).rejects.toMatchObject({ code: codes.ETARGET, message: expect.stringMatching(/owned by uid 12345/) });
    const tx = begin({ dir: s.root });
    void tx.write('x', 'x');
    await expect(tx.commit()).rejects.toMatchObject({ code: codes.ETARGET });
    expect(fs.existsSync(path.join(s.root, 'x'))).toBe(false);
    expect(fs.readdirSync(s.home)).toEqual([]);
  });

  it("a home owned by the root's owner is trusted, with that owner's staging dirs", async () => {
    const s = scene();
    fs.chownSync(s.root, OTHER, OTHER);
    fs.chownSync(s.home, OTHER, OTHER);
    const staging = plant(s, 'owners', [], () => undefined);
    fs.chownSync(staging, OTHER, OTHER);
    fs.chownSync(path.join(staging, 'journal'), OTHER, OTHER);
    const report = await recover(s.root);
    expect(report.foreign).toEqual([]);
    expect(report.rolledForward.map((t) => t.id)).toEqual(['owners']);
  });

  it('in a world-writable home (made by single-file writes in a /tmp-like dir), another user\'s staging dir is not trusted even though the home is ours', async () => {
    const s = scene();
    fs.chmodSync(s.home, 0o1777);
    const staging = plant(s, 'planted', [], () => undefined);
    fs.chownSync(staging, OTHER, OTHER);
    fs.chownSync(path.join(staging, 'journal'), OTHER, OTHER);
    const report = await recover(s.root);
    expect(report.foreign.map((t) => t.id)).toEqual(['planted']);
  });

  it('a transaction in a sticky world-writable dir creates .txnfs 0755 and its staging dir 0700', async () => {
    const root = tmpdir();
    fs.chmodSync(root, 0o1777);
    let stagingMode = -1;
    let homeMode = -1;
    faults.hook = (e) => {
      if (e.kind !== 'step' || e.name !== 'staged') return;
      const home = path.join(root, '.txnfs');
      // Looked at while the transaction runs: a finished one leaves no home (home.ts).
      homeMode = fs.statSync(home).mode & 0o7777;
      const name = fs.readdirSync(home).find((n) => n.startsWith('.txn-') && !n.endsWith('.lock')) as string;
      stagingMode = fs.statSync(path.join(home, name)).mode & 0o7777;
    };
    try {
      const tx = begin({ dir: root });
      void tx.write('f', 'v');
      void tx.write('g', 'w'); // two files: a staging dir (one alone is a lone file, lone.ts)
      await tx.commit();
    } finally {
      faults.hook = undefined;
    }
    expect(homeMode).toBe(0o755);
    expect(stagingMode).toBe(0o700);
    expect(fs.readdirSync(root).sort()).toEqual(['f', 'g']);
  });
});
