/**
 * Regressions: library bugs the I/O-error and kill loops found, each pinned to the one fault that
 * exposes it. Every test here failed before its fix (the commit that fixed it names the test).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { begin, codes, isTxnError, recover } from '../../src/index.js';
import * as seam from '../../src/io/fs.js';
import { faults } from '../../src/io/faults.js';
import { withRootLock } from '../../src/protocol/lock.js';
import { selfIdentity } from '../../src/protocol/identity.js';
import { tmpdir } from '../helpers/tmp.js';
import { homeEntries } from './check.js';
import { Injector, withInjector, type TracedOp } from './inject.js';
import { trackedFs } from './tracked-fs.js';

const timing = { stale: 10_000, update: 5_000, timeout: 1_000 };
const rel = (root: string, p: string): string => path.relative(root, p).split(path.sep).join('/');

afterEach(() => {
  faults.hook = undefined;
  seam.useFsImpl();
});

/** Commit { name: content } into `root` with `injector` registered; waits until the fs is idle. */
async function commitUnder(root: string, files: Record<string, string>, injector: Injector) {
  const tracked = trackedFs({ syncs: true });
  seam.useFsImpl(tracked.impl);
  try {
    return await withInjector(injector, async () => {
      const tx = begin({ dir: root });
      for (const [name, data] of Object.entries(files)) tx.write(name, data);
      const settled = await tx.commit().then((value) => ({ ok: true as const, value }), (error: unknown) => ({ ok: false as const, error }));
      await tracked.idle();
      return settled;
    });
  } finally {
    seam.useFsImpl();
  }
}

function fdCount(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

describe('src/io/fs.ts: a fault on a file handle behaves like the real call', () => {
  it('rejects the returned promise instead of throwing synchronously, and a failed close still frees the descriptor', async () => {
    const dir = tmpdir();
    const injected = new Error('EIO: injected');
    const handle = await seam.create(path.join(dir, 'f'), 0o666);
    const before = fdCount();
    faults.hook = (e) => {
      if (e.kind === 'op' && (e.op === 'close' || e.op === 'write')) throw injected;
    };
    let write: Promise<number> | undefined;
    expect(() => {
      write = handle.write(Buffer.from('x'), 0, 1);
    }).not.toThrow();
    await expect(write).rejects.toBe(injected);
    let close: Promise<void> | undefined;
    expect(() => {
      close = handle.close();
    }).not.toThrow();
    await expect(close).rejects.toBe(injected);
    faults.hook = undefined;
    // close(2) releases the descriptor even when it reports an error; the injected fault must too.
    expect(fdCount()).toBe(before - 1);
  });

  it('persistent EIO from a staged write: commit() reports the write error, not a later close error', async () => {
    const root = tmpdir();
    // A staged file: in files/, or the lone file of a one-write transaction (src/transaction/lone.ts).
    const injector = new Injector({ at: (op) => op.op === 'write' && /\/files\/|^\.txnfs\/\.tmp-/.test(rel(root, op.path)), code: 'EIO', persistent: true });
    const r = await commitUnder(root, { 'a.txt': 'new' }, injector);
    expect(r.ok).toBe(false);
    if (!r.ok) expect((r.error as Error).cause).toBe(injector.injected);
  });
});

describe('src/protocol/lock.ts: withRootLock', () => {
  it('reports the failure of the locked work even when releasing the lock fails too', async () => {
    const root = tmpdir();
    const home = path.join(root, '.txnfs');
    fs.mkdirSync(home);
    const work = new Error('the work failed');
    const injector = new Injector({ at: rootLockRelease(root), code: 'EIO', persistent: false });
    const outcome = await withInjector(injector, () =>
      withRootLock(path.join(home, 'lock'), timing, undefined, async () => {
        throw work;
      }).catch((err: unknown) => err),
    );
    expect(injector.injected).toBeDefined(); // the release really failed
    expect(outcome).toBe(work);
  });

  it('persistent EIO while applying: commit() says EINCOMPLETE with the injected cause, not "nothing changed"', async () => {
    const root = tmpdir();
    const injector = new Injector({ at: (op) => op.op === 'rename' && rel(root, op.dest ?? '') === 'a.txt', code: 'EIO', persistent: true });
    // Two files: the journaled way (one file commits by its rename alone, below).
    const r = await commitUnder(root, { 'a.txt': 'new', 'b.txt': 'new' }, injector);
    expect(injector.injectedAt?.op).toBe('rename');
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(isTxnError(r.error) && r.error.code).toBe(codes.EINCOMPLETE);
      expect((r.error as Error).cause).toBe(injector.injected);
    }
  });
});

describe('src/protocol/direct.ts: a one-file commit whose rename cannot be made durable', () => {
  const parentSync = (root: string) => (op: TracedOp): boolean => op.op === 'fsyncDir' && op.path === root;

  it('EIO at the fsync after the rename: the old file is put back, and commit() says nothing changed (EFS)', async () => {
    const root = tmpdir();
    fs.writeFileSync(path.join(root, 'a.txt'), 'old');
    const injector = new Injector({ at: parentSync(root), code: 'EIO', persistent: false });
    const r = await commitUnder(root, { 'a.txt': 'new' }, injector);
    expect(injector.injectedAt?.op).toBe('fsyncDir');
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(isTxnError(r.error) && r.error.code).toBe(codes.EFS);
      expect((r.error as Error).cause).toBe(injector.injected);
    }
    expect(fs.readFileSync(path.join(root, 'a.txt'), 'utf8')).toBe('old');
    expect(homeEntries(root)).toEqual([]);
  });

  it('EIO at the fsync after the rename of a new file: the new file is removed again', async () => {
    const root = tmpdir();
    const injector = new Injector({ at: parentSync(root), code: 'EIO', persistent: false });
    const r = await commitUnder(root, { 'a.txt': 'new' }, injector);
    expect(r.ok).toBe(false);
    expect(fs.existsSync(path.join(root, 'a.txt'))).toBe(false);
  });

  it('a persistent EIO there also fails the undo: EINCOMPLETE with the injected cause, the new file in place', async () => {
    const root = tmpdir();
    fs.writeFileSync(path.join(root, 'a.txt'), 'old');
    const injector = new Injector({ at: parentSync(root), code: 'EIO', persistent: true });
    const r = await commitUnder(root, { 'a.txt': 'new' }, injector);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(isTxnError(r.error) && r.error.code).toBe(codes.EINCOMPLETE);
      expect((r.error as Error).cause).toBe(injector.injected);
    }
    expect(fs.readFileSync(path.join(root, 'a.txt'), 'utf8')).toBe('new');
    await recover(root);
    expect(fs.readFileSync(path.join(root, 'a.txt'), 'utf8')).toBe('new');
    expect(homeEntries(root)).toEqual([]);
  });
});

describe('src/transaction/committer.ts: the root lock release after the apply', () => {
  it('a failure to release the root lock after the apply resolved is a warning: the commit stands', async () => {
    const root = tmpdir();
    fs.writeFileSync(path.join(root, 'a.txt'), 'old');
    const injector = new Injector({ at: rootLockRelease(root), code: 'EIO', persistent: false });
    const r = await commitUnder(root, { 'a.txt': 'new' }, injector);
    expect(injector.injected).toBeDefined();
    expect(fs.readFileSync(path.join(root, 'a.txt'), 'utf8')).toBe('new');
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.value.warnings.join('\n')).toContain(injector.injected?.message);
  });
});

describe('src/protocol/lock.ts: locks this process abandoned', () => {
  const releaseOf = (root: string, which: 'owner' | 'root') => (op: TracedOp): boolean =>
    which === 'root' ? rootLockRelease(root)(op) : op.op === 'unlink' && /^\.txnfs\/\.txn-[^/]+\.lock\/o\./.test(rel(root, op.path));

  it('an owner lock whose release failed is removed by the next recover() of this process at once', async () => {
    const root = tmpdir();
    const injector = new Injector({ at: releaseOf(root, 'owner'), code: 'EIO', persistent: false });
    // Two files: a transaction of one is a lone file, with no owner lock (src/transaction/lone.ts).
    const r = await commitUnder(root, { 'a.txt': 'new', 'b.txt': 'new' }, injector);
    expect(injector.injected).toBeDefined();
    expect(r.ok).toBe(true);
    expect(homeEntries(root)).toHaveLength(1); // the owner lock that could not be released
    await recover(root);
    expect(homeEntries(root)).toEqual([]);
  });

  it('a root lock whose release failed does not block the next commit of this process', async () => {
    const root = tmpdir();
    const injector = new Injector({ at: releaseOf(root, 'root'), code: 'EIO', persistent: false });
    await commitUnder(root, { 'a.txt': 'one' }, injector);
    expect(injector.injected).toBeDefined();
    expect(homeEntries(root)).toEqual([expect.stringMatching(/^lock\.o\./)]); // the root lock's entry
    const tx = begin({ dir: root, lockTimeout: 500 }); // without the fix: ELOCKED until lockStale (10 s)
    tx.write('a.txt', 'two');
    await tx.commit();
    expect(fs.readFileSync(path.join(root, 'a.txt'), 'utf8')).toBe('two');
    expect(homeEntries(root)).toEqual([]);
  });

  it("a lock whose mtime probe failed during acquisition is removed, not put back", async () => {
    // proper-lockfile probes the filesystem's mtime precision once per process (cached on the fs
    // adapter), right after its first mkdir; a fresh module graph gets a fresh adapter.
    vi.resetModules();
    const fresh = await import('../../src/index.js');
    const freshFaults = (await import('../../src/io/faults.js')).faults;
    const root = tmpdir();
    let injected: Error | undefined;
    freshFaults.hook = (e) => {
      if (e.kind === 'op' && e.op === 'utimes' && injected === undefined) {
        injected = new Error('EIO: injected');
        throw injected;
      }
    };
    try {
      const tx = fresh.begin({ dir: root });
      tx.write('a.txt', 'new');
      const err = await tx.commit().then(() => undefined, (e: unknown) => e);
      expect(injected).toBeDefined();
      expect((err as Error).cause).toBe(injected);
      // proper-lockfile removes the lock without waiting; give that removal time to finish
      for (let i = 0; i < 100 && homeEntries(root).length > 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(homeEntries(root)).toEqual([]);
    } finally {
      freshFaults.hook = undefined;
    }
  });
});

describe('src/protocol/recover.ts: tombs (left by an older txnfs) and errors', () => {
  it('removes at once a tomb left by a process that is gone', async () => {
    const root = tmpdir();
    const tomb = path.join(root, '.txnfs', '.tomb-deadbeef00');
    fs.mkdirSync(tomb, { recursive: true });
    const dead = await deadPid();
    fs.writeFileSync(path.join(tomb, 'owner'), ownerRecord(dead, '1'));
    await recover(root);
    expect(homeEntries(root)).toEqual([]);
  });

  it('rejects with a TxnError (EFS, cause = the fs error) when the filesystem fails under recover()', async () => {
    const root = tmpdir();
    fs.mkdirSync(path.join(root, '.txnfs', '.txn-abc'), { recursive: true });
    const injector = new Injector({ at: 1, code: 'EIO', persistent: true });
    const err = await withInjector(injector, () => recover(root).then(() => undefined, (e: unknown) => e));
    expect(injector.injected).toBeDefined();
    expect(isTxnError(err) && err.code).toBe(codes.EFS);
    expect((err as Error).cause).toBe(injector.injected);
  });

  it('removes a root lock left behind by a failed release, though nothing else is pending', async () => {
    const root = tmpdir();
    const injector = new Injector({ at: rootLockRelease(root), code: 'EIO', persistent: false });
    await commitUnder(root, { 'a.txt': 'new' }, injector);
    expect(homeEntries(root)).toEqual([expect.stringMatching(/^lock\.o\./)]); // the root lock's entry
    await recover(root);
    expect(homeEntries(root)).toEqual([]);
  });

  it('removes a root lock left by a process that is gone, and leaves a live one alone', async () => {
    const root = tmpdir();
    const lock = path.join(root, '.txnfs', 'lock');
    fs.mkdirSync(lock, { recursive: true });
    fs.writeFileSync(path.join(lock, 'owner'), ownerRecord(await deadPid(), '1'));
    await recover(root);
    expect(homeEntries(root)).toEqual([]);
    // A live owner (the parent of this process, which outlives the test): not touched, and no wait.
    fs.mkdirSync(lock, { recursive: true });
    fs.writeFileSync(path.join(lock, 'owner'), ownerRecord(process.ppid, procStart(process.ppid)));
    await recover(root, { lockTimeout: 100 });
    expect(homeEntries(root)).toEqual(['lock']);
  });
});

/** Releasing the root lock: the unlink of its owner entry, in the home (lock.ts: flat). */
function rootLockRelease(root: string): (op: TracedOp) => boolean {
  return (op) => op.op === 'unlink' && /^\.txnfs\/lock\.o\./.test(rel(root, op.path));
}

/** A pid that no process has: a child's, after it exited. */
async function deadPid(): Promise<number> {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, ['-e', '0']);
  const pid = child.pid as number;
  await new Promise((r) => child.on('exit', r));
  return pid;
}

/** Start time of a live process, as identity.ts records it (field 22 of /proc/<pid>/stat). */
function procStart(pid: number): string {
  const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return text.slice(text.lastIndexOf(')') + 2).split(' ')[19] as string;
}

/** A lock owner record as lock.ts writes it, for process `pid` on this host. */
function ownerRecord(pid: number, start: string): string {
  return JSON.stringify({ ...selfIdentity(), pid, start, token: 't', stale: 10_000, since: Date.now() });
}
