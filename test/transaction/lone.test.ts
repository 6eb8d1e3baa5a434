/**
 * src/transaction/lone.ts: a transaction's first written file is staged as its lone file, a temp in
 * the home, with no owner lock or staging dir, until the transaction proves to need them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { begin, codes, recover } from '../../src/index.js';
import { leftovers, snapshot, tmpdir } from '../helpers/tmp.js';

const home = (dir: string): string[] => fs.readdirSync(path.join(dir, '.txnfs')).sort();

describe('the lone file', () => {
  it('one write: a temp in the home, no owner lock or staging dir; the commit renames it in place', async () => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, 'a'), 'old');
    const tx = begin({ dir });
    await tx.write('a', 'new');
    const [lone, ...rest] = home(dir);
    expect(rest).toEqual([]);
    expect(lone).toMatch(/^\.tmp-/);
    const ino = fs.statSync(path.join(dir, '.txnfs', lone as string)).ino;
    await tx.commit();
    expect(fs.statSync(path.join(dir, 'a')).ino).toBe(ino); // renamed, not copied
    expect(snapshot(dir)).toEqual({ a: 'new' });
    expect(leftovers(dir)).toEqual([]);
  });

  it('a read first keeps it lone: a look opens the home only', async () => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, 'n'), '1');
    const tx = begin({ dir });
    const { data, version } = await tx.read('n');
    expect(home(dir)).toEqual([]);
    await tx.write('n', String(Number(data) + 1), { ifUnchanged: version });
    expect(home(dir)).toHaveLength(1);
    expect(home(dir)[0]).toMatch(/^\.tmp-/);
    await tx.commit();
    expect(snapshot(dir)).toEqual({ n: '2' });
    expect(leftovers(dir)).toEqual([]);
  });

  it('a second write makes the staging dir; the commit moves the lone file into files/ and journals both', async () => {
    const dir = tmpdir();
    const tx = begin({ dir });
    await tx.write('a', 'A');
    await tx.write('b', 'B');
    const names = home(dir);
    expect(names.filter((n) => n.startsWith('.tmp-'))).toHaveLength(1);
    expect(names).toContain(`.txn-${tx.id}`);
    expect(names).toContain(`.txn-${tx.id}.lock`);
    expect(fs.readdirSync(path.join(dir, '.txnfs', `.txn-${tx.id}`, 'files'))).toEqual(['1']);
    const r = await tx.commit();
    expect(r).toMatchObject({ entries: 2, written: 2 });
    expect(snapshot(dir)).toEqual({ a: 'A', b: 'B' });
    expect(leftovers(dir)).toEqual([]);
  });

  it('writes issued one after another: the second asks for the staging dir first, so there is no lone file', async () => {
    const dir = tmpdir();
    const tx = begin({ dir });
    const staged = [tx.write('a', 'A'), tx.write('b', 'B')];
    await Promise.all(staged);
    expect(home(dir).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
    expect(fs.readdirSync(path.join(dir, '.txnfs', `.txn-${tx.id}`, 'files')).sort()).toEqual(['0', '1']);
    await tx.commit();
    expect(snapshot(dir)).toEqual({ a: 'A', b: 'B' });
    expect(leftovers(dir)).toEqual([]);
  });

  it('a plan that cannot go the direct way (a new parent directory) moves it into a staging dir under the root lock', async () => {
    const dir = tmpdir();
    const tx = begin({ dir });
    await tx.write('new/deep/a', 'A');
    expect(home(dir)).toHaveLength(1);
    await tx.commit();
    expect(snapshot(dir)).toEqual({ 'new/deep/a': 'A' });
    expect(leftovers(dir)).toEqual([]);
  });

  it('kept by recover() while its writer lives, however old (its name names this process)', async () => {
    const dir = tmpdir();
    const tx = begin({ dir });
    await tx.write('a', 'A');
    const [lone] = home(dir);
    expect(lone).toMatch(/^\.tmp-/); // the lone file, nothing else in the home
    const old = new Date(Date.now() - 3_600_000);
    fs.utimesSync(path.join(dir, '.txnfs', lone as string), old, old);
    const report = await recover(dir, { lockStale: 2000 });
    expect(report.orphans).toEqual([]);
    expect(home(dir)).toEqual([lone]);
    await tx.commit();
    expect(snapshot(dir)).toEqual({ a: 'A' });
  });

  it('abort removes it, and the home with it', async () => {
    const dir = tmpdir();
    const tx = begin({ dir });
    await tx.write('a', 'A');
    expect(home(dir)).toHaveLength(1);
    await tx.abort();
    expect(snapshot(dir)).toEqual({});
    expect(leftovers(dir)).toEqual([]);
  });

  it('removed by another process (a recovery that judged this one dead): ECOMPROMISED, nothing changed', async () => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, 'a'), 'old');
    const tx = begin({ dir });
    await tx.write('a', 'new');
    const [lone] = home(dir);
    fs.unlinkSync(path.join(dir, '.txnfs', lone as string));
    const err = await tx.commit().catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'TxnError', code: codes.ECOMPROMISED, cause: { code: 'ENOENT' } });
    expect((err as Error).message).toMatch(/recover\(\) judged this process dead/);
    expect(snapshot(dir)).toEqual({ a: 'old' });
    expect(leftovers(dir)).toEqual([]);
  });

  it('a home others may write to (made by single-file writes in a shared directory) gets a staging dir instead', async () => {
    const dir = tmpdir();
    fs.mkdirSync(path.join(dir, '.txnfs'));
    fs.chmodSync(path.join(dir, '.txnfs'), 0o775); // group-writable: a group member could swap a temp
    const tx = begin({ dir });
    await tx.write('a', 'A');
    expect(home(dir)).toEqual([`.txn-${tx.id}`, `.txn-${tx.id}.lock`]);
    expect(fs.readdirSync(path.join(dir, '.txnfs', `.txn-${tx.id}`, 'files'))).toEqual(['0']);
    await tx.commit();
    expect(snapshot(dir)).toEqual({ a: 'A' });
  });
});

describe('the lone file is never more readable than the file it becomes', () => {
  it('a replaced 0600 file: staged 0600 in the home (others may enter it), and committed 0600', async () => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, 'secret'), 'old', { mode: 0o600 });
    fs.chmodSync(path.join(dir, 'secret'), 0o600);
    const tx = begin({ dir });
    await tx.write('secret', 'new');
    const [lone] = home(dir);
    expect(fs.statSync(path.join(dir, '.txnfs', lone as string)).mode & 0o777).toBe(0o600);
    await tx.commit();
    expect(fs.statSync(path.join(dir, 'secret')).mode & 0o777).toBe(0o600);
  });

  it('an explicit mode: staged with it from the start', async () => {
    const dir = tmpdir();
    const tx = begin({ dir });
    await tx.write('key', 'k', { mode: 0o600 });
    const [lone] = home(dir);
    expect(fs.statSync(path.join(dir, '.txnfs', lone as string)).mode & 0o777).toBe(0o600);
    await tx.commit();
    expect(fs.statSync(path.join(dir, 'key')).mode & 0o777).toBe(0o600);
  });

  it('a new file: the mode a new file gets (0666 less the umask)', async () => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, 'probe'), '');
    const expected = fs.statSync(path.join(dir, 'probe')).mode & 0o777;
    const tx = begin({ dir });
    await tx.write('fresh', 'x');
    const [lone] = home(dir);
    expect(fs.statSync(path.join(dir, '.txnfs', lone as string)).mode & 0o777).toBe(expected);
    await tx.commit();
    expect(fs.statSync(path.join(dir, 'fresh')).mode & 0o777).toBe(expected);
  });
});
