/**
 * The suite every filesystem of the matrix runs (test/filesystems/<fs>.test.ts): doctor's table
 * (an assertion per filesystem), the core's semantics, the single-file API, a kill loop over a
 * 3-file transaction, four concurrent writers, and the begin() warning. Sized small: the whole
 * matrix runs in well under three minutes on two cores.
 *
 * The filesystem is mounted while the file is collected (top-level await), so a filesystem that
 * cannot be mounted here shows its reason in the skipped suite's name.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { begin, codes, doctor, recover, update, writeFile, writeJson, type DoctorAction, type DoctorCheckId, type DoctorReport } from '../../src/index.js';
import { crashAt, type SimpleOp } from '../helpers/crash.js';
import { run } from '../helpers/child.js';
import { txnfs } from '../helpers/bin.js';
import { mountFs, type FsName, type Mounted } from '../helpers/filesystems.js';
import { mount, umount } from '../helpers/mount.js';
import { inlineAllowed, inlineUnder, resetInline } from '../../src/io/inline.js';

export interface Expected {
  readonly fsType: string | RegExp;
  readonly locality: DoctorReport['locality'];
  readonly verdict: DoctorReport['verdict'];
  /** The action of every check. */
  readonly actions: Readonly<Record<DoctorCheckId, DoctorAction>>;
  /** Permission bits are stored (FAT has none: fusefat reports 0700 for everything). */
  readonly modes: boolean;
  readonly caseInsensitive: boolean;
  /** begin() warns (TXNFS_UNSAFE_FS). */
  readonly warns: boolean;
  /**
   * Why the core suites (semantics, single-file, kill loop, writers) do not apply here, when
   * doctor says a guarantee is refused or broken; the file then tests that instead.
   */
  readonly coreSkip?: string;
  /**
   * Why no transaction can commit here at all (none today; fusefat needed it while locks were
   * published by renaming a directory). The tests that need a commit are skipped with this reason.
   */
  readonly noCommit?: string;
  /** Why the four concurrent writers cannot run here (and the file shows it instead). */
  readonly writersSkip?: string;
  /**
   * Why a file's device number here is not the one mountinfo lists for the mount (btrfs: each
   * subvolume has its own), so single-file writes, which decide by device, keep their calls in
   * the thread pool (src/platform/local-root.ts).
   */
  readonly otherDevice?: string;
}

export const localActions: Readonly<Record<DoctorCheckId, DoctorAction>> = {
  filesystem: 'none', rename: 'none', reads: 'none', 'dir-rename': 'none', 'dir-fsync': 'none', 'hard-links': 'none', 'protected-hardlinks': 'none',
  inodes: 'none', modes: 'none', 'exclusive-create': 'none', mtime: 'none', case: 'none', unicode: 'none', mounts: 'none', space: 'none',
};

/** What every local disk filesystem tested here holds: everything, with no fallback and no warning. */
export function localDisk(fsType: string): Expected {
  return { fsType, locality: 'local', verdict: 'holds', actions: localActions, modes: true, caseInsensitive: false, warns: false };
}

export function files(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, rel: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.name === '.txnfs') continue;
      const r = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) walk(path.join(d, e.name), r);
      else out[r] = fs.readFileSync(path.join(d, e.name), 'utf8');
    }
  };
  walk(dir, '');
  return out;
}

/** Capture the process warnings `fn` emits (they are delivered on the next tick). */
async function warningsOf(fn: () => Promise<void>): Promise<Error[]> {
  const seen: Error[] = [];
  const on = (w: Error): void => void seen.push(w);
  process.on('warning', on);
  try {
    await fn();
    await new Promise((r) => setTimeout(r, 20));
  } finally {
    process.off('warning', on);
  }
  return seen.filter((w) => (w as { code?: string }).code === 'TXNFS_UNSAFE_FS');
}

export async function filesystemSuite(name: FsName, expected: Expected): Promise<Mounted | undefined> {
  let m: Mounted | undefined;
  let reason = '';
  try {
    m = await mountFs(name);
  } catch (err) {
    reason = ` [SKIPPED: cannot mount ${name}: ${(err as Error).message}]`;
  }
  afterAll(() => m?.cleanup());
  let n = 0;
  /** A fresh root on the mounted filesystem for each test. */
  const fresh = (): string => {
    const dir = path.join((m as Mounted).root, `t${n++}`);
    fs.mkdirSync(dir);
    return dir;
  };

  const core = expected.coreSkip === undefined ? it : it.skip;
  const committing = expected.noCommit === undefined ? it : it.skip;
  const commitNote = expected.noCommit === undefined ? '' : ` [SKIPPED: ${expected.noCommit}]`;
  const coreNote = expected.coreSkip === undefined ? '' : ` [SKIPPED: ${expected.coreSkip}]`;
  describe.skipIf(m === undefined)(`${name}${reason}`, () => {
    it('doctor reports what holds, what falls back and what is refused, and leaves nothing behind', async () => {
      const dir = fresh();
      const r = await doctor(dir);
      expect(r.fsType).toMatch(expected.fsType);
      expect({ locality: r.locality, verdict: r.verdict }).toEqual({ locality: expected.locality, verdict: expected.verdict });
      expect(Object.fromEntries(r.checks.map((c) => [c.id, c.action]))).toEqual(expected.actions);
      for (const c of r.checks) expect(c.holds).toBe(c.action === 'none');
      // The CLI's exit code is the verdict (0 holds, 5 conditional, 6 broken).
      expect(txnfs(['doctor', dir]).status).toBe({ holds: 0, conditional: 5, broken: 6 }[expected.verdict]);
      // The scratch dir and the home doctor made are gone.
      expect(fs.readdirSync(dir)).toEqual([]);
    });

    core(`core semantics: create, overwrite, delete, nested dirs, modes, preconditions${coreNote}`, async () => {
      const dir = fresh();
      const tx = begin({ dir, warnUnsafeFs: false });
      tx.write('a.txt', 'one');
      tx.write('gone.txt', 'soon gone');
      tx.write('sub/deep/b.txt', 'two', { mode: 0o600 });
      await tx.commit();
      expect(files(dir)).toEqual({ 'a.txt': 'one', 'gone.txt': 'soon gone', 'sub/deep/b.txt': 'two' });
      // Small calls run inline only on a local filesystem (src/io/inline.ts); through FUSE or a
      // network client each is a round trip, and stays in the thread pool.
      expect(inlineAllowed(path.join(dir, 'a.txt'))).toBe(expected.locality === 'local');
      if (expected.modes) expect(fs.statSync(path.join(dir, 'sub/deep/b.txt')).mode & 0o777).toBe(0o600);

      const tx2 = begin({ dir, warnUnsafeFs: false });
      const { version } = await tx2.read('a.txt');
      tx2.write('a.txt', 'one, overwritten', { ifUnchanged: version });
      tx2.remove('gone.txt');
      tx2.write('sub/c.txt', 'three');
      await tx2.commit();
      expect(files(dir)).toEqual({ 'a.txt': 'one, overwritten', 'sub/c.txt': 'three', 'sub/deep/b.txt': 'two' });

      // A stale version and an exclusive create of an existing file: refused, nothing changes.
      const tx3 = begin({ dir, warnUnsafeFs: false });
      tx3.write('a.txt', 'lost', { ifUnchanged: version });
      tx3.write('new.txt', 'lost too');
      await expect(tx3.commit()).rejects.toMatchObject({ code: codes.EPRECONDITION });
      const tx4 = begin({ dir, warnUnsafeFs: false });
      tx4.write('sub/c.txt', 'lost', { exclusive: true });
      await expect(tx4.commit()).rejects.toMatchObject({ code: codes.EPRECONDITION });
      expect(files(dir)).toEqual({ 'a.txt': 'one, overwritten', 'sub/c.txt': 'three', 'sub/deep/b.txt': 'two' });
      expect(homeNames(dir).filter((e) => e.startsWith('.txn-'))).toEqual([]);
    });

    committing(`two spellings of one name: ${expected.caseInsensitive ? 'refused (ETARGET), the filesystem folds case' : 'two files'}${commitNote}`, async () => {
      const dir = fresh();
      const tx = begin({ dir, warnUnsafeFs: false });
      tx.write('Readme', 'a');
      tx.write('README', 'b');
      if (expected.caseInsensitive) {
        await expect(tx.commit()).rejects.toMatchObject({ code: codes.ETARGET });
        expect(files(dir)).toEqual({});
        // And when one spelling already exists (a fresh root: fusefat keeps the first's lock).
        const dir2 = fresh();
        fs.writeFileSync(path.join(dir2, 'Notes'), 'old');
        const tx2 = begin({ dir: dir2, warnUnsafeFs: false });
        tx2.write('notes', 'a');
        tx2.write('NOTES', 'b');
        await expect(tx2.commit()).rejects.toMatchObject({ code: codes.ETARGET });
        expect(files(dir2)).toEqual({ Notes: 'old' });
      } else {
        await tx.commit();
        expect(files(dir)).toEqual({ Readme: 'a', README: 'b' });
      }
    });

    core(`single-file API: writeFile, writeJson, update${coreNote}`, async () => {
      const dir = fresh();
      // As if a transaction had used a root on the local disk above this mount (the temp dir):
      // its record must not decide for the directories single-file writes use on the mount.
      inlineUnder(fs.realpathSync(path.dirname(path.dirname((m as Mounted).root))));
      try {
        await writeFile(path.join(dir, 'f.txt'), 'hello');
        await writeFile(path.join(dir, 'f.txt'), 'hello again');
        await writeJson(path.join(dir, 'nested/c.json'), { n: 1 }, { mkdirs: true });
        await update(path.join(dir, 'nested/c.json'), (old) => JSON.stringify({ n: (JSON.parse(String(old)) as { n: number }).n + 1 }));
        await expect(writeFile(path.join(dir, 'f.txt'), 'x', { exclusive: true })).rejects.toMatchObject({ code: codes.EPRECONDITION });
        expect(files(dir)).toEqual({ 'f.txt': 'hello again', 'nested/c.json': '{"n":2}' });
        // Their small calls run inline only on a local filesystem whose device mountinfo lists.
        const inline = expected.locality === 'local' && expected.otherDevice === undefined;
        expect(inlineAllowed(path.join(dir, 'f.txt'))).toBe(inline);
        expect(inlineAllowed(path.join(dir, 'nested', '.txnfs', 'x'))).toBe(inline);
      } finally {
        resetInline(); // each root is recorded again when next used
      }
    });

    core(`kill loop: a 3-file transaction killed at each step is all or nothing after recover()${coreNote}`, async () => {
      const ops: SimpleOp[] = [
        { op: 'write', path: 'a.txt', data: 'new a' },
        { op: 'write', path: 'd/b.txt', data: 'new b' },
        { op: 'delete', path: 'c.txt' },
      ];
      const before = { 'a.txt': 'old a', 'c.txt': 'old c', 'd/b.txt': 'old b' };
      const after = { 'a.txt': 'new a', 'd/b.txt': 'new b' };
      for (const step of ['locked', 'staged', 'committed', 'journal-removed', 'never']) {
        const dir = fresh();
        for (const [rel, data] of Object.entries(before)) {
          fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
          fs.writeFileSync(path.join(dir, rel), data);
        }
        const { acked } = crashAt(dir, ops, step);
        await recover(dir);
        const now = files(dir);
        if (acked || step === 'committed' || step === 'journal-removed') expect(now, step).toEqual(after);
        else expect(now, step).toEqual(before);
        expect(homeNames(dir).filter((e) => !e.endsWith('.lock') || e.startsWith('.txn-')), step).toEqual([]);
      }
    });

    (expected.writersSkip === undefined ? core : it.skip)(`four concurrent writers: every read-modify-write lands exactly once${expected.writersSkip === undefined ? coreNote : ` [SKIPPED: ${expected.writersSkip}]`}`, async () => {
      const dir = fresh();
      const runs = await Promise.all([0, 1, 2, 3].map((i) => run('counter-worker.mjs', [dir, `w${i}`, '4'])));
      for (const r of runs) expect(r.status, r.stderr).toBe(0);
      const items = (JSON.parse(fs.readFileSync(path.join(dir, 'counter.json'), 'utf8')) as { items: string[] }).items;
      expect(items.length).toBe(16);
      expect(new Set(items).size).toBe(16);
    });

    committing(`a bind mount inside the root: doctor says so, and a target behind it is refused with ECROSSDEV naming it${commitNote}`, async () => {
      const dir = fresh();
      const inner = path.join(dir, 'vol');
      const src = path.join((m as Mounted).spare, `bind${n}`);
      fs.mkdirSync(inner);
      fs.mkdirSync(src);
      mount(['--bind', src, inner]);
      try {
        const r = await doctor(dir);
        expect(r.checks.find((c) => c.id === 'mounts')).toMatchObject({ action: 'refusal', found: expect.stringContaining('vol') });
        const tx = begin({ dir, warnUnsafeFs: false });
        tx.write('outside.txt', 'x');
        tx.write('vol/inside.txt', 'y');
        const err = await tx.commit().catch((e: unknown) => e);
        expect(err).toMatchObject({ code: codes.ECROSSDEV, message: expect.stringContaining(inner) });
        expect(fs.existsSync(path.join(dir, 'outside.txt'))).toBe(false);
        // One file alone goes the direct way, whose plan leaves the mount check to its rename
        // (EXDEV, nothing changed) or, for a replaced file, to the journaled way its undo link's
        // EXDEV sends it: refused the same, naming the mount, and nothing left behind.
        for (const existing of [false, true]) {
          if (existing) fs.writeFileSync(path.join(inner, 'inside.txt'), 'old');
          const one = begin({ dir, warnUnsafeFs: false });
          one.write('vol/inside.txt', 'new');
          const e = await one.commit().catch((x: unknown) => x);
          expect(e).toMatchObject({ code: codes.ECROSSDEV, message: expect.stringContaining(inner) });
          expect(fs.existsSync(path.join(inner, 'inside.txt')) ? fs.readFileSync(path.join(inner, 'inside.txt'), 'utf8') : undefined).toBe(existing ? 'old' : undefined);
          expect(fs.existsSync(path.join(dir, '.txnfs'))).toBe(false);
        }
      } finally {
        umount(inner);
      }
    });

    it(`begin() ${expected.warns ? 'warns once per root (TXNFS_UNSAFE_FS), unless warnUnsafeFs: false' : 'does not warn'}`, async () => {
      const dir = fresh();
      // A write starts the transaction's setup (where begin()'s warning is decided); abort then
      // changes nothing, so this works even where a commit cannot (fusefat).
      const commit = async (warnUnsafeFs?: boolean): Promise<void> => {
        const tx = begin({ dir, ...(warnUnsafeFs === undefined ? {} : { warnUnsafeFs }) });
        tx.write('w.txt', 'x');
        await tx.abort();
      };
      // Silenced first: a silenced begin() must not use up the root's one warning.
      expect(await warningsOf(() => commit(false))).toEqual([]);
      const first = await warningsOf(() => commit());
      const again = await warningsOf(() => commit());
      if (expected.warns) {
        expect(first).toHaveLength(1);
        expect(first[0]?.message).toMatch(/docs\/s3\.md/);
        expect(again).toEqual([]);
      } else {
        expect(first).toEqual([]);
      }
    });
  });
  return m;
}

/** The names in `<dir>/.txnfs`, [] when it is gone (an empty home is removed: no litter). */
export function homeNames(dir: string): string[] {
  try {
    return fs.readdirSync(path.join(dir, '.txnfs'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
