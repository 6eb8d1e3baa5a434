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
 * error, the held fsyncs fail with it. `held()`: how many are waiting; `open()`: how many of those
 * files are created and not closed.
 */
function holdStagedSyncs(staged: RegExp): { release: (err?: Error) => void; held: () => number; open: () => number } {
  const base = seam.useFsImpl();
  let go!: (err: Error | undefined) => void;
  const released = new Promise<Error | undefined>((resolve) => {
    go = resolve;
  });
  let held = 0;
  let open = 0;
  seam.useFsImpl({
    ...base,
    create: async (p: string, mode: number) => {
      const h = await base.create(p, mode);
      if (!staged.test(p)) return h;
      open += 1;
      let closed = false;
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
        close: () => {
          if (!closed) open -= 1;
          closed = true;
          return h.close();
        },
      };
    },
  });
  return { release: (err) => go(err), held: () => held, open: () => open };
}

const STAGED = /\/\.txnfs\/\.txn-[^/]+\/files\/\d+$/;
const LOCK_ENTRY = /\/\.txnfs\/lock\.o\.[^/]+$/;
const LONE = /\/\.txnfs\/\.tmp-[^/]+$/;

const opsOf = (events: ReturnType<typeof record>): OpEvent[] => events.filter((e): e is OpEvent => e.kind === 'op');
const read = (root: string, name: string): string | undefined => (fs.existsSync(path.join(root, name)) ? fs.readFileSync(path.join(root, name), 'utf8') : undefined);
const journalMade = (events: ReturnType<typeof record>): boolean => opsOf(events).some((e) => e.op === 'create' && e.path.endsWith('/journal.tmp'));
const lockTaken = (events: ReturnType<typeof record>): boolean => opsOf(events).some((e) => e.op === 'create' && LOCK_ENTRY.test(e.path));
/** Time for a commit that wrongly went on to do what the test says it must not. */
const pause = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 50));

/** Two commits at once on `root`: the second waits for the first (lock/queue.ts, rootLockContended). */
async function contend(root: string): Promise<void> {
  await Promise.all(['b', 'c'].map(async (name) => {
    const t = begin({ dir: root });
    t.write(name, name);
    await t.commit();
  }));
}

/**
 * Write `names` in one transaction of `root` with the fsyncs of files matching `held` held, and
 * start its commit: its events, the hold, and its outcome (the error, or undefined).
 */
function heldCommit(root: string, held: RegExp, names: string[]): { events: ReturnType<typeof record>; hold: ReturnType<typeof holdStagedSyncs>; outcome: Promise<unknown> } {
  const hold = holdStagedSyncs(held);
  const events = record();
  const tx = begin({ dir: root });
  for (const name of names) tx.write(name, name.toUpperCase());
  return { events, hold, outcome: tx.commit().then(() => undefined, (err: unknown) => err) };
}

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
    await vi.waitFor(() => expect(journalMade(events)).toBe(true), { timeout: 5_000 });
    expect(hold.held()).toBe(2);
    expect(lockTaken(events)).toBe(true);
    // Known is not staged: the write's promise waits for its fsync too.
    expect(inspect(wrote)).toContain('pending');
    // Given time, it still does not pass its commit point (the link of journal.tmp to journal).
    await pause();
    expect(opsOf(events).some((e) => e.op === 'link' && e.path.endsWith('/journal.tmp'))).toBe(false);
    expect(read(root, 'a')).toBe('old');
    expect(read(root, 'b')).toBeUndefined();
    hold.release();
    const result = await committed;
    expect(result.written).toBe(2);
    await expect(wrote).resolves.toBeUndefined();
    expect(read(root, 'a')).toBe('A');
    expect(read(root, 'b')).toBe('B');
    // It passed its commit point once released.
    expect(opsOf(events).some((e) => e.op === 'link' && e.path.endsWith('/journal.tmp'))).toBe(true);
  });
});

describe('a staged fsync that fails once the commit went on (ESTAGE and its cause; nothing changed, nothing left)', () => {
  it.each([
    ['two files (journaled), after the plan', STAGED, ['a', 'b'], journalMade],
    ['a lone file, under the root lock', LONE, ['a'], lockTaken],
  ] as const)('%s', async (_name, held, names, reached) => {
    const root = tmpdir();
    fs.writeFileSync(path.join(root, 'a'), 'old');
    const { events, hold, outcome } = heldCommit(root, held, [...names]);
    await vi.waitFor(() => expect(reached(events)).toBe(true), { timeout: 5_000 });
    const eio = errnoError('EIO', 'fsync', 'staged');
    hold.release(eio);
    const err = await outcome;
    expect(isTxnError(err) && err.code).toBe(codes.ESTAGE);
    expect((err as Error).cause).toBe(eio);
    // The failed file's descriptor is closed too (seal.ts closes it once its fsync settles).
    expect(hold.open()).toBe(0);
    expect(opsOf(events).some((e) => (e.op === 'link' && e.path.endsWith('/journal.tmp')) || (e.op === 'rename' && held.test(e.path)))).toBe(false);
    expect(read(root, 'a')).toBe('old');
    expect(fs.readdirSync(root).sort()).toEqual(['a']);
  });
});

describe('a commit to a root whose lock was contended lately: durable before it takes the lock, never held across an fsync', () => {
  it.each([
    ['two files (journaled)', STAGED, ['a', 'd']],
    ['a lone file', LONE, ['a']],
  ] as const)('%s', async (_name, held, names) => {
    const root = tmpdir();
    await contend(root);
    const { events, hold, outcome } = heldCommit(root, held, [...names]);
    await vi.waitFor(() => expect(hold.held()).toBe(names.length), { timeout: 5_000 });
    await pause();
    expect(opsOf(events).some((e) => LOCK_ENTRY.test(e.path))).toBe(false);
    hold.release();
    expect(await outcome).toBeUndefined();
    expect(names.map((n) => read(root, n))).toEqual(names.map((n) => n.toUpperCase()));
    expect(lockTaken(events)).toBe(true);
  });
});

describe('a lone file (a one-file commit) where the root lock is free', () => {
  it('takes the lock and plans while the fsync runs, renames only once it is done', async () => {
    const root = tmpdir();
    fs.writeFileSync(path.join(root, 'a'), 'old');
    const { events, hold, outcome } = heldCommit(root, LONE, ['a']);
    await vi.waitFor(() => expect(lockTaken(events)).toBe(true), { timeout: 5_000 });
    expect(hold.held()).toBe(1);
    await pause();
    expect(opsOf(events).some((e) => e.op === 'rename' && LONE.test(e.path))).toBe(false);
    expect(read(root, 'a')).toBe('old');
    hold.release();
    expect(await outcome).toBeUndefined();
    expect(read(root, 'a')).toBe('A');
  });
});
