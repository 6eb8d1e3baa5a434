import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { begin, codes, isTxnError, openSnapshot, recover, transaction } from '../../src/index.js';
import { useFsImpl } from '../../src/io/fs.js';
import { mutate } from '../helpers/hook.js';
import { snapshot, tmpdir } from '../helpers/tmp.js';

/** Files of what the pointer names now, read through one realpath. */
function current(out: string): Record<string, string> {
  return snapshot(fs.realpathSync(out));
}
function home(out: string): string {
  return path.join(path.dirname(out), `.${path.basename(out)}.txnfs`);
}
function gens(out: string): string[] {
  return fs.readdirSync(home(out)).filter((n) => n.startsWith('gen-')).sort();
}

describe('generations layout: commit', () => {
  it('creates the pointer at the first commit, then one generation per commit', async () => {
    const out = path.join(tmpdir(), 'out');
    const tx = begin({ dir: out, layout: 'generations' });
    tx.write('a.json', 'a1');
    tx.write('sub/b.txt', 'b1');
    const r1 = await tx.commit();
    expect(r1.generation).toBe(1);
    expect(fs.lstatSync(out).isSymbolicLink()).toBe(true);
    expect(fs.readlinkSync(out)).toBe('.out.txnfs/gen-1');
    expect(current(out)).toEqual({ 'a.json': 'a1', 'sub/b.txt': 'b1' });
    const r2 = await transaction({ dir: out, layout: 'generations' }, async (t) => {
      t.write('a.json', 'a2');
      t.remove('sub/b.txt');
      t.writeJson('c.json', { c: 1 });
    });
    expect(r2).toBeUndefined();
    expect(current(out)).toEqual({ 'a.json': 'a2', 'c.json': '{"c":1}\n' });
    expect(fs.readlinkSync(out)).toBe('.out.txnfs/gen-2');
    // The previous generation is untouched: immutable once published.
    expect(snapshot(path.join(home(out), 'gen-1'))).toEqual({ 'a.json': 'a1', 'sub/b.txt': 'b1' });
    // Nothing but the pointer and its hidden home beside it; no staging left.
    expect(fs.readdirSync(path.dirname(out)).sort()).toEqual(['.out.txnfs', 'out']);
    expect(fs.readdirSync(path.join(home(out), '.txnfs'))).toEqual([]);
  });

  it('shares unchanged files with the previous generation (hard links), keeps current + previous', async () => {
    const out = path.join(tmpdir(), 'out');
    for (let i = 1; i <= 5; i++) {
      const tx = begin({ dir: out, layout: 'generations' });
      tx.write(`f${i}`, `v${i}`);
      tx.write('keep/same.txt', 'same', i === 1 ? {} : undefined);
      if (i > 1) tx.remove('nothing'); // rm -f of a missing file
      const r = await tx.commit();
      expect(r.generation).toBe(i);
    }
    expect(gens(out)).toEqual(['gen-4', 'gen-5']);
    expect(current(out)).toEqual({ f1: 'v1', f2: 'v2', f3: 'v3', f4: 'v4', f5: 'v5', 'keep/same.txt': 'same' });
    const a = fs.statSync(path.join(home(out), 'gen-4', 'f1'));
    const b = fs.statSync(path.join(home(out), 'gen-5', 'f1'));
    expect(a.ino).toBe(b.ino);
  });

  it('keepGenerations keeps more', async () => {
    const out = path.join(tmpdir(), 'out');
    for (let i = 1; i <= 5; i++) {
      const tx = begin({ dir: out, layout: 'generations', keepGenerations: 3 });
      tx.write('x', String(i));
      await tx.commit();
    }
    expect(gens(out)).toEqual(['gen-3', 'gen-4', 'gen-5']);
  });

  it('preconditions, modes, read() and version() look at the current generation', async () => {
    const out = path.join(tmpdir(), 'out');
    await transaction({ dir: out, layout: 'generations' }, (tx) => {
      tx.write('counter', '1');
      tx.write('secret', 's', { mode: 0o600 });
    });
    const tx = begin({ dir: out, layout: 'generations' });
    const { data, version } = await tx.read('counter');
    expect(data?.toString()).toBe('1');
    tx.write('counter', '2', { ifUnchanged: version });
    tx.write('secret', 's2');
    // Another writer commits first: the precondition must fail and nothing change.
    await transaction({ dir: out, layout: 'generations' }, (t) => void t.write('counter', '9'));
    const err = await tx.commit().catch((e: unknown) => e);
    expect(isTxnError(err) && err.code).toBe(codes.EPRECONDITION);
    expect(current(out).counter).toBe('9');
    const tx2 = begin({ dir: out, layout: 'generations' });
    tx2.write('secret', 's3');
    tx2.write('new', 'n', { exclusive: true });
    const r = await tx2.commit();
    expect(r.generation).toBe(3);
    expect(fs.statSync(path.join(out, 'secret')).mode & 0o777).toBe(0o600);
    const tx3 = begin({ dir: out, layout: 'generations' });
    tx3.write('new', 'again', { exclusive: true });
    expect(((await tx3.commit().catch((e: unknown) => e)) as { code?: string }).code).toBe(codes.EPRECONDITION);
  });

  it('an aborted or failed transaction publishes nothing and leaves nothing', async () => {
    const out = path.join(tmpdir(), 'out');
    await transaction({ dir: out, layout: 'generations' }, (tx) => void tx.write('a', '1'));
    const ac = new AbortController();
    const tx = begin({ dir: out, layout: 'generations', signal: ac.signal });
    tx.write('a', '2');
    ac.abort();
    await expect(tx.commit()).rejects.toMatchObject({ code: codes.EABORTED });
    {
      await using t = begin({ dir: out, layout: 'generations' });
      t.write('a', '3');
    }
    const t2 = begin({ dir: out, layout: 'generations' });
    t2.write('a/b', 'x'); // a is a file: cannot be a parent
    await expect(t2.commit()).rejects.toBeInstanceOf(Error);
    expect(current(out)).toEqual({ a: '1' });
    expect(gens(out)).toEqual(['gen-1']);
    expect(fs.readdirSync(path.join(home(out), '.txnfs'))).toEqual([]);
  });

  it('converts an existing plain directory at the first commit, keeping its files', async () => {
    const out = path.join(tmpdir(), 'out');
    fs.mkdirSync(path.join(out, 'd'), { recursive: true });
    fs.writeFileSync(path.join(out, 'old.txt'), 'old');
    fs.writeFileSync(path.join(out, 'd', 'x'), 'x');
    fs.chmodSync(path.join(out, 'd'), 0o750);
    const tx = begin({ dir: out, layout: 'generations' });
    tx.write('new.txt', 'new');
    tx.remove('d/x');
    const r = await tx.commit();
    expect(r.generation).toBe(1);
    expect(fs.lstatSync(out).isSymbolicLink()).toBe(true);
    expect(current(out)).toEqual({ 'old.txt': 'old', 'new.txt': 'new' });
    expect(fs.statSync(path.join(out, 'd')).mode & 0o777).toBe(0o750);
    // The directory as it was is generation 0, kept as the previous one.
    expect(snapshot(path.join(home(out), 'gen-0'))).toEqual({ 'old.txt': 'old', 'd/x': 'x' });
  });

  it('an in-place transaction on a pointer is refused', async () => {
    const out = path.join(tmpdir(), 'out');
    await transaction({ dir: out, layout: 'generations' }, (tx) => void tx.write('a', '1'));
    const tx = begin({ dir: out });
    tx.write('a', '2');
    await expect(tx.commit()).rejects.toMatchObject({ code: codes.ETARGET });
    expect(current(out)).toEqual({ a: '1' });
  });

  it('checks its options', () => {
    expect(() => begin({ layout: 'nope' as never })).toThrow(TypeError);
    expect(() => begin({ layout: 'generations', keepGenerations: 1 })).toThrow(TypeError);
    expect(() => begin({ keepGenerations: 3 })).toThrow(TypeError);
  });
});

describe('generations layout: snapshots', () => {
  it('a pinned generation survives many later commits, then goes once released', async () => {
    const out = path.join(tmpdir(), 'out');
    await transaction({ dir: out, layout: 'generations' }, (tx) => void tx.write('a', 'first'));
    const snap = await openSnapshot(out);
    expect(snap.generation).toBe(1);
    expect(snap.dir).toBe(path.join(home(out), 'gen-1'));
    for (let i = 0; i < 6; i++) await transaction({ dir: out, layout: 'generations' }, (tx) => void tx.write('a', `v${i}`));
    expect(await snap.list()).toEqual(['a']);
    expect((await snap.readFile('a')).toString()).toBe('first');
    const chunks: Buffer[] = [];
    for await (const c of snap.createReadStream('a')) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('first');
    expect(gens(out)).toEqual(['gen-1', 'gen-6', 'gen-7']);
    await snap.release();
    await snap.release();
    await expect(snap.readFile('a')).rejects.toMatchObject({ code: codes.ESTATE });
    const rep = await recover(out);
    expect(rep.generations).toMatchObject({ current: 7, collected: [1], kept: [6, 7] });
    expect(gens(out)).toEqual(['gen-6', 'gen-7']);
  });

  it('await using releases the pin; openSnapshot of a plain or missing dir is ETARGET', async () => {
    const parent = tmpdir();
    const out = path.join(parent, 'out');
    await expect(openSnapshot(out)).rejects.toMatchObject({ code: codes.ETARGET });
    fs.mkdirSync(out);
    await expect(openSnapshot(out)).rejects.toMatchObject({ code: codes.ETARGET });
    fs.rmdirSync(out);
    await transaction({ dir: out, layout: 'generations' }, (tx) => void tx.write('a', '1'));
    {
      await using snap = await openSnapshot(out);
      expect(fs.readdirSync(path.join(home(out), 'pins'))).toHaveLength(1);
      expect(snap.generation).toBe(1);
    }
    expect(fs.readdirSync(path.join(home(out), 'pins'))).toEqual([]);
  });
});

describe('generations layout: recover', () => {
  it('a missing pointer is pointed at the newest generation; unpinned old ones are collected', async () => {
    const out = path.join(tmpdir(), 'out');
    for (let i = 1; i <= 3; i++) await transaction({ dir: out, layout: 'generations', keepGenerations: 3 }, (tx) => void tx.write('a', String(i)));
    fs.unlinkSync(out); // as a conversion cut between its two renames leaves it
    const rep = await recover(out);
    expect(rep.generations).toMatchObject({ current: 3, repaired: true, collected: [1], kept: [2, 3] });
    expect(current(out)).toEqual({ a: '3' });
    const again = await recover(out);
    expect(again.generations).toMatchObject({ current: 3, repaired: false, collected: [] });
  });

  it('a generation above the pointer (a writer died before its swap) is removed', async () => {
    const out = path.join(tmpdir(), 'out');
    await transaction({ dir: out, layout: 'generations' }, (tx) => void tx.write('a', '1'));
    fs.cpSync(path.join(home(out), 'gen-1'), path.join(home(out), 'gen-2'), { recursive: true });
    const rep = await recover(out, { dryRun: true });
    expect(rep.generations?.collected).toEqual([2]);
    expect(gens(out)).toEqual(['gen-1', 'gen-2']);
    await recover(out);
    expect(gens(out)).toEqual(['gen-1']);
    const r = await begin({ dir: out, layout: 'generations' }).commit();
    expect(r.entries).toBe(0);
  });
});

describe('generations layout: pins are what keeps a generation', () => {
  it('with the collector ignoring pins (mutation gen-ignore-pins), the pinned generation would go', async () => {
    const { faults } = await import('../../src/io/faults.js');
    const out = path.join(tmpdir(), 'out');
    await transaction({ dir: out, layout: 'generations' }, (tx) => void tx.write('a', 'first'));
    const snap = await openSnapshot(out);
    mutate('gen-ignore-pins');
    try {
      for (let i = 0; i < 3; i++) await transaction({ dir: out, layout: 'generations' }, (tx) => void tx.write('a', `v${i}`));
    } finally {
      faults.hook = undefined;
      useFsImpl();
    }
    // The check the pin test relies on sees the difference.
    await expect(snap.readFile('a')).rejects.toMatchObject({ code: 'ENOENT' });
    await snap.release();
  });
});

describe('generations layout: pinning races a collector', () => {
  /**
   * Between openSnapshot's first read of the pointer and its pin, two commits land and the pinned
   * generation is collected (simulated synchronously in the fault hook, right before the pin is
   * renamed into place). The second read of the pointer must catch it and move the pin.
   */
  const race = async (mutation: boolean): Promise<string> => {
    const { faults } = await import('../../src/io/faults.js');
    const out = path.join(tmpdir(), 'out');
    await transaction({ dir: out, layout: 'generations' }, (tx) => void tx.write('a', 'one'));
    let fired = false;
    faults.hook = (e) => {
      if (fired || e.kind !== 'op' || e.op !== 'rename' || e.dest === undefined || !e.dest.includes(`${path.sep}pins${path.sep}`)) return;
      fired = true;
      const h = home(out);
      fs.cpSync(path.join(h, 'gen-1'), path.join(h, 'gen-3'), { recursive: true });
      fs.writeFileSync(path.join(h, 'gen-3', 'a'), 'three');
      fs.symlinkSync('.out.txnfs/gen-3', `${out}.tmp`);
      fs.renameSync(`${out}.tmp`, out);
      fs.rmSync(path.join(h, 'gen-1'), { recursive: true });
    };
    if (mutation) mutate('gen-pin-no-recheck');
    try {
      const snap = await openSnapshot(out).catch((err: unknown) => err as Error);
      if (snap instanceof Error) return `openSnapshot failed: ${(snap as { code?: string }).code}`;
      const data = await snap.readFile('a').then((b) => b.toString(), (err: { code?: string }) => err.code);
      await snap.release();
      return `generation ${snap.generation}: ${data}`;
    } finally {
      faults.hook = undefined;
      useFsImpl();
    }
  };

  it('the pin is moved to the generation the pointer names after the pin was written', async () => {
    expect(await race(false)).toBe('generation 3: three');
  });

  it('without the second read (mutation gen-pin-no-recheck), the snapshot names a collected generation', async () => {
    expect(await race(true)).toBe('openSnapshot failed: EFS');
  });
});
