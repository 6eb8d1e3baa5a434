/**
 * src/transaction/committer.ts, concludeEarly: a lone file's commit that replaces a file releases
 * the root lock right after its rename and makes the rename durable afterwards; the next commit in
 * the root goes on meanwhile. A failed fsync then takes the lock again for the undo, which leaves a target that a
 * later commit replaced since as it is. (The power-loss proof of the overlap is
 * test/crash/power-loss-overlap.test.ts.)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { begin, codes, isTxnError } from '../../src/index.js';
import * as seam from '../../src/io/fs.js';
import { errnoError } from '../helpers/errno.mjs';
import { tmpdir } from '../helpers/tmp.js';

afterEach(() => {
  seam.useFsImpl();
});

/**
 * Hold the first directory fsync of `dir` (a lone file's commit makes none before its rename):
 * `reached` resolves once it is asked for, `release(err)` lets it run, or fail with `err`.
 */
function holdFirstSync(dir: string): { reached: Promise<void>; release: (err?: Error) => void } {
  const base = seam.useFsImpl();
  let arrived!: () => void;
  const reached = new Promise<void>((resolve) => {
    arrived = resolve;
  });
  let go!: (err?: Error) => void;
  const released = new Promise<Error | undefined>((resolve) => {
    go = resolve;
  });
  let first = true;
  seam.useFsImpl({
    ...base,
    syncDir: async (p: string) => {
      if (first && p === dir) {
        first = false;
        arrived();
        const err = await released;
        if (err !== undefined) throw err;
      }
      return base.syncDir(p);
    },
  });
  return { reached, release: go };
}

const read = (root: string, name: string): string | undefined => (fs.existsSync(path.join(root, name)) ? fs.readFileSync(path.join(root, name), 'utf8') : undefined);

/** Commit `name` alone in `root`; resolves with its error, or undefined. */
function commitOne(root: string, name: string, data: string, lockTimeout?: number): Promise<unknown> {
  const tx = begin({ dir: root, ...(lockTimeout === undefined ? {} : { lockTimeout }) });
  tx.write(name, data);
  return tx.commit().then(() => undefined, (err: unknown) => err);
}

/**
 * Start a one-file commit of `name` whose first directory fsync after its rename is held; resolves
 * once that fsync is asked for (the rename made), with the hold and the commit's outcome.
 */
async function heldCommit(root: string, name: string, data: string): Promise<{ hold: ReturnType<typeof holdFirstSync>; outcome: Promise<unknown> }> {
  const hold = holdFirstSync(root);
  const outcome = commitOne(root, name, data);
  await hold.reached;
  return { hold, outcome };
}

describe("a lone file's rename over the file it replaces is made durable after the root lock's release", () => {
  it('the next commit in the root takes the lock and finishes while the first one fsyncs', async () => {
    const root = tmpdir();
    fs.writeFileSync(path.join(root, 'a.txt'), 'old');
    const { hold, outcome } = await heldCommit(root, 'a.txt', 'A');
    expect(read(root, 'a.txt')).toBe('A');
    // Held through the fsync, the lock would make this wait until the first commit resolves: it
    // never does while the fsync is held, so this would fail with ELOCKED after lockTimeout.
    expect(await commitOne(root, 'b.txt', 'B', 2_000)).toBeUndefined();
    expect(read(root, 'b.txt')).toBe('B');
    hold.release();
    expect(await outcome).toBeUndefined();
    expect(read(root, 'a.txt')).toBe('A');
    expect(fs.existsSync(path.join(root, '.txnfs'))).toBe(false);
  });

  it('EIO at that fsync after a later commit replaced the target: EFS, and the later version stays', async () => {
    const root = tmpdir();
    fs.writeFileSync(path.join(root, 'a.txt'), 'old');
    const { hold, outcome } = await heldCommit(root, 'a.txt', 'A');
    expect(await commitOne(root, 'a.txt', 'B', 2_000)).toBeUndefined();
    const eio = errnoError('EIO', 'fsync', root);
    hold.release(eio);
    const err = await outcome;
    expect(isTxnError(err) && err.code).toBe(codes.EFS);
    expect((err as Error).cause).toBe(eio);
    expect((err as Error).message).toContain('another writer has replaced');
    // Not the old file put back over the later commit's.
    expect(read(root, 'a.txt')).toBe('B');
    expect(fs.existsSync(path.join(root, '.txnfs'))).toBe(false);
  });

  it('a new file keeps the lock through its fsyncs: nothing else keeps the home, which they fsync, in place', async () => {
    const root = tmpdir();
    const { hold, outcome } = await heldCommit(root, 'a.txt', 'A');
    const err = await commitOne(root, 'b.txt', 'B', 300);
    expect(isTxnError(err) && err.code).toBe(codes.ELOCKED);
    hold.release();
    expect(await outcome).toBeUndefined();
    expect(read(root, 'a.txt')).toBe('A');
    expect(read(root, 'b.txt')).toBeUndefined();
  });
});
