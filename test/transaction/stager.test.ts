/**
 * src/transaction/stager.ts: a job is known once it recorded its facts, and ended once it settled.
 * `ready()` waits for the first, `idle()` for the second; a write's promise reports the second
 * only, and a job that fails after it was known is a failed write.
 */
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { codes, isTxnError } from '../../src/index.js';
import { Stager } from '../../src/transaction/stager.js';
import { StagedFacts } from '../../src/transaction/staged.js';

/** A stager whose job `n` records its facts, calls `known`, then waits for `finish(n, err?)`. */
function gated(concurrency = 4): { stager: Stager<string>; staged: StagedFacts; finish: (n: number, err?: Error) => void; started: number[] } {
  const staged = new StagedFacts();
  const gates = new Map<number, (err?: Error) => void>();
  const waiting = new Map<number, Error | undefined | null>();
  const started: number[] = [];
  const stager = new Stager<string>({
    txnId: 't',
    concurrency,
    staged,
    stage: async (n, _source, _rel, known) => {
      started.push(n);
      staged.set(n, { ino: BigInt(100 + n), mode: 0o644, uid: 0, gid: 0, bytes: 1 });
      known();
      const early = waiting.get(n);
      const err = early === undefined ? await new Promise<Error | undefined>((resolve) => gates.set(n, resolve)) : early ?? undefined;
      if (err !== undefined) throw err;
    },
  });
  const finish = (n: number, err?: Error): void => {
    const gate = gates.get(n);
    if (gate !== undefined) gate(err);
    else waiting.set(n, err ?? null);
  };
  return { stager, staged, finish, started };
}

const turns = async (n = 10): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

describe('Stager: known, then ended', () => {
  it('ready() resolves once every job is known, while idle() and the writes wait for them to end', async () => {
    const { stager, finish } = gated();
    const writes = [0, 1, 2].map((n) => stager.enqueue(n, 'x', `f${n}`));
    let ready = false;
    let idle = false;
    void stager.ready().then(() => (ready = true));
    void stager.idle().then(() => (idle = true));
    await turns();
    expect(ready).toBe(true);
    expect(idle).toBe(false);
    for (const w of writes) expect(inspect(w)).toContain('pending');
    for (const n of [0, 1, 2]) finish(n);
    await Promise.all(writes);
    await stager.idle();
    for (const w of writes) expect(inspect(w)).toContain('staged');
    expect(stager.failure).toBeUndefined();
  });

  it('a job queued beyond the concurrency is not known until a worker takes it: ready() waits for it', async () => {
    const { stager, finish, started } = gated(1);
    stager.enqueue(0, 'x', 'f0');
    stager.enqueue(1, 'x', 'f1');
    let ready = false;
    void stager.ready().then(() => (ready = true));
    await turns();
    expect(started).toEqual([0]);
    expect(ready).toBe(false);
    finish(0);
    await turns();
    expect(started).toEqual([0, 1]);
    expect(ready).toBe(true);
    finish(1);
    await stager.idle();
  });

  it('a job that fails after it was known is a failed write (ESTAGE), not a staged one', async () => {
    const { stager, finish } = gated();
    const ok = stager.enqueue(0, 'x', 'f0');
    const bad = stager.enqueue(1, 'x', 'f1');
    await stager.ready();
    const eio = Object.assign(new Error('EIO: injected'), { code: 'EIO' });
    finish(0);
    finish(1, eio);
    await stager.idle();
    await expect(ok).resolves.toBeUndefined();
    const err = await bad.then(() => undefined, (e: unknown) => e);
    expect(isTxnError(err) && err.code).toBe(codes.ESTAGE);
    expect((err as Error).cause).toBe(eio);
    expect(inspect(bad)).toContain('failed');
    expect(stager.failure).toBe(err);
  });

  it('with nothing queued, ready() resolves at once', async () => {
    const { stager } = gated();
    await expect(stager.ready()).resolves.toBeUndefined();
  });
});
