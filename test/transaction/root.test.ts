/**
 * src/transaction/root.ts: openRoot(), a handle that recovers a root once and keeps its home
 * between commits (src/protocol/home.ts, keepHome) until close() or the process's exit.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { begin, codes, openRoot, Root, writeFile } from '../../src/index.js';
import { crashAt } from '../helpers/crash-at.js';
import { ops, record } from '../helpers/hook.js';
import { leftovers, snapshot, tmpdir } from '../helpers/tmp.js';

const hasHome = (dir: string): boolean => fs.existsSync(path.join(dir, '.txnfs'));
const dist = path.resolve(import.meta.dirname, '../../dist/index.js');

describe('openRoot()', () => {
  it('keeps the home between commits, and close() removes it', async () => {
    const dir = tmpdir();
    const root = await openRoot(dir);
    expect(root).toBeInstanceOf(Root);
    expect(root.dir).toBe(dir);
    for (let i = 0; i < 3; i++) {
      const tx = root.begin();
      tx.write('a.json', String(i));
      await tx.commit();
      // A plain begin() commit removes the empty home here (No litter); the handle keeps it.
      expect(hasHome(dir)).toBe(true);
      expect(leftovers(dir)).toEqual([]);
    }
    expect(snapshot(dir)).toEqual({ 'a.json': '2' });
    await root.close();
    expect(root.closed).toBe(true);
    expect(hasHome(dir)).toBe(false);
    await root.close(); // idempotent
  });

  it('`await using` closes it when the scope ends', async () => {
    const dir = tmpdir();
    {
      await using root = await openRoot(dir);
      await root.transaction((tx) => tx.write('a', 'A'));
      expect(hasHome(dir)).toBe(true);
    }
    expect(hasHome(dir)).toBe(false);
    expect(snapshot(dir)).toEqual({ a: 'A' });
  });

  it('saves each commit after the first the mkdir and the rmdir of the home', async () => {
    const dir = tmpdir();
    const root = await openRoot(dir, { durability: 'none' });
    const first = root.begin();
    first.write('a', '0');
    await first.commit();
    const events = record();
    for (let i = 1; i <= 5; i++) {
      const tx = root.begin();
      tx.write('a', String(i));
      await tx.commit();
    }
    const home = path.join(dir, '.txnfs');
    const calls = ops(events);
    expect(calls.filter((c) => c === `mkdir ${home}` || c === `rmdir ${home}`)).toEqual([]);
    // Still one lstat of the home per commit: its owner and mode are checked every time.
    expect(calls.filter((c) => c === `lstat ${home}`)).toHaveLength(5);
    await root.close();
  });

  it('a one-file commit through it costs two calls fewer than a plain one (docs/protocol.md, the cost of a small commit)', async () => {
    const count = async (start: () => ReturnType<typeof begin>): Promise<number> => {
      const warm = start();
      warm.write('a', 'warm');
      await warm.commit();
      const events = record();
      const tx = start();
      tx.write('a', 'x'.repeat(4096));
      await tx.commit();
      return ops(events).length;
    };
    for (const durability of ['full', 'none'] as const) {
      const plainDir = tmpdir();
      const plain = await count(() => begin({ dir: plainDir, durability }));
      const root = await openRoot(tmpdir(), { durability });
      const kept = await count(() => root.begin());
      expect({ durability, saved: plain - kept }).toEqual({ durability, saved: 2 });
      await root.close();
    }
  });

  it('recovers the root once at open and reports it', async () => {
    const dir = tmpdir();
    const id = crashAt(dir, 'committed', 3);
    const root = await openRoot(dir, { durability: 'none' });
    expect(root.recovered.rolledForward.map((t) => t.id)).toEqual([id]);
    expect(snapshot(dir)).toEqual({ f0000: 'f0000f0000f0000f', f0001: 'f0001f0001f0001f', f0002: 'f0002f0002f0002f' });
    await root.close();
    expect(leftovers(dir)).toEqual([]);
  });

  it('passes its options on as defaults; a transaction overrides them', async () => {
    const dir = tmpdir();
    const root = await openRoot(dir, { durability: 'none' });
    let events = record();
    const a = root.begin();
    a.write('a', 'A');
    await a.commit();
    expect(ops(events).filter((c) => c.startsWith('fsync'))).toEqual([]);
    events = record();
    const b = root.begin({ durability: 'full' });
    b.write('b', 'B');
    await b.commit();
    expect(ops(events).filter((c) => c.startsWith('fsync')).length).toBeGreaterThan(0);
    await root.close();
  });

  it('root.transaction() commits when fn returns and aborts when it throws', async () => {
    const dir = tmpdir();
    const root = await openRoot(dir);
    await expect(
      root.transaction((tx) => {
        tx.write('kept', 'yes');
        return 42;
      }),
    ).resolves.toBe(42);
    await expect(
      root.transaction(async (tx) => {
        tx.write('dropped', 'no');
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(snapshot(dir)).toEqual({ kept: 'yes' });
    await root.close();
    expect(leftovers(dir)).toEqual([]);
  });

  it('refuses begin() once closed (ESTATE); a transaction begun before still commits, and No litter resumes', async () => {
    const dir = tmpdir();
    const root = await openRoot(dir);
    const tx = root.begin();
    tx.write('late', 'x');
    await root.close();
    expect(() => root.begin()).toThrow(expect.objectContaining({ code: codes.ESTATE }));
    await tx.commit();
    expect(snapshot(dir)).toEqual({ late: 'x' });
    expect(hasHome(dir)).toBe(false);
  });

  it('bad input: a missing root (EFS), a file as root (ETARGET), unknown or invalid options, keep nothing', async () => {
    const dir = tmpdir();
    await expect(openRoot(path.join(dir, 'missing'))).rejects.toMatchObject({ code: codes.EFS });
    fs.writeFileSync(path.join(dir, 'file'), '');
    await expect(openRoot(path.join(dir, 'file'))).rejects.toMatchObject({ code: codes.ETARGET });
    await expect(openRoot(dir, { layout: 'generations' } as never)).rejects.toThrow(/Unknown option "layout"/);
    const site = path.join(dir, 'site');
    const gen = begin({ dir: site, layout: 'generations' });
    gen.write('a', 'A');
    await gen.commit();
    await expect(openRoot(site)).rejects.toMatchObject({ code: codes.ETARGET, message: expect.stringMatching(/generations root/) });
    await expect(openRoot(dir, { durability: 'some' as never })).rejects.toThrow(/durability/);
    const root = await openRoot(dir);
    expect(() => root.begin({ dir } as never)).toThrow(/Unknown option "dir"/);
    await expect(root.transaction(undefined, 'no function' as never)).rejects.toThrow(/fn/);
    await root.close();
    // None of the failed opens kept the home: a plain commit removes it.
    const tx = begin({ dir });
    tx.write('a', 'A');
    await tx.commit();
    expect(hasHome(dir)).toBe(false);
  });

  it('two handles on one root: the home goes when the last one closes; plain writers there leave it', async () => {
    const dir = tmpdir();
    const one = await openRoot(dir);
    const two = await openRoot(dir);
    const tx = begin({ dir });
    tx.write('plain', 'p');
    await tx.commit();
    await writeFile(path.join(dir, 'single'), 's');
    expect(hasHome(dir)).toBe(true);
    await one.close();
    expect(hasHome(dir)).toBe(true);
    await two.close();
    expect(hasHome(dir)).toBe(false);
  });

  it('a home removed behind its back (another process) is made again by the next commit', async () => {
    const dir = tmpdir();
    const root = await openRoot(dir);
    const a = root.begin();
    a.write('a', '1');
    await a.commit();
    fs.rmdirSync(path.join(dir, '.txnfs'));
    const b = root.begin();
    b.write('a', '2');
    await b.commit();
    expect(snapshot(dir)).toEqual({ a: '2' });
    expect(hasHome(dir)).toBe(true);
    await root.close();
    expect(hasHome(dir)).toBe(false);
  });

  it('a process that exits without close() removes the home; one killed by a signal leaves it empty for recover()', async () => {
    const dir = tmpdir();
    const script = (ending: string): string =>
      `import { openRoot } from ${JSON.stringify(dist)};
       const root = await openRoot(${JSON.stringify(dir)});
       const tx = root.begin(); tx.write('a', 'A'); await tx.commit();
       if (!(await import('node:fs')).existsSync(${JSON.stringify(path.join(dir, '.txnfs'))})) throw new Error('home not kept');
       ${ending}`;
    const exited = spawnSync(process.execPath, ['--input-type=module', '-e', script('process.exitCode = 0;')], { encoding: 'utf8' });
    expect(exited.stderr).toBe('');
    expect(exited.status).toBe(0);
    expect(hasHome(dir)).toBe(false);
    const killed = spawnSync(process.execPath, ['--input-type=module', '-e', script("process.kill(process.pid, 'SIGKILL');")], { encoding: 'utf8' });
    expect(killed.signal).toBe('SIGKILL');
    expect(leftovers(dir)).toEqual([]);
    expect(hasHome(dir)).toBe(true);
    const again = await openRoot(dir); // its recover() removes the empty home, as after a crash
    expect(again.recovered.discarded).toEqual([]);
    await again.close();
    expect(hasHome(dir)).toBe(false);
    expect(snapshot(dir)).toEqual({ a: 'A' });
  });
});
