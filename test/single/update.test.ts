import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { codes, update } from '../../src/index.js';
import { faults } from '../../src/io/faults.js';
import { acquire } from '../../src/protocol/lock.js';
import { updateLockName } from '../../src/single/orphans.js';
import { ops, record } from '../helpers/hook.js';
import { leftovers, snapshot, tmpdir } from '../helpers/tmp.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const run = promisify(execFile);

const increment = (old: Buffer | undefined): string => {
  const state = old === undefined ? { n: 0 } : (JSON.parse(old.toString('utf8')) as { n: number });
  return JSON.stringify({ n: state.n + 1 });
};

describe('update', () => {
  it('calls fn with the current content (undefined when missing) and writes what it returns', async () => {
    const dir = tmpdir();
    const file = path.join(dir, 'state.json');
    const seen: (string | undefined)[] = [];
    const fn = (old: Buffer | undefined): string => {
      seen.push(old?.toString('utf8'));
      return increment(old);
    };
    expect(await update(file, fn)).toMatchObject({ path: file, created: true, changed: true });
    expect(await update(file, fn)).toMatchObject({ created: false, changed: true });
    expect(seen).toEqual([undefined, '{"n":1}']);
    expect(snapshot(dir)).toEqual({ 'state.json': '{"n":2}' });
    expect(leftovers(dir)).toEqual([]); // the lock is gone too
  });

  it('fn returning undefined leaves the file as it is, without writing', async () => {
    const dir = tmpdir();
    const file = path.join(dir, 'f');
    fs.writeFileSync(file, 'same');
    const events = record();
    expect(await update(file, () => undefined)).toMatchObject({ changed: false, bytes: 4 });
    // The lock's own files come and go; no temp file is made and nothing is renamed onto the file.
    expect(ops(events).filter((o) => o.includes('.tmp-') || o.endsWith(`→ ${file}`))).toEqual([]);
    expect(snapshot(dir)).toEqual({ f: 'same' });
  });

  it("fn's own error rejects as it is; the file is untouched and the lock released", async () => {
    const dir = tmpdir();
    const file = path.join(dir, 'f');
    fs.writeFileSync(file, '{"n":5}');
    const boom = new Error('cannot decide');
    await expect(update(file, () => {
      throw boom;
    })).rejects.toBe(boom);
    await expect(update(file, () => 42 as never)).rejects.toThrow(TypeError);
    expect(snapshot(dir)).toEqual({ f: '{"n":5}' });
    expect(leftovers(dir)).toEqual([]);
    await update(file, increment, { lockTimeout: 0 }); // not blocked by a leftover lock
    expect(fs.readFileSync(file, 'utf8')).toBe('{"n":6}');
  });

  it('concurrent updates in one process never lose a change', async () => {
    const dir = tmpdir();
    const file = path.join(dir, 'counter.json');
    await Promise.all(Array.from({ length: 30 }, () => update(file, async (old) => {
      await new Promise((r) => setTimeout(r, 1));
      return increment(old);
    })));
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ n: 30 });
  });

  it('concurrent updates in three processes never lose a change', async () => {
    const dir = tmpdir();
    const file = path.join(dir, 'counter.json');
    const fixture = path.join(here, '../fixtures/update-counter.mjs');
    await Promise.all([1, 2, 3].map(() => run(process.execPath, [fixture, file, '15'])));
    const state = JSON.parse(fs.readFileSync(file, 'utf8')) as { n: number; by: number[] };
    expect(state.n).toBe(45);
    expect(new Set(state.by).size).toBe(3);
    expect(leftovers(dir)).toEqual([]);
  });

  it('fails with ELOCKED when the lock stays held past lockTimeout, changing nothing', async () => {
    const dir = tmpdir();
    const file = path.join(dir, 'f');
    fs.writeFileSync(file, '{"n":1}');
    fs.mkdirSync(path.join(dir, '.txnfs'));
    const held = await acquire(path.join(dir, '.txnfs', updateLockName('f')), { stale: 10_000, update: 5_000, timeout: 0 }, { wait: false, what: 'update lock' });
    try {
      await expect(update(file, increment, { lockTimeout: 50 })).rejects.toMatchObject({ code: codes.ELOCKED });
    } finally {
      await held.release();
    }
    expect(snapshot(dir)).toEqual({ f: '{"n":1}' });
  });

  it('fails with ECOMPROMISED when the lock was taken over before the rename', async () => {
    const dir = tmpdir();
    const file = path.join(dir, 'f');
    fs.writeFileSync(file, '{"n":1}');
    const lockDir = path.join(dir, '.txnfs', updateLockName('f'));
    faults.hook = (e) => {
      if (e.kind === 'step' && e.name === 'file:synced') {
        // Another process judged us dead and took over: our entry gone, its own in place.
        for (const name of fs.readdirSync(lockDir)) fs.unlinkSync(path.join(lockDir, name));
        fs.writeFileSync(path.join(lockDir, 'o.ElsewhereElsewhe.1.1.0.10000.someoneelse1'), '');
      }
    };
    await expect(update(file, increment)).rejects.toMatchObject({ code: codes.ECOMPROMISED });
    faults.hook = undefined;
    expect(snapshot(dir)).toEqual({ f: '{"n":1}' });
  });

  it('mkdirs creates missing directories, and removes them again when fn fails', async () => {
    const dir = tmpdir();
    await expect(update(path.join(dir, 'a/b/f'), increment)).rejects.toMatchObject({ code: codes.EFS, cause: { code: 'ENOENT' } });
    await expect(update(path.join(dir, 'a/b/f'), () => {
      throw new Error('no');
    }, { mkdirs: true })).rejects.toThrow('no');
    expect(fs.readdirSync(dir)).toEqual([]);
    await update(path.join(dir, 'a/b/f'), increment, { mkdirs: true });
    expect(snapshot(dir)).toEqual({ 'a/b/f': '{"n":1}' });
  });

  it('dryRun calls fn but leaves the file untouched', async () => {
    const dir = tmpdir();
    const file = path.join(dir, 'f');
    fs.writeFileSync(file, '{"n":1}');
    expect(await update(file, increment, { dryRun: true })).toMatchObject({ dryRun: true, changed: true });
    expect(snapshot(dir)).toEqual({ f: '{"n":1}' });
    expect(leftovers(dir)).toEqual([]);
  });

  it('rejects a non-function and unknown options with a TypeError', async () => {
    await expect(update('/tmp/x', 'nope' as never)).rejects.toThrow(TypeError);
    await expect(update('/tmp/x', increment, { exclusive: true } as never)).rejects.toThrow(/Unknown option "exclusive"/);
  });
});
