import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { poolRequests } from '../../helpers/pool.js';
import { codes } from '../../../src/errors.js';
import { acquire, lockState, removeDeadLock, rootLockContended, withRootLock } from '../../../src/protocol/lock.js';
import { CONTENDED_FOR_MS } from '../../../src/protocol/lock/queue.js';
import * as fsSeam from '../../../src/io/fs.js';
import { tmpdir } from '../../helpers/tmp.js';
import { faults, type FaultEvent } from '../../../src/io/faults.js';
import { threadId } from 'node:worker_threads';
import { entryName, newRecord } from '../../../src/protocol/lock/owners.js';
import { inlineUnder, resetInline } from '../../../src/io/inline.js';


const timing = { stale: 10_000, update: 5_000, timeout: 0 };
/** A host tag that is not this host's: its owners are judged by staleness only. */
const FOREIGN_HOST = 'ElsewhereElsewhe';
const fixture = fileURLToPath(new URL('../../fixtures/hold-lock.mjs', import.meta.url));

/** Start a child that takes `lockDir`; resolves once it holds it. */
function childHolding(lockDir: string, mode: 'hold' | 'exit'): Promise<import('node:child_process').ChildProcess> {
  const child = spawn(process.execPath, [fixture, lockDir, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('LOCKED')) resolve(child);
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (mode === 'hold') reject(new Error(`lock holder exited early (${code ?? signal})`));
    });
  });
}

function exited(child: import('node:child_process').ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

describe('acquire / release', () => {
  it('makes one owner entry naming this process, thread and stale time, and removes the lock on release', async () => {
    const lockDir = path.join(tmpdir(), 'lock');
    const lock = await acquire(lockDir, timing, { wait: false, what: 'test lock' });
    const names = fs.readdirSync(lockDir);
    expect(names).toHaveLength(1);
    // The token: when this acquisition began (9 base-36 digits of ms), then a nanoid.
    const m = new RegExp(`^o\\.[A-Za-z0-9_-]{16}\\.${process.pid}\\.[0-9]*\\.${threadId}\\.10000\\.([0-9a-z]{9})[A-Za-z0-9_-]{21}$`).exec(names[0] as string);
    expect(m).not.toBeNull();
    expect(Math.abs(parseInt(m?.[1] as string, 36) - Date.now())).toBeLessThan(5_000);
    // An empty file (an older build made an empty directory: dearer to make and remove).
    const info = fs.lstatSync(path.join(lockDir, names[0] as string));
    expect(info.isFile() && info.size === 0).toBe(true);
    await lock.verify();
    expect(await lockState(lockDir, 10_000)).toBe('held');
    await lock.release();
    await lock.release(); // idempotent
    expect(fs.existsSync(lockDir)).toBe(false);
    expect(await lockState(lockDir, 10_000)).toBe('absent');
  });

  it('refuses a held lock with ELOCKED, naming the holder and the path', async () => {
    const lockDir = path.join(tmpdir(), 'lock');
    const child = await childHolding(lockDir, 'hold');
    try {
      const err = await acquire(lockDir, timing, { wait: false, what: 'root lock' }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: codes.ELOCKED, path: lockDir });
      expect((err as Error).message).toContain(`process ${child.pid}`);
      expect(await lockState(lockDir, 10_000)).toBe('held');
    } finally {
      child.kill('SIGKILL');
      await exited(child);
    }
  });

  it('waits up to the timeout, then gives up with ELOCKED', async () => {
    const lockDir = path.join(tmpdir(), 'lock');
    const child = await childHolding(lockDir, 'hold');
    try {
      const t0 = Date.now();
      await expect(acquire(lockDir, { ...timing, timeout: 300 }, { wait: true, what: 'root lock' })).rejects.toMatchObject({ code: codes.ELOCKED });
      expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    } finally {
      child.kill('SIGKILL');
      await exited(child);
    }
  });

  it('takes over at once a lock whose owner on this host is dead, without waiting for staleness', async () => {
    const lockDir = path.join(tmpdir(), 'lock');
    const child = await childHolding(lockDir, 'exit');
    await exited(child);
    expect(fs.existsSync(lockDir)).toBe(true); // the crash left it behind
    expect(await lockState(lockDir, 10_000)).toBe('dead');
    const t0 = Date.now();
    const lock = await acquire(lockDir, timing, { wait: false, what: 'test lock' });
    expect(Date.now() - t0).toBeLessThan(2_000); // far below the 10 s stale time
    await lock.verify();
    await lock.release();
    // No tomb left behind by the takeover.
    expect(fs.readdirSync(path.dirname(lockDir))).toEqual([]);
  });

  it('judges an owner on another host by staleness only', async () => {
    const lockDir = path.join(tmpdir(), 'lock');
    const entry = path.join(lockDir, `o.${FOREIGN_HOST}.1.1.0.10000.someoneelse1`);
    fs.mkdirSync(entry, { recursive: true });
    expect(await lockState(lockDir, 10_000)).toBe('held');
    await expect(acquire(lockDir, timing, { wait: false, what: 'test lock' })).rejects.toMatchObject({ code: codes.ELOCKED });
    expect(fs.readdirSync(lockDir)).toEqual([path.basename(entry)]); // the failed attempt left nothing
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(entry, old, old);
    expect(await lockState(lockDir, 10_000)).toBe('dead');
    const lock = await acquire(lockDir, timing, { wait: false, what: 'test lock' });
    expect(fs.existsSync(entry)).toBe(false);
    await lock.release();
  });

  it('honours an owner that declared a longer stale time than ours', async () => {
    const lockDir = path.join(tmpdir(), 'lock');
    const entry = path.join(lockDir, `o.${FOREIGN_HOST}.1.1.0.120000.someoneelse1`);
    fs.mkdirSync(entry, { recursive: true });
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(entry, old, old);
    expect(await lockState(lockDir, 10_000)).toBe('held');
    await expect(acquire(lockDir, timing, { wait: false, what: 'test lock' })).rejects.toMatchObject({ code: codes.ELOCKED });
  });

  it("an older txnfs's lock (an owner file) is judged by its record and reclaimed when dead", async () => {
    const lockDir = path.join(tmpdir(), 'lock');
    fs.mkdirSync(lockDir);
    const owner = path.join(lockDir, 'owner');
    fs.writeFileSync(owner, JSON.stringify({ host: 'elsewhere', pid: 1, start: '1', token: 't', stale: 10_000 }));
    expect(await lockState(lockDir, 10_000)).toBe('held');
    await expect(acquire(lockDir, timing, { wait: false, what: 'test lock' })).rejects.toMatchObject({ code: codes.ELOCKED });
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(owner, old, old);
    expect(await lockState(lockDir, 10_000)).toBe('dead');
    const lock = await acquire(lockDir, timing, { wait: false, what: 'test lock' });
    expect(fs.existsSync(owner)).toBe(false);
    await lock.release();
  });
});

describe('compromise', () => {
  it("verify() fails with ECOMPROMISED once our entry was taken away, and release leaves the new owner's alone", async () => {
    const lockDir = path.join(tmpdir(), 'lock');
    const lock = await acquire(lockDir, timing, { wait: false, what: 'root lock' });
    const [mine] = fs.readdirSync(lockDir);
    fs.unlinkSync(path.join(lockDir, mine as string));
    const theirs = path.join(lockDir, `o.${FOREIGN_HOST}.1.1.0.10000.someoneelse1`);
    fs.writeFileSync(theirs, '');
    await expect(lock.verify()).rejects.toMatchObject({ code: codes.ECOMPROMISED, path: lockDir });
    await lock.release();
    expect(fs.readdirSync(lockDir)).toEqual([path.basename(theirs)]);
  });

  it('verify() fails when the lock directory was removed', async () => {
    const lockDir = path.join(tmpdir(), 'lock');
    const lock = await acquire(lockDir, timing, { wait: false, what: 'root lock' });
    fs.rmSync(lockDir, { recursive: true });
    await expect(lock.verify()).rejects.toMatchObject({ code: codes.ECOMPROMISED });
    await lock.release();
  });
});

describe('what an acquisition costs', () => {
  /** The seam calls `fn` makes, as "op name" (paths relative to `dir`). */
  async function callsOf(dir: string, fn: () => Promise<unknown>): Promise<string[]> {
    const ops: string[] = [];
    faults.hook = (e: FaultEvent) => {
      if (e.kind === 'op') ops.push(`${e.op} ${path.relative(dir, e.path).replace(/o\.[^/]+$/, 'o.<entry>')}`);
    };
    try {
      await fn();
    } finally {
      faults.hook = undefined;
    }
    return ops;
  }

  it("a sole lock (an owner lock) made by this call is not listed, and proper-lockfile's probe of the new entry costs no call", async () => {
    const dir = tmpdir();
    // The first acquisition under a home probes the mtime precision (utimes, stat): not counted.
    await (await acquire(path.join(dir, 'warm'), timing, { wait: false, what: 'test lock' })).release();
    let lock: Awaited<ReturnType<typeof acquire>> | undefined;
    const sole = await callsOf(dir, async () => (lock = await acquire(path.join(dir, 'a.lock'), timing, { wait: false, what: 'owner lock', sole: true })));
    expect(sole).toEqual(['mkdir a.lock', 'create a.lock/o.<entry>', 'close a.lock/o.<entry>']);
    await lock?.release();
    const shared = await callsOf(dir, async () => (lock = await acquire(path.join(dir, 'lock'), timing, { wait: false, what: 'root lock' })));
    expect(shared).toEqual(['mkdir lock', 'create lock/o.<entry>', 'close lock/o.<entry>', 'readdir lock']);
    await lock?.release();
  });

  it('a flat lock (the root lock) makes its entry beside its name and lists the directory it is in; other names there do not contend, and its release leaves that directory', async () => {
    const dir = tmpdir();
    await (await acquire(path.join(dir, 'warm'), timing, { wait: false, what: 'test lock' })).release();
    // What a home holds besides the root lock: a staging dir, an owner lock, a temp.
    for (const d of ['.txn-abc', '.txn-abc.lock']) fs.mkdirSync(path.join(dir, d));
    fs.writeFileSync(path.join(dir, '.tmp-x'), '');
    let lock: Awaited<ReturnType<typeof acquire>> | undefined;
    const flat = await callsOf(dir, async () => (lock = await acquire(path.join(dir, 'lock'), timing, { wait: false, what: 'root lock', flat: true })));
    expect(flat).toEqual(['create lock.o.<entry>', 'close lock.o.<entry>', 'readdir ']);
    // The listing that took it, for the gate (recover.ts, RecoverContext.listed).
    expect([...(lock?.listing ?? [])].sort()).toEqual(['.tmp-x', '.txn-abc', '.txn-abc.lock', expect.stringMatching(/^lock\.o\./)].sort());
    // Held: a second flat acquirer of the same lock sees the entry and is refused.
    await expect(acquire(path.join(dir, 'lock'), { ...timing, timeout: 0 }, { wait: false, what: 'root lock', flat: true })).rejects.toMatchObject({ code: codes.ELOCKED });
    const release = await callsOf(dir, async () => lock?.release());
    expect(release).toEqual(['unlink lock.o.<entry>']);
    expect(fs.readdirSync(dir).sort()).toEqual(['.tmp-x', '.txn-abc', '.txn-abc.lock']);
  });

  it('below a local root, the flat lock is taken and released without a thread-pool request (its entry is empty: the unlink frees nothing)', async () => {
    const dir = fs.realpathSync(tmpdir());
    await (await acquire(path.join(dir, 'warm'), timing, { wait: false, what: 'test lock', flat: true })).release();
    inlineUnder(dir);
    try {
      await new Promise((resolve) => setImmediate(resolve));
      const before = poolRequests();
      const taking = acquire(path.join(dir, 'lock'), timing, { wait: false, what: 'root lock', flat: true });
      // Inline: the entry is there before the acquisition is awaited.
      expect(fs.readdirSync(dir).filter((n) => n.startsWith('lock.o.'))).toHaveLength(1);
      expect(poolRequests()).toBe(before);
      const lock = await taking;
      const releasing = lock.release();
      // An unlink of unknown size stays in the pool (inline.ts): the entry's says it frees nothing.
      expect(poolRequests()).toBe(before);
      await releasing;
      expect(fs.readdirSync(dir)).toEqual([]);
    } finally {
      resetInline();
    }
  });

  it('a sole lock whose directory already exists is listed like any other: a live owner there is not overlooked', async () => {
    const lockDir = path.join(tmpdir(), 'a.lock');
    const child = await childHolding(lockDir, 'hold');
    try {
      await expect(acquire(lockDir, timing, { wait: false, what: 'owner lock', sole: true })).rejects.toMatchObject({ code: codes.ELOCKED });
    } finally {
      child.kill('SIGKILL');
      await exited(child);
    }
  });

  it("the heartbeat after an unanswered probe: no false compromise, and a removed entry is still caught by its own stat", async () => {
    const lockDir = path.join(tmpdir(), 'lock');
    // proper-lockfile refreshes at most once a second.
    const fast = { stale: 2000, update: 1000, timeout: 0 };
    await (await acquire(path.join(path.dirname(lockDir), 'warm'), fast, { wait: false, what: 'test lock' })).release();
    const lock = await acquire(lockDir, fast, { wait: false, what: 'root lock' });
    await new Promise((r) => setTimeout(r, 1300)); // the first refresh, compared with the answered probe
    await lock.verify();
    const [mine] = fs.readdirSync(lockDir);
    const entry = path.join(lockDir, mine as string);
    fs.unlinkSync(entry);
    await new Promise((r) => setTimeout(r, 1300));
    // Put back under the same name: verify()'s own lstat would pass; the heartbeat saw it gone.
    fs.writeFileSync(entry, '');
    await expect(lock.verify()).rejects.toMatchObject({ code: codes.ECOMPROMISED });
    fs.unlinkSync(entry);
    await lock.release();
  });
});

describe('removeDeadLock', () => {
  it('removes a dead lock but leaves alone one that a live process holds', async () => {
    const base = tmpdir();
    const dead = path.join(base, 'dead.lock');
    const child = await childHolding(dead, 'exit');
    await exited(child);
    await removeDeadLock(dead, 10_000);
    expect(fs.existsSync(dead)).toBe(false);

    const live = path.join(base, 'live.lock');
    const holder = await childHolding(live, 'hold');
    try {
      const before = fs.readdirSync(live);
      expect(before).toHaveLength(1);
      await removeDeadLock(live, 10_000);
      expect(fs.readdirSync(live)).toEqual(before);
      expect(fs.readdirSync(base).sort()).toEqual(['live.lock']);
    } finally {
      holder.kill('SIGKILL');
      await exited(holder);
    }
  });
});

const waiting = { ...timing, timeout: 10_000 };

describe('waiters that meet: the one that arrived first keeps its entry', () => {
  /**
   * A live owner entry whose acquisition began at `since`: of another host, so judged by its age
   * alone (an entry of this process that it does not know of would be a dead leftover).
   */
  function liveEntry(lockDir: string, since: number): string {
    fs.mkdirSync(lockDir, { recursive: true });
    const name = entryName({ ...newRecord(10_000, since), host: FOREIGN_HOST });
    fs.mkdirSync(path.join(lockDir, name));
    return name;
  }
  /** Our entries in `lockDir`: every entry but `other`. */
  const ours = (lockDir: string, other: string): string[] => fs.readdirSync(lockDir).filter((n) => n !== other);

  it('keeps its entry beside a later one, and takes the lock as soon as that one goes', async () => {
    const lockDir = path.join(tmpdir(), 'lock');
    const later = liveEntry(lockDir, Date.now() + 60_000);
    // While the later entry is there, ours stays listed beside it (without the rule it was removed
    // at once, and made again only for a moment at each retry): checked whenever the waiter goes
    // to sleep (its watch of the directory, from the fault hook), and by sampling in between.
    const atSleep: number[] = [];
    faults.hook = (e) => {
      if (e.kind === 'op' && e.op === 'watch' && e.path === lockDir) atSleep.push(ours(lockDir, later).length);
    };
    let pending: Promise<Awaited<ReturnType<typeof acquire>>>;
    try {
      pending = acquire(lockDir, { ...timing, timeout: 5_000 }, { wait: true, what: 'test lock' });
      let seen = 0;
      for (let i = 0; i < 10; i++) {
        await new Promise((r) => setTimeout(r, 20));
        if (ours(lockDir, later).length === 1) seen += 1;
      }
      expect(seen).toBeGreaterThanOrEqual(9);
    } finally {
      faults.hook = undefined;
    }
    expect(atSleep.length).toBeGreaterThanOrEqual(2);
    expect(atSleep.every((n) => n === 1)).toBe(true);
    const started = Date.now();
    fs.rmdirSync(path.join(lockDir, later));
    const lock = await pending;
    // Woken by the change (a directory watch), or at the latest by its 50 ms listing.
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(fs.readdirSync(lockDir)).toHaveLength(1);
    await lock.release();
  });

  it('steps back from an earlier one, and leaves its entry there alone', async () => {
    const lockDir = path.join(tmpdir(), 'lock');
    const earlier = liveEntry(lockDir, Date.now() - 60_000);
    // Whenever the waiter goes to sleep (its watch of the directory, reported to the fault hook),
    // the entry of its attempt is gone already: it stepped back. Checked at every sleep, from the
    // hook; sampling the directory every 20 ms instead also caught an attempt's entry in its moment
    // of existence (create, list, unlink) when the machine was busy (5 of 10 samples once, in a
    // full run beside the fairness test's four committing processes).
    const atSleep: string[][] = [];
    faults.hook = (e) => {
      if (e.kind === 'op' && e.op === 'watch' && e.path === lockDir) atSleep.push(ours(lockDir, earlier));
    };
    try {
      const pending = acquire(lockDir, { ...timing, timeout: 400 }, { wait: true, what: 'test lock' });
      await expect(pending).rejects.toMatchObject({ code: codes.ELOCKED });
    } finally {
      faults.hook = undefined;
    }
    expect(atSleep.length).toBeGreaterThanOrEqual(3);
    expect(atSleep.filter((names) => names.length > 0)).toEqual([]);
    expect(fs.readdirSync(lockDir)).toEqual([earlier]);
  });
});

describe('withRootLock', () => {
  it('serialises callers in one process, in call order', async () => {
    const lockDir = path.join(tmpdir(), 'root.lock');
    const events: string[] = [];
    const job = (name: string) => withRootLock(lockDir, waiting, undefined, async () => {
      events.push(`start ${name}`);
      await new Promise((r) => setTimeout(r, 20));
      events.push(`end ${name}`);
      return name;
    });
    const results = await Promise.all([job('a'), job('b'), job('c')]);
    expect(results).toEqual(['a', 'b', 'c']);
    expect(events).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    expect(fs.existsSync(lockDir)).toBe(false);
  });

  it('records when an acquisition had to wait (rootLockContended), for CONTENDED_FOR_MS', async () => {
    const home = path.join(tmpdir(), '.txnfs');
    fs.mkdirSync(home);
    const lockDir = path.join(home, 'lock');
    await withRootLock(lockDir, waiting, undefined, async () => undefined);
    expect(rootLockContended(lockDir)).toBe(false);
    // Behind a holder in this thread.
    await Promise.all([0, 1].map(() => withRootLock(lockDir, waiting, undefined, () => new Promise((r) => setTimeout(r, 10)))));
    expect(rootLockContended(lockDir)).toBe(true);
    const now = Date.now();
    const clock = vi.spyOn(Date, 'now').mockReturnValue(now + CONTENDED_FOR_MS);
    try {
      expect(rootLockContended(lockDir)).toBe(false);
      clock.mockReturnValue(now + CONTENDED_FOR_MS - 50);
      expect(rootLockContended(lockDir)).toBe(true);
    } finally {
      clock.mockRestore();
    }
    // Behind a holder in another process: waited for, recorded the same way.
    const other = path.join(tmpdir(), '.txnfs');
    fs.mkdirSync(other);
    const otherLock = path.join(other, 'lock');
    const child = await childHolding(otherLock, 'hold');
    const taken = withRootLock(otherLock, waiting, undefined, async () => undefined);
    await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGKILL');
    await exited(child);
    await taken;
    expect(rootLockContended(otherLock)).toBe(true);
  });

  it('releases the lock when the callback throws', async () => {
    const lockDir = path.join(tmpdir(), 'root.lock');
    await expect(withRootLock(lockDir, timing, undefined, async () => {
      throw new Error('boom');
    })).rejects.toThrow('boom');
    expect(fs.existsSync(lockDir)).toBe(false);
  });
});

describe('withRootLock timeout in one process', () => {
  it('a waiter gives up after lockTimeout with ELOCKED, and the queue still runs in order', async () => {
    const lockDir = path.join(tmpdir(), 'root.lock');
    const events: string[] = [];
    let releaseFirst!: () => void;
    const first = withRootLock(lockDir, waiting, undefined, () => new Promise<void>((r) => {
      events.push('first');
      releaseFirst = r;
    }));
    const second = withRootLock(lockDir, { ...timing, timeout: 50 }, undefined, async () => {
      events.push('second');
    });
    const third = withRootLock(lockDir, waiting, undefined, async () => {
      events.push('third');
    });
    await expect(second).rejects.toMatchObject({ code: codes.ELOCKED });
    expect(events).toEqual(['first']); // the third did not overtake the holder
    releaseFirst();
    await first;
    await third;
    expect(events).toEqual(['first', 'third']);
  });
});

describe('a lockTimeout longer than a Node timer can wait (2^31 ms)', () => {
  // setTimeout treats a delay above 2^31-1 ms as 1 ms: before the wait was chunked, a lockTimeout
  // of 2^31 gave up with ELOCKED after a millisecond or so.
  for (const timeout of [2 ** 31, Number.POSITIVE_INFINITY]) {
    it(`lockTimeout ${timeout}: an in-process waiter keeps waiting until the holder is done`, async () => {
      const lockDir = path.join(tmpdir(), 'root.lock');
      let releaseFirst!: () => void;
      const first = withRootLock(lockDir, timing, undefined, () => new Promise<void>((r) => {
        releaseFirst = r;
      }));
      let ran = false;
      const second = withRootLock(lockDir, { ...timing, timeout }, undefined, async () => {
        ran = true;
      });
      const outcome = second.then(() => 'ran', (err: { code?: string }) => `rejected ${err.code}`);
      await new Promise((r) => setTimeout(r, 200));
      expect(ran).toBe(false);
      releaseFirst();
      await first;
      expect(await outcome).toBe('ran');
    });
  }

  it('an abort still cuts an endless wait', async () => {
    const lockDir = path.join(tmpdir(), 'root.lock');
    let releaseFirst!: () => void;
    let holding!: () => void;
    const held = new Promise<void>((r) => {
      holding = r;
    });
    const first = withRootLock(lockDir, timing, undefined, () => new Promise<void>((r) => {
      releaseFirst = r;
      holding();
    }));
    // The wait to cut is for a holder that holds: the first acquisition may take a while under load.
    await held;
    const second = withRootLock(lockDir, { ...timing, timeout: Number.POSITIVE_INFINITY }, AbortSignal.timeout(100), async () => undefined);
    await expect(second).rejects.toMatchObject({ name: 'TimeoutError' });
    releaseFirst();
    await first;
  });
});

describe('take-over of a dead owner by several waiters (issue 12, item 8)', () => {
  // The race that a lock removed by its path cannot close: waiter A judges the dead owner and
  // stalls right before removing it; waiter B removes it and takes the lock; then A's removal goes
  // ahead. Here A's removal names the dead owner's entry, so it can only miss: B keeps the lock.
  it("a waiter that stalled between judging and removing a dead owner never removes the owner that took over meanwhile", async () => {
    const lockDir = path.join(tmpdir(), 'lock');
    const child = await childHolding(lockDir, 'exit');
    await exited(child);
    const [dead] = fs.readdirSync(lockDir);
    const deadEntry = path.join(lockDir, dead as string);
    let stalled!: () => void;
    const gate = new Promise<void>((r) => {
      stalled = r;
    });
    let reachedGate!: () => void;
    const atGate = new Promise<void>((r) => {
      reachedGate = r;
    });
    let first = true;
    const real = fsSeam.useFsImpl();
    fsSeam.useFsImpl({
      ...real,
      unlink: async (p) => {
        if (p === deadEntry && first) {
          first = false;
          reachedGate();
          await gate; // A stalls here, with its verdict "dead" in hand
        }
        return real.unlink(p);
      },
    });
    try {
      const a = acquire(lockDir, { ...timing, timeout: 300 }, { wait: true, what: 'test lock' }).then(
        (l) => ({ ok: true as const, l }),
        (err: unknown) => ({ ok: false as const, err }),
      );
      await atGate;
      const b = await acquire(lockDir, timing, { wait: false, what: 'test lock' });
      const bEntries = fs.readdirSync(lockDir);
      expect(bEntries).toHaveLength(1);
      stalled();
      const outcome = await a;
      // A must not hold the lock while B does, and B's entry must still be there.
      expect(outcome.ok).toBe(false);
      expect((outcome as { err: { code?: string } }).err).toMatchObject({ code: codes.ELOCKED });
      expect(fs.readdirSync(lockDir)).toEqual(bEntries);
      await b.verify();
      await b.release();
    } finally {
      fsSeam.useFsImpl(real);
    }
  });
});

describe('hand-off between processes', () => {
  it('a waiter in another process takes a released lock long before its poll interval would', async () => {
    const lockDir = path.join(tmpdir(), 'lock');
    const holder = await acquire(lockDir, timing, { wait: false, what: 'test lock' });
    const waiter = spawn(process.execPath, [fileURLToPath(new URL('../../fixtures/wait-lock.mjs', import.meta.url)), lockDir], { stdio: ['ignore', 'pipe', 'inherit'] });
    const lines: string[] = [];
    const waiting = new Promise<void>((resolve) => {
      waiter.stdout.on('data', (d: Buffer) => {
        lines.push(...d.toString().split('\n').filter(Boolean));
        if (lines.includes('WAITING')) resolve();
      });
    });
    await waiting;
    // Let its back-off grow to the longest poll interval (100 ms) before releasing.
    await new Promise((r) => setTimeout(r, 1500));
    const released = Date.now();
    await holder.release();
    await exited(waiter);
    const got = Number(lines.find((l) => l.startsWith('LOCKED '))?.slice(7));
    expect(got - released).toBeLessThan(50);
  });
});
