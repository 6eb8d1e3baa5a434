/**
 * inspect(): what an operator sees in a root's .txnfs/ (txnfs status is built on it).
 */
import { describe, expect, it } from 'vitest';
import { begin, inspect } from '../../src/index.js';
import { corruptJournal, crashAt } from '../helpers/crash-at.js';
import { tmpdir } from '../helpers/tmp.js';

describe('inspect', () => {
  it('reports nothing for a clean root, and for a root without .txnfs', async () => {
    const dir = tmpdir();
    expect(await inspect(dir)).toEqual([]);
    await begin({ dir }).commit();
    expect(await inspect(dir)).toEqual([]);
  });

  it('reports a live staging transaction with its staged files, bytes and age', async () => {
    const dir = tmpdir();
    const before = Date.now() - 1000; // mtime granularity
    const tx = begin({ dir });
    await Promise.all([tx.write('a', 'x'.repeat(10)), tx.write('sub/b', 'y'.repeat(25))]);
    const [found, ...rest] = await inspect(dir);
    expect(rest).toEqual([]);
    // Writes issued together: the second asks for the staging dir before the first has made a
    // lone file (src/transaction/lone.ts), so both are staged in files/, where inspect looks.
    expect(found).toMatchObject({ id: tx.id, state: 'staging', owner: 'held', entries: 0, staged: 2, bytes: 35 });
    expect(found?.mtimeMs).toBeGreaterThanOrEqual(before);
    expect(found?.mtimeMs).toBeLessThanOrEqual(Date.now());
    await tx.abort();
  });

  it('reports dead transactions: staging, committed and corrupt', async () => {
    const dir = tmpdir();
    const staging = crashAt(dir, 'staged', 2, 8);
    const committed = crashAt(dir, 'committed', 3, 10);
    const corrupt = crashAt(dir, 'committed', 2, 5);
    corruptJournal(dir, corrupt);
    const byId = new Map((await inspect(dir)).map((t) => [t.id, t]));
    expect(byId.size).toBe(3);
    expect(byId.get(staging)).toMatchObject({ state: 'staging', owner: 'dead', entries: 0, staged: 2, bytes: 16 });
    expect(byId.get(committed)).toMatchObject({ state: 'committed', owner: 'dead', entries: 3, staged: 3, bytes: 30 });
    expect(byId.get(corrupt)).toMatchObject({ state: 'corrupt', owner: 'dead', entries: 0, staged: 2, bytes: 10, reason: expect.stringMatching(/checksum/) });
    for (const t of byId.values()) expect(Date.now() - t.mtimeMs).toBeLessThan(60_000);
  });
});
