/**
 * src/io/faults.ts: the fault points are inert unless a test registers a hook, and then cost one
 * property read per filesystem call or step; injected errors look like Node's own.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { begin } from '../../src/index.js';
import * as seam from '../../src/io/fs.js';
import { faults, mutated, step, type FaultEvent } from '../../src/io/faults.js';
import { errnoError } from '../helpers/errno.mjs';
import { LIBRARY_MUTATIONS, MUTATIONS, mutationLayer, type Mutation } from '../helpers/mutations.mjs';
import { ERRNOS, Injector, withInjector } from '../crash/inject.js';
import { tmpdir } from '../helpers/tmp.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

afterEach(() => {
  faults.hook = undefined;
  faults.mutations.clear();
});

/** Replace `faults.hook` and `faults.mutations` with getters that count their reads. */
function countReads(): { hook: number; mutations: number; has: number; restore: () => void } {
  const counts = { hook: 0, mutations: 0, has: 0 };
  const set = faults.mutations;
  const probe = new (class extends Set<string> {
    override has(v: string): boolean {
      counts.has++;
      return super.has(v);
    }
  })();
  Object.defineProperty(faults, 'hook', { configurable: true, enumerable: true, get: () => (counts.hook++, undefined), set: () => undefined });
  Object.defineProperty(faults, 'mutations', { configurable: true, enumerable: true, get: () => (counts.mutations++, probe) });
  return Object.assign(counts, {
    restore: () => {
      Object.defineProperty(faults, 'hook', { configurable: true, enumerable: true, writable: true, value: undefined });
      Object.defineProperty(faults, 'mutations', { configurable: true, enumerable: true, writable: false, value: set });
    },
  }) as { hook: number; mutations: number; has: number; restore: () => void };
}

describe('with no hook registered', () => {
  it('nothing is registered and no mutation is on in a fresh process, whatever its environment', () => {
    const script = `
      const { faults } = await import(${JSON.stringify(path.join(repo, 'dist/io/faults.js'))});
      await import(${JSON.stringify(path.join(repo, 'dist/index.js'))});
      console.log(JSON.stringify({ hook: faults.hook === undefined, mutations: faults.mutations.size }));`;
    // The crash fixture reads TXNFS_TEST_MUTATIONS; the library itself must not.
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, TXNFS_TEST_MUTATIONS: 'gen-ignore-pins,gen-swap-before-build' }, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ hook: true, mutations: 0 });
  });

  it('a filesystem call, a step and a mutation check each cost one property read, nothing more', async () => {
    const dir = tmpdir();
    const reads = countReads();
    try {
      await seam.mkdir(path.join(dir, 'd'));
      await seam.rename(path.join(dir, 'd'), path.join(dir, 'e'));
      const h = await seam.create(path.join(dir, 'f'), 0o666);
      await h.write(Buffer.from('x'), 0, 1);
      await h.close();
      await seam.lstat(path.join(dir, 'f'));
      expect(reads.hook).toBe(6);
      step('committed');
      expect(reads.hook).toBe(7);
      expect(mutated('gen-swap-before-build')).toBe(false);
      expect([reads.mutations, reads.has]).toEqual([1, 0]); // .size of an empty set, never .has()
    } finally {
      reads.restore();
    }
    expect(fs.readFileSync(path.join(dir, 'f'), 'utf8')).toBe('x');
  });

  it('a whole commit reads the hook once per filesystem call and step, and calls nothing', async () => {
    const dir = tmpdir();
    let implCalls = 0;
    const counting = Object.fromEntries(
      Object.entries(seam.nodeImpl).map(([k, fn]) => [k, (...args: unknown[]) => (implCalls++, (fn as (...a: unknown[]) => unknown)(...args))]),
    ) as unknown as seam.FsImpl;
    seam.useFsImpl(counting);
    const reads = countReads();
    try {
      const tx = begin({ dir });
      tx.write('a.txt', 'a');
      tx.write('b/c.txt', 'c');
      await tx.commit();
    } finally {
      reads.restore();
      seam.useFsImpl();
    }
    // Handle calls (write, fsync, close) also read the hook but are not FsImpl calls; steps too.
    expect(implCalls).toBeGreaterThan(20);
    expect(reads.hook).toBeGreaterThanOrEqual(implCalls);
    expect(reads.hook).toBeLessThan(implCalls * 2);
    expect(reads.has).toBe(0);
  });

  it("a hook's 'skip' verdict: the call is not made and resolves; steps and other calls run", async () => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, 'a'), 'a');
    faults.hook = (e) => (e.kind === 'op' && e.op === 'rename' ? 'skip' : undefined);
    await expect(seam.rename(path.join(dir, 'a'), path.join(dir, 'b'))).resolves.toBeUndefined();
    await seam.mkdir(path.join(dir, 'd'));
    step('committed');
    faults.hook = undefined;
    expect(fs.readdirSync(dir).sort()).toEqual(['a', 'd']); // the rename was never issued
  });

  it('the harness mutations: each name is a filter of test/helpers/mutations.mjs, and a typo throws', () => {
    for (const name of Object.keys(MUTATIONS)) expect(mutationLayer([name as Mutation]).names).toEqual([name]);
    expect(mutationLayer(['gen-swap-before-build', 'gen-ignore-pins']).library).toEqual(['gen-swap-before-build']);
    expect(() => mutationLayer(['skip-fsync-stagd' as Mutation])).toThrow(/unknown mutation/);
    // No harness mutation is checked inside the library any more.
    const src = fs.readdirSync(path.join(repo, 'src'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    const uses = src.flatMap((f) => [...fs.readFileSync(path.join(repo, 'src', f), 'utf8').matchAll(/mutated\('([a-z-]+)'\)/g)].map((m) => m[1]));
    expect(uses.filter((n) => !LIBRARY_MUTATIONS.has(n as never))).toEqual([]);
  });

  it('the package does not export the fault module', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
    expect(Object.keys(pkg.exports).some((k) => k.includes('fault'))).toBe(false);
    expect(fs.readFileSync(path.join(repo, 'src/index.ts'), 'utf8')).not.toMatch(/from '\.\/faults\.js'/);
  });
});

describe('injected errors', () => {
  it.each(ERRNOS)('%s looks like the error Node raises (code, errno, syscall, path)', (code) => {
    const err = errnoError(code, 'rename', '/x/y');
    expect(err).toBeInstanceOf(Error);
    expect({ code: err.code, errno: err.errno, syscall: err.syscall, path: err.path }).toEqual({
      code,
      errno: -((os.constants.errno as Record<string, number>)[code] ?? Number.NaN),
      syscall: 'rename',
      path: '/x/y',
    });
  });

  it("has the same own keys as a real fs error", async () => {
    const real = await fs.promises.open(path.join(tmpdir(), 'missing'), 'r').catch((e: unknown) => e as NodeJS.ErrnoException);
    expect(Object.keys(errnoError('ENOENT', 'open', '/p')).sort()).toEqual(Object.keys(real).sort());
  });
});

describe('the test-side injector (test/crash/inject.ts)', () => {
  it('counts only mutating operations, records steps, and fails exactly the k-th once', async () => {
    const dir = tmpdir();
    const inj = new Injector({ at: 2, code: 'EIO', persistent: false });
    const seen: FaultEvent[] = [];
    await withInjector(inj, async () => {
      const inner = faults.hook;
      faults.hook = (e) => {
        seen.push(e);
        inner?.(e);
      };
      await seam.lstat(dir); // a read: not counted
      await seam.mkdir(path.join(dir, 'a')); // 1
      step('between');
      await expect(seam.mkdir(path.join(dir, 'b'))).rejects.toBe(inj.injected); // 2: failed
      await seam.mkdir(path.join(dir, 'c')); // 3: fine again
    });
    expect(inj.count).toBe(3);
    expect(inj.injectedAt).toMatchObject({ index: 2, op: 'mkdir', stepsBefore: 1 });
    expect(inj.steps).toEqual(['between']);
    expect(fs.readdirSync(dir).sort()).toEqual(['a', 'c']);
    expect(seen.filter((e) => e.kind === 'op' && !e.mutating)).toHaveLength(1);
  });

  it('in persistent mode fails every mutating operation from k on, until cleared', async () => {
    const dir = tmpdir();
    const inj = new Injector({ at: 2, code: 'ENOSPC', persistent: true });
    await withInjector(inj, async () => {
      await seam.mkdir(path.join(dir, 'a'));
      await expect(seam.mkdir(path.join(dir, 'b'))).rejects.toMatchObject({ code: 'ENOSPC' });
      await expect(seam.mkdir(path.join(dir, 'c'))).rejects.toMatchObject({ code: 'ENOSPC' });
      await seam.lstat(dir); // reads still work
      inj.clear();
      await seam.mkdir(path.join(dir, 'd'));
    });
    expect(inj.thrown.map((t) => t.op.index)).toEqual([2, 3]);
    expect(fs.readdirSync(dir).sort()).toEqual(['a', 'd']);
  });
});
