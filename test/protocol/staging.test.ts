import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { codes } from '../../src/errors.js';
import { begin } from '../../src/index.js';
import { faults } from '../../src/io/faults.js';
import { createStaging, ensureHome, hasRollbackMarker, removeStaging, writeRollbackMarker } from '../../src/protocol/staging.js';
import { tmpdir } from '../helpers/tmp.js';

const timing = { stale: 10_000, update: 5_000, timeout: 0 };
const trace: string[] = [];
afterEach(() => {
  faults.hook = undefined;
  trace.length = 0;
});
function record(root: string): void {
  faults.hook = (e) => {
    if (e.kind === 'op' && e.mutating) trace.push(`${e.op} ${path.relative(root, e.path)}`);
    if (e.kind === 'step') trace.push(`step ${e.name}`);
  };
}

describe('home', () => {
  it('is created once, and its new entry in the root is fsynced', async () => {
    const root = tmpdir();
    record(root);
    const home = await ensureHome(root, true);
    expect(home.home).toBe(path.join(root, '.txnfs'));
    expect(trace).toEqual(['mkdir .txnfs', 'fsyncDir ']);
    trace.length = 0;
    await ensureHome(root, true);
    expect(trace).toEqual([]); // found by its lstat: no mkdir, no second fsync
  });

  it("a journaled commit in a home it did not make fsyncs the root before its commit point: nothing says the home's name is durable", async () => {
    // Made by someone else: another process's one-file commit (no journal, so no root fsync owed)
    // or a 'none' commit makes a home without one, and a journal below it would rest on it.
    const root = tmpdir();
    fs.mkdirSync(path.join(root, '.txnfs'));
    record(root);
    const tx = begin({ dir: root });
    tx.write('a', 'A'); // two new files: no replaced target, so no other fsync of the root
    tx.write('b', 'B');
    await tx.commit();
    const point = trace.findIndex((t) => t.startsWith('link ') && t.endsWith('journal.tmp'));
    expect(point).toBeGreaterThan(0);
    expect(trace.slice(0, point)).toContain('fsyncDir ');
    // This process's own mkdir of the home owes the same fsync, run once (not twice) before it.
    trace.length = 0;
    const again = begin({ dir: root });
    again.write('c', 'C');
    again.write('d', 'D');
    await again.commit();
    const point2 = trace.findIndex((t) => t.startsWith('link ') && t.endsWith('journal.tmp'));
    expect(trace.slice(0, point2).filter((t) => t === 'fsyncDir ')).toHaveLength(1);
  });

  it('refuses a .txnfs that is not a directory', async () => {
    const root = tmpdir();
    fs.writeFileSync(path.join(root, '.txnfs'), 'x');
    await expect(ensureHome(root, true)).rejects.toMatchObject({ code: codes.ETARGET });
  });
});

describe('staging dir', () => {
  it('takes the owner lock before the staging dir exists (no window for recovery)', async () => {
    const root = tmpdir();
    const { home } = await ensureHome(root, false);
    record(root);
    const staging = await createStaging(home, 'abc', timing);
    // The lock is held once its owner entry exists (and was alone when listed; lock.ts).
    const lockAt = trace.findIndex((t) => /^create \.txnfs\/\.txn-abc\.lock\/o\./.test(t));
    const dirAt = trace.indexOf('mkdir .txnfs/.txn-abc');
    expect(lockAt).toBeGreaterThanOrEqual(0);
    expect(dirAt).toBeGreaterThan(lockAt);
    expect(fs.existsSync(path.join(staging.dir, 'files'))).toBe(true);
    await staging.ownerLock.release();
  });

  it('removal unlinks the journal before anything else', async () => {
    const root = tmpdir();
    const { home } = await ensureHome(root, false);
    const staging = await createStaging(home, 'abc', timing);
    fs.writeFileSync(path.join(staging.dir, 'journal'), 'j');
    fs.writeFileSync(path.join(staging.dir, 'files', '0'), 'f');
    record(root);
    await removeStaging(staging.dir, false);
    expect(trace[0]).toBe('unlink .txnfs/.txn-abc/journal');
    expect(trace[1]).toBe('step journal-removed');
    expect(fs.existsSync(staging.dir)).toBe(false);
    await staging.ownerLock.release();
  });

  it('the rollback marker takes over journal.tmp, the spare name the commit point leaves: marking allocates nothing, is durable, and may already exist', async () => {
    const root = tmpdir();
    fs.writeFileSync(path.join(root, 'journal'), 'j');
    fs.linkSync(path.join(root, 'journal'), path.join(root, 'journal.tmp'));
    record(root);
    await writeRollbackMarker(root, true);
    expect(trace).toEqual(['rename journal.tmp', 'fsyncDir ']);
    expect(fs.existsSync(path.join(root, 'journal.tmp'))).toBe(false);
    expect(await hasRollbackMarker(root)).toBe(true);
    await writeRollbackMarker(root, true); // an earlier attempt's marker stands
    expect(await hasRollbackMarker(root)).toBe(true);
    expect(await hasRollbackMarker(path.join(root, 'nope'))).toBe(false);
  });

  it('without journal.tmp: a prepared rollback.tmp (hard links refused, or an older txnfs) is renamed, else a marker is created', async () => {
    const prepared = tmpdir();
    fs.writeFileSync(path.join(prepared, 'journal'), 'j');
    fs.writeFileSync(path.join(prepared, 'rollback.tmp'), '');
    record(prepared);
    await writeRollbackMarker(prepared, true);
    expect(trace).toEqual(['rename journal.tmp', 'rename rollback.tmp', 'fsyncDir ']);
    expect(await hasRollbackMarker(prepared)).toBe(true);
    expect(fs.existsSync(path.join(prepared, 'rollback.tmp'))).toBe(false);
    trace.length = 0;
    const root = tmpdir();
    fs.writeFileSync(path.join(root, 'journal'), 'j');
    record(root);
    await writeRollbackMarker(root, true);
    expect(trace).toEqual(['rename journal.tmp', 'rename rollback.tmp', 'create rollback', 'write rollback', 'fsync rollback', 'close rollback', 'fsyncDir ']);
    expect(await hasRollbackMarker(root)).toBe(true);
  });
});
