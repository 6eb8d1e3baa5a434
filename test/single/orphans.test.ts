import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { recover } from '../../src/index.js';
import { selfIdentity } from '../../src/protocol/identity.js';
import { acquire } from '../../src/protocol/lock.js';
import { isSingleFileRecord, removeOrphans, updateLockName } from '../../src/single/orphans.js';
import { keepFresh } from '../../src/single/heartbeat.js';
import { hostHash, tempName } from '../../src/single/tempname.js';
import { ops, record } from '../helpers/hook.js';
import { leftovers, snapshot, tmpdir } from '../helpers/tmp.js';

const me = selfIdentity();
const b36 = (n: number | string): string => BigInt(n).toString(36);

function home(dir: string): string {
  const h = path.join(dir, '.txnfs');
  fs.mkdirSync(h, { recursive: true });
  return h;
}

/** Put a file with `name` in the home of `dir`, last modified `ageMs` ago. */
function plant(dir: string, name: string, ageMs = 0): string {
  const p = path.join(home(dir), name);
  fs.writeFileSync(p, 'partial');
  const t = new Date(Date.now() - ageMs);
  fs.utimesSync(p, t, t);
  return name;
}

function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

/** Run `fn`, counting the reads of `/proc/<pid>/stat` (identity.ts reads it through node:fs). */
async function procReads<T>(pid: number, fn: () => Promise<T>): Promise<{ result: T; count: number }> {
  const cjs = createRequire(import.meta.url)('node:fs') as typeof fs;
  const real = cjs.readFileSync;
  let count = 0;
  cjs.readFileSync = ((p: fs.PathOrFileDescriptor, ...rest: unknown[]) => {
    if (p === `/proc/${pid}/stat`) count++;
    return (real as (...a: unknown[]) => unknown)(p, ...rest);
  }) as typeof fs.readFileSync;
  syncBuiltinESMExports();
  try {
    return { result: await fn(), count };
  } finally {
    cjs.readFileSync = real;
    syncBuiltinESMExports();
  }
}

const sameHost = (pid: number, start: string): string => `.tmp-${hostHash(me.host)}-${b36(pid)}-${start === '' ? '' : b36(start)}-0-1`;
const otherHost = (): string => `.tmp-${hostHash('linux:some-other-boot:pidns')}-${b36(4242)}-${b36(12345)}-0-1`;

async function orphansOf(dir: string, stale = 10_000, dryRun = false): Promise<string[]> {
  const names = fs.readdirSync(path.join(dir, '.txnfs')).filter(isSingleFileRecord);
  return (await removeOrphans(path.join(dir, '.txnfs'), names, { stale, dryRun })).paths.map((p) => path.basename(p));
}

describe('which temp files are orphans', () => {
  it.runIf(process.platform === 'linux')('a dead writer on this host: removed at once, however fresh', async () => {
    const dir = tmpdir();
    const name = plant(dir, sameHost(deadPid(), '987654'));
    expect(await orphansOf(dir)).toEqual([name]);
    expect(leftovers(dir)).toEqual([]);
  });

  it.runIf(process.platform === 'linux')('a live writer on this host: kept, however old; removed once it exits', async () => {
    const dir = tmpdir();
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    const stat = fs.readFileSync(`/proc/${child.pid}/stat`, 'utf8');
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] as string;
    const name = plant(dir, sameHost(child.pid as number, start), 3_600_000);
    // This thread's own temp, registered as a writer registers it before creating it.
    const mine = tempName();
    const stop = keepFresh(path.join(dir, '.txnfs', mine));
    try {
      plant(dir, mine, 3_600_000);
      // One read of the writer's /proc entry decides it (a commit judges the live temps of the
      // others in its root every time): the question "gone?" answered second, not first as well.
      const reads = await procReads(child.pid as number, () => orphansOf(dir));
      expect(reads.result).toEqual([]);
      expect(reads.count).toBe(1);
      child.kill('SIGKILL');
      await once(child, 'exit');
      expect(await orphansOf(dir)).toEqual([name]);
      expect(leftovers(dir)).toEqual([mine]);
    } finally {
      stop();
    }
  });

  it.runIf(process.platform === 'linux')('after a commit, a writer found alive lately is taken for alive (aliveFor); recover() asks again', async () => {
    const dir = tmpdir();
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    try {
      const stat = fs.readFileSync(`/proc/${child.pid}/stat`, 'utf8');
      const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] as string;
      // Two temps of one live writer (a lone file and a single-file write), judged three times over,
      // as the clean-up after three commits in a row would: one read of /proc decides them all.
      const a = plant(dir, sameHost(child.pid as number, start));
      const b = plant(dir, `${sameHost(child.pid as number, start).slice(0, -1)}2`);
      const h = path.join(dir, '.txnfs');
      const afterCommit = () => removeOrphans(h, [a, b], { stale: 10_000, dryRun: false, aliveFor: 60_000 });
      const reads = await procReads(child.pid as number, async () => {
        for (let i = 0; i < 3; i++) expect((await afterCommit()).paths).toEqual([]);
      });
      expect(reads.count).toBe(1);
      // Once it is gone: the clean-up after a commit still takes it for alive, within aliveFor (its
      // temps are left for later); recover() and a judgement without aliveFor see it gone at once.
      child.kill('SIGKILL');
      await once(child, 'exit');
      expect((await afterCommit()).paths).toEqual([]);
      expect(await orphansOf(dir)).toEqual([a, b].sort());
      expect(leftovers(dir)).toEqual([]);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('a temp of this very thread that it no longer writes (its removal failed): removed at once', async () => {
    const dir = tmpdir();
    const mine = tempName();
    const p = path.join(dir, '.txnfs', mine);
    const stop = keepFresh(p);
    plant(dir, mine);
    expect(await orphansOf(dir)).toEqual([]); // written: alive, however this process is judged
    stop(); // the writer let go of it, and its unlink failed
    expect(await orphansOf(dir)).toEqual([mine]);
    expect(leftovers(dir)).toEqual([]);
  });

  it('another host or an earlier boot: removed once older than max(lockStale, 30 s)', async () => {
    const dir = tmpdir();
    const fresh = plant(dir, otherHost(), 5_000);
    expect(await orphansOf(dir)).toEqual([]);
    fs.rmSync(path.join(dir, '.txnfs', fresh));
    const aging = plant(dir, otherHost(), 45_000);
    expect(await orphansOf(dir, 60_000)).toEqual([]); // a longer lockStale is honoured
    expect(await orphansOf(dir, 10_000)).toEqual([aging]); // a shorter one is raised to 30 s
  });

  it('a writer on this host whose start time is unknown is judged by staleness too', async () => {
    const dir = tmpdir();
    const name = plant(dir, sameHost(process.pid, ''), 1_000);
    expect(await orphansOf(dir)).toEqual([]);
    const t = new Date(Date.now() - 60_000);
    fs.utimesSync(path.join(dir, '.txnfs', name), t, t);
    expect(await orphansOf(dir)).toEqual([name]);
  });

  it("never a user's file, whatever its name or age", async () => {
    const dir = tmpdir();
    const pid = deadPid();
    const names = ['.tmp-notours', 'notes.txt', `${sameHost(pid, '1')}.bak`, 'lock-ish', '.upd-xyz.lock'];
    for (const n of names) plant(dir, n, 86_400_000);
    const dirNamedLikeATemp = sameHost(pid, '2');
    fs.mkdirSync(path.join(dir, '.txnfs', dirNamedLikeATemp));
    fs.writeFileSync(path.join(dir, sameHost(pid, '3')), 'a user file next to .txnfs, never looked at');
    const report = await recover(dir);
    expect(report.orphans).toEqual([]);
    expect(leftovers(dir).sort()).toEqual([...names, dirNamedLikeATemp].sort());
    expect(snapshot(dir)).toEqual({ [sameHost(pid, '3')]: 'a user file next to .txnfs, never looked at' });
  });
});

describe('update() locks', () => {
  it('a dead holder\'s lock is removed; a held one is kept', async () => {
    const dir = tmpdir();
    const h = home(dir);
    const dead = path.join(h, updateLockName('dead.json'));
    fs.mkdirSync(dead);
    fs.writeFileSync(path.join(dead, 'owner'), JSON.stringify({ host: me.host, pid: deadPid(), start: '1', token: 't', stale: 10_000, since: 0 }));
    const live = await acquire(path.join(h, updateLockName('live.json')), { stale: 10_000, update: 5_000, timeout: 0 }, { wait: false, what: 'update lock' });
    try {
      if (process.platform === 'linux') expect(await orphansOf(dir)).toEqual([path.basename(dead)]);
      expect(fs.existsSync(live.path)).toBe(true);
    } finally {
      await live.release();
    }
  });
});

describe('recover(dir) and single-file orphans', () => {
  it('removes orphans and reports them; dryRun only reports', async () => {
    const dir = tmpdir();
    const orphan = plant(dir, otherHost(), 120_000);
    const dry = await recover(dir, { dryRun: true });
    expect(dry.orphans).toEqual([path.join(dir, '.txnfs', orphan)]);
    expect(leftovers(dir)).toEqual([orphan]);
    const report = await recover(dir);
    expect(report.orphans).toEqual([path.join(dir, '.txnfs', orphan)]);
    expect(leftovers(dir)).toEqual([]);
  });

  it('with only live temps it takes no lock and writes nothing', async () => {
    const dir = tmpdir();
    const mine = tempName();
    const stop = keepFresh(path.join(dir, '.txnfs', mine)); // written by this thread right now
    try {
      plant(dir, mine);
      plant(dir, otherHost(), 1_000);
      const events = record();
      const report = await recover(dir);
      expect(report.orphans).toEqual([]);
      const seen = ops(events);
      expect(seen.filter((o) => !/^(readdir|lstat|readFile|realpath|stat) /.test(o))).toEqual([]);
      expect(leftovers(dir)).toHaveLength(2);
    } finally {
      stop();
    }
  });

  it('reads only <dir>/.txnfs, never lists <dir> itself', async () => {
    const dir = tmpdir();
    for (let i = 0; i < 20; i++) fs.writeFileSync(path.join(dir, `user-${i}`), 'x');
    plant(dir, tempName());
    plant(dir, otherHost(), 120_000);
    const events = record();
    await recover(dir);
    expect(ops(events).filter((o) => o.startsWith('readdir'))).toEqual([`readdir ${path.join(dir, '.txnfs')}`]);
    expect(ops(events).filter((o) => o.includes('user-'))).toEqual([]);
  });
});
