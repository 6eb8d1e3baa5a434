/**
 * No litter (src/protocol/home.ts): after a successful write, commit, abort or recover() with nothing
 * pending, a directory holds only the user's files; writers racing the removal of an empty home
 * never fail and lose nothing.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { begin, createWriteStream, recover, update, writeFile, writeJson } from '../../src/index.js';
import { inHome, keepHome, removeHomeIfEmpty, HOME_RETRIES } from '../../src/protocol/home.js';
import { faults } from '../../src/io/faults.js';
import { run } from '../helpers/child.js';
import { tmpdir } from '../helpers/tmp.js';

const names = (dir: string): string[] => fs.readdirSync(dir).sort();

describe('a directory written to holds only the user files afterwards', () => {
  it('writeFile, writeJson, createWriteStream and update leave no .txnfs', async () => {
    const dir = tmpdir();
    await writeFile(path.join(dir, 'a'), 'a');
    expect(names(dir)).toEqual(['a']);
    await writeFile(path.join(dir, 'a'), 'b', { exclusive: false, durability: 'none' });
    await writeFile(path.join(dir, 'x'), 'x', { exclusive: true });
    await writeJson(path.join(dir, 'b.json'), { b: 1 });
    await pipeline(Readable.from(['s']), createWriteStream(path.join(dir, 's')));
    await update(path.join(dir, 'u'), () => 'u');
    await update(path.join(dir, 'u'), () => undefined);
    await writeFile(path.join(dir, 'd'), 'd', { dryRun: true });
    await writeFile(path.join(dir, 'deep/er/f'), 'f', { mkdirs: true });
    expect(names(dir)).toEqual(['a', 'b.json', 'deep', 's', 'u', 'x']);
    expect(names(path.join(dir, 'deep/er'))).toEqual(['f']);
  });

  it('a failed write leaves no .txnfs either', async () => {
    const dir = tmpdir();
    await expect(writeFile(path.join(dir, 'f'), (async function* () { yield 'x'; throw new Error('source broke'); })())).rejects.toMatchObject({ code: 'ESTAGE' });
    await expect(update(path.join(dir, 'u'), () => { throw new Error('no'); })).rejects.toThrow('no');
    expect(names(dir)).toEqual([]);
  });

  it('a commit, an empty commit and an abort leave no .txnfs', async () => {
    const dir = tmpdir();
    const tx = begin({ dir });
    tx.write('a', 'a');
    tx.write('sub/b', 'b');
    await tx.commit();
    expect(names(dir)).toEqual(['a', 'sub']);
    const removing = begin({ dir });
    removing.remove('a');
    await removing.commit();
    expect(names(dir)).toEqual(['sub']);
    await begin({ dir }).commit();
    const aborted = begin({ dir });
    aborted.write('c', 'c');
    await aborted.abort();
    expect(names(dir)).toEqual(['sub']);
  });

  it('recover() with nothing pending removes an empty home; a dry run only looks', async () => {
    const dir = tmpdir();
    fs.mkdirSync(path.join(dir, '.txnfs'));
    await recover(dir, { dryRun: true });
    expect(names(dir)).toEqual(['.txnfs']);
    await recover(dir);
    expect(names(dir)).toEqual([]);
  });

  it('a home that holds something is kept', async () => {
    const dir = tmpdir();
    fs.mkdirSync(path.join(dir, '.txnfs/keep'), { recursive: true });
    await writeFile(path.join(dir, 'a'), 'a');
    await removeHomeIfEmpty(path.join(dir, '.txnfs'));
    expect(names(dir)).toEqual(['.txnfs', 'a']);
  });
});

describe('writers racing the removal of an empty home', () => {
  it('inHome makes the home again when it vanished, and gives up only after HOME_RETRIES', async () => {
    let made = 0;
    let used = 0;
    const vanished = (): never => {
      throw Object.assign(new Error('gone'), { code: 'ENOENT' });
    };
    expect(await inHome(async () => void made++, async () => (++used < 3 ? vanished() : 'ok'))).toBe('ok');
    expect([made, used]).toEqual([3, 3]);
    made = 0;
    await expect(inHome(async () => void made++, async () => vanished())).rejects.toMatchObject({ code: 'ENOENT' });
    expect(made).toBe(HOME_RETRIES);
  });

  /**
   * Play another writer's rmdir of the (empty) home at the worst moments: right after this writer
   * made the home, before the call that puts something in it (a temp, a lock's private dir) or the
   * calls that check the home it just made. `times` removals, then the writer must get through.
   */
  function vanishingHome(dir: string, times: number): { removed: () => number } {
    const home = path.join(dir, '.txnfs');
    let removed = 0;
    faults.hook = (e) => {
      if (e.kind !== 'op' || removed >= times) return;
      const inHome = path.dirname(e.path) === home;
      const onHome = e.path === home && e.op !== 'mkdir' && e.op !== 'rmdir';
      if (!inHome && !onHome) return;
      try {
        fs.rmdirSync(home);
        removed++;
      } catch {
        // not empty (or gone): another writer's rmdir would fail too
      }
    };
    return { removed: () => removed };
  }

  for (const [what, write] of [
    ['writeFile', (dir: string) => writeFile(path.join(dir, 'f'), 'new')],
    ['writeFile with mkdirs', (dir: string) => writeFile(path.join(dir, 'f'), 'new', { mkdirs: true })],
    ['createWriteStream', (dir: string) => pipeline(Readable.from(['new']), createWriteStream(path.join(dir, 'f')))],
    ['update', (dir: string) => update(path.join(dir, 'f'), () => 'new')],
    ['a transaction', async (dir: string) => {
      const tx = begin({ dir });
      tx.write('f', 'new');
      await tx.commit();
    }],
  ] as const) {
    it(`${what}: a home removed under it is made again, the write lands, and no .txnfs is left`, async () => {
      const dir = tmpdir();
      const race = vanishingHome(dir, 3);
      try {
        await write(dir);
      } finally {
        faults.hook = undefined;
      }
      expect(race.removed()).toBeGreaterThan(0);
      expect(fs.readFileSync(path.join(dir, 'f'), 'utf8')).toBe('new');
      expect(names(dir)).toEqual(['f']);
    });
  }

  it('recover(): a home removed before its root lock is in it means nothing is pending', async () => {
    const dir = tmpdir();
    // A dead root lock makes recover() take the lock; the home vanishes right before.
    fs.mkdirSync(path.join(dir, '.txnfs/.tomb-x'), { recursive: true });
    const home = path.join(dir, '.txnfs');
    faults.hook = (e) => {
      // The root lock's entry is made in the home itself (create: lock.ts, flat).
      if (e.kind === 'op' && e.op === 'create' && path.dirname(e.path) === home) fs.rmSync(home, { recursive: true });
    };
    try {
      await expect(recover(dir)).resolves.toMatchObject({ rolledForward: [], corrupt: [] });
    } finally {
      faults.hook = undefined;
    }
    expect(names(dir)).toEqual([]);
  });

  it('hundreds of writers in this process: no error, nothing lost, no .txnfs at the end', async () => {
    const dir = tmpdir();
    const jobs: Promise<unknown>[] = [];
    for (let i = 0; i < 60; i++) {
      jobs.push(writeFile(path.join(dir, `w${i}`), `w${i}`, { durability: 'none' }));
      jobs.push(update(path.join(dir, 'counter'), (old) => String(Number(old?.toString() ?? '0') + 1), { durability: 'none' }));
      const tx = begin({ dir, durability: 'none' });
      tx.write(`t${i}`, `t${i}`);
      jobs.push(tx.commit());
      if (i % 10 === 0) jobs.push(recover(dir));
    }
    const failures = (await Promise.allSettled(jobs)).filter((r) => r.status === 'rejected');
    expect(failures).toEqual([]);
    for (let i = 0; i < 60; i++) {
      expect(fs.readFileSync(path.join(dir, `w${i}`), 'utf8')).toBe(`w${i}`);
      expect(fs.readFileSync(path.join(dir, `t${i}`), 'utf8')).toBe(`t${i}`);
    }
    expect(fs.readFileSync(path.join(dir, 'counter'), 'utf8')).toBe('60');
    expect(names(dir)).not.toContain('.txnfs');
  });

  it('several processes hammering one directory: no error, nothing lost, no .txnfs at the end', async () => {
    const dir = tmpdir();
    const procs = 4;
    const rounds = 15;
    const results = await Promise.all(Array.from({ length: procs }, (_, p) => run('home-hammer.mjs', [dir, `p${p}`, String(rounds)])));
    for (const r of results) {
      expect(r.stderr).toBe('');
      expect(r.stdout.trim()).toBe('done');
      expect(r.status).toBe(0);
    }
    for (let p = 0; p < procs; p++) {
      for (let i = 0; i < rounds; i++) {
        const tag = `p${p}`;
        expect(fs.readFileSync(path.join(dir, `${tag}-w${i}`), 'utf8')).toBe(`${tag}:${i}:w`);
        expect(JSON.parse(fs.readFileSync(path.join(dir, `${tag}-j${i}`), 'utf8'))).toEqual({ tag, i });
        expect(fs.readFileSync(path.join(dir, `${tag}-s${i}`), 'utf8')).toBe(`${tag}:${i}:s`);
        expect(fs.readFileSync(path.join(dir, `${tag}-t${i}-a`), 'utf8')).toBe(`${tag}:${i}:a`);
        expect(fs.readFileSync(path.join(dir, `${tag}-t${i}-b`), 'utf8')).toBe(`${tag}:${i}:b`);
      }
    }
    expect(fs.readFileSync(path.join(dir, 'counter'), 'utf8')).toBe(String(procs * rounds));
    expect(names(dir)).not.toContain('.txnfs');
    expect(names(dir)).toHaveLength(procs * rounds * 5 + 1);
  }, 120_000);
});

describe('a kept home (openRoot: src/transaction/root.ts)', () => {
  it('is not removed while any keeper holds it; each release counts once', async () => {
    const dir = tmpdir();
    const home = path.join(dir, '.txnfs');
    fs.mkdirSync(home);
    const one = keepHome(home);
    const two = keepHome(home);
    expect(await removeHomeIfEmpty(home)).toBeUndefined();
    expect(fs.existsSync(home)).toBe(true);
    expect(one()).toBe(false); // another keeper is left
    expect(one()).toBe(false); // a second call is a no-op, not a second release
    await removeHomeIfEmpty(home);
    expect(fs.existsSync(home)).toBe(true);
    expect(two()).toBe(true); // the last one: the caller removes it now
    await removeHomeIfEmpty(home);
    expect(fs.existsSync(home)).toBe(false);
  });

  it("keeps only that home: another root's empty home is removed as before", async () => {
    const kept = path.join(tmpdir(), '.txnfs');
    const other = path.join(tmpdir(), '.txnfs');
    fs.mkdirSync(kept);
    fs.mkdirSync(other);
    const release = keepHome(kept);
    await removeHomeIfEmpty(other);
    expect(fs.existsSync(other)).toBe(false);
    expect(fs.existsSync(kept)).toBe(true);
    expect(release()).toBe(true);
  });
});
