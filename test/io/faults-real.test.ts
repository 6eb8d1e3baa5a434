/**
 * Real faults, not only injected ones: a full disk (bytes and inodes, on a tmpfs mounted for the
 * test), a low fd limit, a read-only filesystem, targets behind another mount inside the root; and
 * EACCES / EPERM / EIO injected through the seam at every filesystem call of a commit.
 *
 * After each fault: the commit resolved (all new) or rejected with a TxnError whose code says
 * where it stopped; before recovery the root is all-old unless the code is EINCOMPLETE; after
 * recover() it is all-old or all-new and nothing is left in .txnfs.
 *
 * Mount tests need Linux and root; elsewhere they are skipped with the reason in their name.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { begin, codes, isTxnError, recover, type TxnError } from '../../src/index.js';
import { faults } from '../../src/io/faults.js';
import { errnoError } from '../helpers/errno.mjs';
import { jsonLines, run } from '../helpers/child.js';
import { cannotMount, mount, mountNote, umount } from '../helpers/mount.js';
import { leftovers, snapshot, tmpdir } from '../helpers/tmp.js';

const stress = process.env.TXNFS_STRESS === '1';

/** The workload: replace, create in new nested directories, remove; `keep.txt` is not touched. */
const before = { 'keep.txt': 'keep', 'replace.txt': 'old replace', 'gone.txt': 'old gone' };
const after = { 'keep.txt': 'keep', 'replace.txt': 'new replace', 'new/deep/x.json': '{"x":1}', 'new/y.txt': 'y' };

function seed(root: string): void {
  for (const [p, data] of Object.entries(before)) fs.writeFileSync(path.join(root, p), data);
}

function stage(root: string, options: Parameters<typeof begin>[0] = {}) {
  const tx = begin({ dir: root, ...options });
  tx.write('replace.txt', after['replace.txt']);
  tx.write('new/deep/x.json', after['new/deep/x.json']);
  tx.remove('gone.txt');
  tx.write('new/y.txt', after['new/y.txt']);
  return tx;
}

type State = 'all-old' | 'all-new' | 'mixed';
/** The workload's state; files under other mounts inside the root ('bound/', 'other/') are not its business. */
function state(root: string): State {
  const now = Object.fromEntries(Object.entries(snapshot(root)).filter(([p]) => !p.startsWith('bound/') && !p.startsWith('other/')));
  if (JSON.stringify(now) === JSON.stringify(snapshot0(before))) return fs.existsSync(path.join(root, 'new')) ? 'mixed' : 'all-old';
  if (JSON.stringify(now) === JSON.stringify(snapshot0(after))) return 'all-new';
  return 'mixed';
}
function snapshot0(files: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(files).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** Codes that mean "refused before the commit point, nothing changed". */
const beforeCommitPoint: string[] = [codes.ESTAGE, codes.EFS, codes.ECOMPROMISED, codes.ELOCKED];

/**
 * Judge one faulted commit: its outcome is typed and matches the state of the root; after
 * recover() (with the fault gone) the root is all-old or all-new and clean.
 */
async function judge(root: string, outcome: unknown, heal: () => void = () => undefined): Promise<{ code: string; final: State }> {
  let code = 'resolved';
  if (outcome !== undefined) {
    expect(isTxnError(outcome), `not a TxnError: ${String(outcome)}`).toBe(true);
    code = (outcome as TxnError).code;
  }
  const now = state(root);
  if (code === 'resolved') expect(now).toBe('all-new');
  else if (code === codes.EINCOMPLETE) expect(now).not.toBe('all-new'); // or it would have resolved
  else {
    expect([...beforeCommitPoint, codes.EAPPLY], `unexpected code ${code}: ${(outcome as Error).message}`).toContain(code);
    expect(now, `${code}: ${(outcome as Error).message}`).toBe('all-old');
  }
  heal();
  await recover(root);
  const final = state(root);
  expect(final === 'all-old' || final === 'all-new', `after recover(): ${final}`).toBe(true);
  if (code !== codes.EINCOMPLETE) expect(final).toBe(now);
  expect(leftovers(root)).toEqual([]);
  return { code, final };
}

/**
 * Calls on lock directories (proper-lockfile's mkdir/stat/utimes, owner records, tombs) are left
 * to the crash harness's I/O-error loop (issue 3, test/crash/regressions.test.ts), which owns
 * src/protocol/lock.ts: a fault in the lock's mtime probe currently leaves this process's own owner lock
 * behind until it goes stale, and that fix lives on its branch. Every other call is swept here.
 */
function isLockPath(p: string): boolean {
  return /\.lock(\/|$)|\/lock(\/|$)|\/\.tomb-/.test(p);
}

describe('EACCES, EPERM and EIO injected at every filesystem call of a commit (through the seam)', () => {
  it.each(['EACCES', 'EPERM', 'EIO'])('%s at each call: a typed error, and nothing lost', async (errno) => {
    // Count the calls of one clean commit first.
    const probeRoot = tmpdir();
    seed(probeRoot);
    let total = 0;
    faults.hook = (e) => {
      if (e.kind === 'op' && !isLockPath(e.path)) total++;
    };
    try {
      await stage(probeRoot).commit();
    } finally {
      faults.hook = undefined;
    }
    expect(state(probeRoot)).toBe('all-new');
    expect(total).toBeGreaterThan(30);

    const codesSeen = new Map<string, number>();
    for (let k = 1; k <= total + 2; k++) {
      const root = tmpdir();
      seed(root);
      let n = 0;
      let hit: string | undefined;
      faults.hook = (e) => {
        if (e.kind !== 'op' || isLockPath(e.path)) return;
        n++;
        if (n === k) {
          hit = `${e.op} ${path.relative(root, e.path)}`;
          throw errnoError(errno, e.op, e.path);
        }
      };
      let outcome: unknown;
      try {
        await stage(root).commit();
      } catch (err) {
        outcome = err;
      } finally {
        faults.hook = undefined;
      }
      const { code } = await judge(root, outcome).catch((err: unknown) => {
        throw new Error(`${errno} at call ${k} (${hit}): ${(err as Error).message}`);
      });
      // The injected error is kept, as the cause, for the caller to see.
      if (outcome !== undefined) expect(causeCodes(outcome), `call ${k} (${hit}): ${(outcome as Error).message}`).toContain(errno);
      codesSeen.set(code, (codesSeen.get(code) ?? 0) + 1);
    }
    // Faults before the commit point, during the apply, and in the cleanup were all reached.
    expect(codesSeen.get(codes.EFS) ?? 0).toBeGreaterThan(0);
    expect(codesSeen.get(codes.EAPPLY) ?? 0).toBeGreaterThan(0);
    expect(codesSeen.get('resolved') ?? 0).toBeGreaterThan(0);
  }, 60_000);
});

describe('a low fd limit', () => {
  const count = stress ? 20_000 : 5000;
  // The child lowers its fd limit to 64 once txnfs is loaded (fixtures/commit-many.mjs says why).
  it(`a child under ulimit -n 64 commits ${count} files without EMFILE`, async () => {
    const root = tmpdir();
    const r = await run('', [], { command: [process.execPath, path.join(import.meta.dirname, '..', 'fixtures', 'commit-many.mjs'), root, String(count), 'full'], env: { ...process.env, TXNFS_NOFILE: '64' } });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(jsonLines(r.stdout)[0]).toEqual({ written: count, limit: 64 });
    expect(fs.readdirSync(path.join(root, 'd3'))).toHaveLength(count / 10);
    expect(fs.readFileSync(path.join(root, 'd7', `f${count - 3}`), 'utf8')).toBe(`file ${count - 3}\n`);
    expect(leftovers(root)).toEqual([]);
  }, 60_000);

  // Before issue 12 item 11 this commit failed ESTAGE with cause EMFILE (which also showed the limit
  // is real). Now the opens that hit the limit are retried (fs.ts OPEN_RETRY) while other staged
  // files close their descriptors, so the same commit lands.
  it('with concurrency above the limit, opens that meet EMFILE are retried and the commit lands', async () => {
    const root = tmpdir();
    const r = await run('', [], { command: [process.execPath, path.join(import.meta.dirname, '..', 'fixtures', 'commit-many.mjs'), root, '500', 'full', '200'], env: { ...process.env, TXNFS_NOFILE: '64' } });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(jsonLines(r.stdout)[0]).toEqual({ written: 500, limit: 64 });
    expect(leftovers(root)).toEqual([]);
  }, 60_000);
});

describe.skipIf(cannotMount !== undefined)(`mounted filesystems${mountNote}`, () => {
  let base = '';
  const mounted: string[] = [];
  const mnt = (dir: string, args: string[]): void => {
    fs.mkdirSync(dir, { recursive: true });
    mount([...(args[0] === '-t' ? [...args, 'tmpfs'] : args), dir]);
    mounted.push(dir);
  };
  beforeAll(() => {
    base = fs.realpathSync(fs.mkdtempSync('/tmp/txnfs-mnt-'));
  });
  afterAll(() => {
    for (const dir of mounted.reverse()) umount(dir);
    fs.rmSync(base, { recursive: true, force: true });
  });

  it('disk full while staging: ESTAGE (ENOSPC), old files intact, staging removed; space freed, the next commit works', async () => {
    const root = path.join(base, 'full');
    mnt(root, ['-t', 'tmpfs', '-o', 'size=512k']);
    seed(root);
    fs.writeFileSync(path.join(root, 'filler'), Buffer.alloc(300 * 1024));
    const tx = stage(root);
    tx.write('big.bin', Buffer.alloc(300 * 1024, 7));
    const err = await tx.commit().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: codes.ESTAGE, cause: { code: 'ENOSPC' } });
    fs.unlinkSync(path.join(root, 'filler'));
    expect(state(root)).toBe('all-old');
    expect(leftovers(root)).toEqual([]);
    const again = stage(root);
    again.write('big.bin', Buffer.alloc(300 * 1024, 7));
    await again.commit();
    expect(fs.statSync(path.join(root, 'big.bin')).size).toBe(300 * 1024);
    fs.unlinkSync(path.join(root, 'big.bin'));
    expect(state(root)).toBe('all-new');
  });

  it('disk full at every point: free space swept page by page until the commit fits', async () => {
    const disk = path.join(base, 'pages');
    mnt(disk, ['-t', 'tmpfs', '-o', 'size=256k']);
    const root = path.join(disk, 'root'); // the filler lives next to the root, not in it
    fs.mkdirSync(root);
    const seen: string[] = [];
    for (let free = 0; free < 40; free++) {
      for (const name of fs.readdirSync(root)) fs.rmSync(path.join(root, name), { recursive: true, force: true });
      seed(root);
      const st = fs.statfsSync(root);
      const filler = path.join(disk, 'filler');
      fs.writeFileSync(filler, Buffer.alloc(Math.max(0, Number(st.bavail) - free) * Number(st.bsize)));
      const outcome = await stage(root).commit().then(() => undefined, (e: unknown) => e);
      const { code } = await judge(root, outcome, () => fs.unlinkSync(filler));
      seen.push(code === 'resolved' ? code : `${code}/${errnoOfCause(outcome)}`);
      if (code === 'resolved') break;
    }
    expect(seen.at(-1)).toBe('resolved');
    expect(seen.filter((c) => c.endsWith('ENOSPC')).length).toBeGreaterThan(0);
    expect(seen.filter((c) => c.startsWith(codes.EINCOMPLETE))).toEqual([]);
  });

  it('out of inodes at every point: nr_inodes swept one by one until the commit fits', async () => {
    const root = path.join(base, 'inodes');
    mnt(root, ['-t', 'tmpfs', '-o', 'size=1m,nr_inodes=1000']);
    const seen: string[] = [];
    for (let spare = 0; spare < 40; spare++) {
      mount(['-o', 'remount,nr_inodes=1000', root]);
      for (const name of fs.readdirSync(root)) fs.rmSync(path.join(root, name), { recursive: true, force: true });
      seed(root);
      const st = fs.statfsSync(root);
      const used = Number(st.files) - Number(st.ffree);
      mount(['-o', `remount,nr_inodes=${used + spare}`, root]);
      const outcome = await stage(root).commit().then(() => undefined, (e: unknown) => e);
      const { code } = await judge(root, outcome, () => mount(['-o', 'remount,nr_inodes=1000', root]));
      seen.push(code === 'resolved' ? code : `${code}/${errnoOfCause(outcome)}`);
      if (code === 'resolved') break;
    }
    expect(seen.at(-1), seen.join(' ')).toBe('resolved');
    // Space ran out before the commit point and, for a new directory, after it (rolled back).
    expect(seen).toContain(`${codes.EFS}/ENOSPC`);
    expect(seen.some((c) => c.startsWith(codes.EAPPLY)), seen.join(' ')).toBe(true);
    // A full disk never leaves a half-applied root for later: the rollback allocates nothing.
    expect(seen.filter((c) => c.startsWith(codes.EINCOMPLETE))).toEqual([]);
  });

  it('a read-only filesystem: refused with EFS (EROFS) before anything is written, with or without a home', async () => {
    const root = path.join(base, 'ro');
    mnt(root, ['-t', 'tmpfs', '-o', 'size=256k']);
    seed(root);
    fs.mkdirSync(path.join(root, 'withhome'));
    fs.mkdirSync(path.join(root, 'withhome', '.txnfs'));
    mount(['-o', 'remount,ro', root]);
    try {
      for (const dir of [root, path.join(root, 'withhome')]) {
        const tx = stage(dir);
        const err = await tx.commit().catch((e: unknown) => e);
        expect(err).toMatchObject({ code: codes.EFS, cause: { code: 'EROFS' }, message: expect.stringMatching(/read-only/) });
      }
      expect(state(root)).toBe('all-old');
      // Nothing pending: recover() on a read-only root is a no-op, not an error.
      await expect(recover(root)).resolves.toMatchObject({ rolledForward: [], discarded: [] });
    } finally {
      mount(['-o', 'remount,rw', root]);
    }
  });

  it('a target behind another filesystem mounted inside the root: ECROSSDEV before the commit point', async () => {
    const root = path.join(base, 'xdev');
    fs.mkdirSync(root);
    seed(root);
    mnt(path.join(root, 'other'), ['-t', 'tmpfs', '-o', 'size=64k']);
    fs.writeFileSync(path.join(root, 'other', 'inside.txt'), 'on tmpfs');
    const tx = stage(root);
    tx.write('other/inside.txt', 'new');
    await expect(tx.commit()).rejects.toMatchObject({ code: codes.ECROSSDEV, path: 'other/inside.txt' });
    expect(state(root)).toBe('all-old');
    expect(fs.readFileSync(path.join(root, 'other', 'inside.txt'), 'utf8')).toBe('on tmpfs');
    expect(leftovers(root)).toEqual([]);
  });

  it.each([
    ['a bind mount of the same filesystem (same st_dev)', ['--bind']],
    ['a read-only bind mount', ['--bind', '-o', 'ro']],
  ])('a target behind %s inside the root: ECROSSDEV before the commit point', async (_name, opts) => {
    const root = path.join(base, `bind-${opts.length}`);
    const source = path.join(base, `bind-src-${opts.length}`);
    fs.mkdirSync(root);
    fs.mkdirSync(source);
    fs.writeFileSync(path.join(source, 'inside.txt'), 'bound');
    seed(root);
    mnt(path.join(root, 'bound'), [...opts, source]);
    expect(fs.statSync(path.join(root, 'bound')).dev).toBe(fs.statSync(root).dev);
    for (const target of ['bound/inside.txt', 'bound/new/file.txt']) {
      const tx = stage(root);
      tx.write(target, 'new');
      const steps: string[] = [];
      faults.hook = (e) => {
        if (e.kind === 'step') steps.push(e.name);
      };
      const err = await tx.commit().catch((e: unknown) => e);
      faults.hook = undefined;
      expect(err).toMatchObject({ code: codes.ECROSSDEV, path: target });
      expect(steps).not.toContain('committed');
    }
    expect(state(root)).toBe('all-old');
    expect(fs.readdirSync(source)).toEqual(['inside.txt']);
    expect(leftovers(root)).toEqual([]);
  });
});

/** The `code` of an error and of every error in its `cause` chain. */
function causeCodes(err: unknown): string[] {
  const out: string[] = [];
  for (let e = err, depth = 0; e !== undefined && e !== null && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') out.push(code);
  }
  return out;
}

function errnoOfCause(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown } } | undefined)?.cause;
  return typeof cause?.code === 'string' ? cause.code : 'none';
}
