/**
 * src/transaction/seal.ts with the commit driver (committer.ts, `settleStaging` and `sealed`): a
 * journaled commit takes the root lock and plans while its staged files' fsyncs still run, and
 * passes its commit point only once every one of them is done; a staged file whose fsync fails
 * then fails the commit with ESTAGE, and nothing changes. A lone file (a one-file commit) does the
 * same where the root lock is free, and waits for its fsync before it takes the lock where an
 * acquisition of it waited lately (lock/queue.ts, `rootLockContended`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { begin, codes, isTxnError } from '../../src/index.js';
import * as seam from '../../src/io/fs.js';
import type { OpEvent } from '../../src/io/faults.js';
import { errnoError } from '../helpers/errno.mjs';
import { record } from '../helpers/hook.js';
import { tmpdir } from '../helpers/tmp.js';

afterEach(() => {
  seam.useFsImpl();
});

/**
 * Hold the fsync of every file created whose path matches `staged` until `release()`; with an
 * error, the held fsyncs fail with it. `held()`: how many are waiting.
 */
function holdStagedSyncs(staged: RegExp): { release: (err?: Error) => void; held: () => number } {
  const base = seam.useFsImpl();
  let go!: (err: Error | undefined) => void;
  const released = new Promise<Error | undefined>((resolve) => {
    go = resolve;
  });
  let held = 0;
  seam.useFsImpl({
    ...base,
    create: async (p: string, mode: number) => {
      const h = await base.create(p, mode);
      if (!staged.test(p)) return h;
      return {
        write: (b, o, l) => h.write(b, o, l),
        sync: async () => {
          held += 1;
          const err = await released;
          held -= 1;
          if (err !== undefined) throw err;
          return h.sync();
        },
        stat: () => h.stat(),
        chmod: (m) => h.chmod(m),
        chown: (u, g) => h.chown(u, g),
        close: () => h.close(),
      };
    },
  });
  return { release: (err) => go(err), held: () => held };
}

const STAGED = /\/\.txnfs\/\.txn-[^/]+\/files\/\d+$/;
const LOCK_ENTRY = /\/\.txnfs\/lock\.o\.[^/]+$/;
const LONE = /\/\.txnfs\/\.tmp-[^/]+$/;

const opsOf = (events: ReturnType<typeof record>): OpEvent[] => events.filter((e): e is OpEvent => e.kind === 'op');
const read = (root: string, name: string): string | undefined => (fs.existsSync(path.join(root, name)) ? fs.readFileSync(path.join(root, name), 'utf8') : undefined);

describe("a journaled commit's staged files: fsynced beside the root lock and the plan, durable before the commit point", () => {
  it('takes the root lock and writes journal.tmp while the fsyncs run; links the journal only once they are done', async () => {
    const root = tmpdir();
    fs.writeFileSync(path.join(root, 'a'), 'old');
    const hold = holdStagedSyncs(STAGED);
    const events = record();
    const tx = begin({ dir: root });
    const wrote = tx.write('a', 'A');
    tx.write('b', 'B');
    const committed = tx.commit();
    // The commit got as far as its journal.tmp (root lock taken, targets planned, backup linked)
    // with both staged files' fsyncs still held.
    await vi.waitFor(() => expect(opsOf(events).some((e) => e.op === 'create' && e.path.endsWith('/journal.tmp'))).toBe(true), { timeout: 5_000 });
    expect(hold.held()).toBe(2);
    expect(opsOf(events).some((e) => e.op === 'create' && /\/\.txnfs\/lock\.o\.[^/]+$/.test(e.path))).toBe(true);
    // Known is not staged: the write's promise waits for its fsync too.
    expect(inspect(wrote)).toContain('pending');
    // Given time, it still does not pass its commit point (the link of journal.tmp to journal).
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(opsOf(events).some((e) => e.op === 'link' && e.path.endsWith('/journal.tmp'))).toBe(false);
    expect(read(root, 'a')).toBe('old');
    expect(read(root, 'b')).toBeUndefined();
    hold.release();
    const result = await committed;
    expect(result.written).toBe(2);
    await expect(wrote).resolves.toBeUndefined();
    expect(read(root, 'a')).toBe('A');
    expect(read(root, 'b')).toBe('B');
    // Every staged fsync was done before the commit point.
    const linkAt = opsOf(events).findIndex((e) => e.op === 'link' && e.path.endsWith('/journal.tmp'));
    expect(linkAt).toBeGreaterThan(-1);
    expect(hold.held()).toBe(0);
  });

  it('a staged fsync that fails after the plan fails the commit with ESTAGE and its cause; nothing changed, nothing left', async () => {
    const root = tmpdir();
    fs.writeFileSync(path.join(root, 'a'), 'old');
    const hold = holdStagedSyncs(STAGED);
    const events = record();
    const tx = begin({ dir: root });
    tx.write('a', 'A');
    tx.write('b', 'B');
    const committed = tx.commit().then(() => undefined, (err: unknown) => err);
    await vi.waitFor(() => expect(opsOf(events).some((e) => e.op === 'create' && e.path.endsWith('/journal.tmp'))).toBe(true), { timeout: 5_000 });
    const eio = errnoError('EIO', 'fsync', 'files/0');
    hold.release(eio);
    const err = await committed;
    expect(isTxnError(err) && err.code).toBe(codes.ESTAGE);
    expect((err as Error).cause).toBe(eio);
    expect(opsOf(events).some((e) => e.op === 'link' && e.path.endsWith('/journal.tmp'))).toBe(false);
    expect(read(root, 'a')).toBe('old');
    expect(fs.readdirSync(root).sort()).toEqual(['a']);
  });
});


describe('a commit to a root whose lock was contended lately', () => {
  it('waits for its staged files before it takes the root lock (two files, journaled)', async () => {
    const root = tmpdir();
    await Promise.all(['b', 'c'].map(async (name) => {
      const t = begin({ dir: root });
      t.write(name, name);
      await t.commit();
    }));
    const hold = holdStagedSyncs(STAGED);
    const events = record();
    const tx = begin({ dir: root });
    tx.write('a', 'A');
    tx.write('d', 'D');
    const committed = tx.commit();
    await vi.waitFor(() => expect(hold.held()).toBe(2), { timeout: 5_000 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(opsOf(events).some((e) => LOCK_ENTRY.test(e.path))).toBe(false);
    hold.release();
    await committed;
    expect([read(root, 'a'), read(root, 'd')]).toEqual(['A', 'D']);
  });
});

describe('a lone file (a one-file commit)', () => {
  it('where the root lock is free: takes it and plans while the fsync runs, renames only once it is done', async () => {
    const root = tmpdir();
    fs.writeFileSync(path.join(root, 'a'), 'old');
    const hold = holdStagedSyncs(LONE);
    const events = record();
    const tx = begin({ dir: root });
    tx.write('a', 'A');
    const committed = tx.commit();
    await vi.waitFor(() => expect(opsOf(events).some((e) => e.op === 'create' && LOCK_ENTRY.test(e.path))).toBe(true), { timeout: 5_000 });
    expect(hold.held()).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(opsOf(events).some((e) => e.op === 'rename' && LONE.test(e.path))).toBe(false);
    expect(read(root, 'a')).toBe('old');
    hold.release();
    await committed;
    expect(read(root, 'a')).toBe('A');
  });

  it('where an acquisition of the root lock waited lately: durable before it takes the lock, held for a few calls, never for an fsync', async () => {
    const root = tmpdir();
    fs.writeFileSync(path.join(root, 'a'), 'old');
    // Two commits at once on the root: the second waits for the first.
    await Promise.all(['b', 'c'].map(async (name) => {
      const t = begin({ dir: root });
      t.write(name, name);
      await t.commit();
    }));
    const hold = holdStagedSyncs(LONE);
    const events = record();
    const tx = begin({ dir: root });
    tx.write('a', 'A');
    const committed = tx.commit();
    await vi.waitFor(() => expect(hold.held()).toBe(1), { timeout: 5_000 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(opsOf(events).some((e) => LOCK_ENTRY.test(e.path))).toBe(false);
    hold.release();
    await committed;
    expect(read(root, 'a')).toBe('A');
    expect(opsOf(events).some((e) => e.op === 'create' && LOCK_ENTRY.test(e.path))).toBe(true);
  });

  it('a lone file whose fsync fails under the root lock: ESTAGE, nothing changed, nothing left', async () => {
    const root = tmpdir();
    fs.writeFileSync(path.join(root, 'a'), 'old');
    const hold = holdStagedSyncs(LONE);
    const events = record();
    const tx = begin({ dir: root });
    tx.write('a', 'A');
    const committed = tx.commit().then(() => undefined, (err: unknown) => err);
    await vi.waitFor(() => expect(opsOf(events).some((e) => e.op === 'create' && LOCK_ENTRY.test(e.path))).toBe(true), { timeout: 5_000 });
    const eio = errnoError('EIO', 'fsync', 'lone');
    hold.release(eio);
    const err = await committed;
    expect(isTxnError(err) && err.code).toBe(codes.ESTAGE);
    expect((err as Error).cause).toBe(eio);
    expect(read(root, 'a')).toBe('old');
    expect(fs.readdirSync(root).sort()).toEqual(['a']);
  });
});
