import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { begin, codes, writeFile } from '../../src/index.js';
import { faults } from '../../src/io/faults.js';
import { errnoError } from '../helpers/errno.mjs';
import { OPEN_RETRY } from '../../src/io/fs.js';
import { STALE_RETRIES } from '../../src/io/open-retry.js';
import { leftovers, tmpdir } from '../helpers/tmp.js';

// Issue 12 item 11: a transient EMFILE/ENFILE on an open is retried with a bounded backoff (the
// seam's open, so single-file writes and staging share it); a persistent one fails after the bound
// with a TxnError whose cause is the errno.

afterEach(() => {
  faults.hook = undefined;
});

/** Fail the first `times` creates of files whose name passes `which` with `code`; count all. */
function failCreates(times: number, code: 'EMFILE' | 'ENFILE', which: (p: string) => boolean = () => true): { attempts: number } {
  const seen = { attempts: 0 };
  faults.hook = (e) => {
    if (e.kind !== 'op' || e.op !== 'create' || !which(e.path)) return;
    seen.attempts++;
    if (seen.attempts <= times) throw errnoError(code, 'open', e.path);
  };
  return seen;
}

// A staged file: in files/, or a transaction's lone file, a temp in the home (src/transaction/lone.ts).
const staged = (p: string): boolean => p.includes(`${path.sep}files${path.sep}`) || path.basename(p).startsWith('.tmp-');
const isTemp = (p: string): boolean => path.basename(p).startsWith('.tmp-');

describe('opens retried on EMFILE/ENFILE', () => {
  it('the bound is named and fixed', () => {
    expect(OPEN_RETRY).toMatchInlineSnapshot(`
      {
        "factor": 2,
        "firstDelayMs": 2,
        "maxDelayMs": 100,
        "maxTotalMs": 1500,
      }
    `);
  });

  it('writeFile: EMFILE three times, then the open succeeds', async () => {
    const dir = tmpdir();
    const seen = failCreates(3, 'EMFILE', isTemp);
    await writeFile(path.join(dir, 'f'), 'content');
    // The home made first (a directory at rest has none: an empty one is removed after every
    // write), then three EMFILEs retried, and the create that succeeds.
    expect(seen.attempts).toBe(4);
    expect(fs.readFileSync(path.join(dir, 'f'), 'utf8')).toBe('content');
    expect(leftovers(dir)).toEqual([]);
  });

  it('a transaction: ENFILE five times while staging, then the commit succeeds', async () => {
    const dir = tmpdir();
    const seen = failCreates(5, 'ENFILE', staged);
    const tx = begin({ dir });
    tx.write('a', 'A');
    await tx.commit();
    expect(seen.attempts).toBe(6);
    expect(fs.readFileSync(path.join(dir, 'a'), 'utf8')).toBe('A');
    expect(leftovers(dir)).toEqual([]);
  });

  it('writeFile: a persistent EMFILE rejects after the bound, EFS with the errno as cause', async () => {
    const dir = tmpdir();
    const seen = failCreates(Number.POSITIVE_INFINITY, 'EMFILE', isTemp);
    const started = performance.now();
    const err = await writeFile(path.join(dir, 'f'), 'content').catch((e: unknown) => e);
    const took = performance.now() - started;
    expect(err).toMatchObject({ name: 'TxnError', code: codes.EFS, cause: { code: 'EMFILE' } });
    expect(seen.attempts).toBeGreaterThan(5);
    expect(took).toBeGreaterThanOrEqual(OPEN_RETRY.maxTotalMs - 50);
    expect(took).toBeLessThan(OPEN_RETRY.maxTotalMs + 2000);
    expect(fs.existsSync(path.join(dir, 'f'))).toBe(false);
  });

  it('a transaction: a persistent EMFILE while staging rejects ESTAGE with the errno as cause', async () => {
    const dir = tmpdir();
    const seen = failCreates(Number.POSITIVE_INFINITY, 'EMFILE', staged);
    const tx = begin({ dir });
    tx.write('a', 'A');
    const err = await tx.commit().catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'TxnError', code: codes.ESTAGE, cause: { code: 'EMFILE' } });
    expect(seen.attempts).toBeGreaterThan(5);
    expect(fs.existsSync(path.join(dir, 'a'))).toBe(false);
    faults.hook = undefined;
    expect(leftovers(dir)).toEqual([]);
  });

  it('other errnos are not retried', async () => {
    const dir = tmpdir();
    const seen = { attempts: 0 };
    faults.hook = (e) => {
      if (e.kind !== 'op' || e.op !== 'create') return;
      seen.attempts++;
      throw errnoError('EACCES', 'open', e.path);
    };
    await expect(writeFile(path.join(dir, 'f'), 'x')).rejects.toMatchObject({ cause: { code: 'EACCES' } });
    expect(seen.attempts).toBe(1);
  });
});

describe('reads by path retried on ESTALE', () => {
  // As Node reports it: libuv has no name for ESTALE (116 on Linux).
  const stale = (p: string): NodeJS.ErrnoException => Object.assign(new Error(`Unknown system error -116: Unknown system error -116, open '${p}'`), { code: 'Unknown system error -116', errno: -116, syscall: 'open', path: p });
  /** Fail the first `times` reads of `name` with ESTALE; count all. */
  const failReads = (name: string, times: number): { attempts: number } => {
    const seen = { attempts: 0 };
    faults.hook = (e) => {
      if (e.kind !== 'op' || e.op !== 'readFile' || path.basename(e.path) !== name) return;
      seen.attempts++;
      if (seen.attempts <= times) throw stale(e.path);
    };
    return seen;
  };

  it('tx.read() of a file replaced between its lookup and its open (sshfs, NFS) reads the file the path names now', async () => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, 'counter.json'), '{"n":1}');
    const seen = failReads('counter.json', 2);
    const tx = begin({ dir });
    const { data } = await tx.read('counter.json');
    expect(String(data)).toBe('{"n":1}');
    expect(seen.attempts).toBe(3);
    await tx.abort();
  });

  it('a path that stays stale fails tx.read() with EFS after the bound, the errno in its cause', async () => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, 'counter.json'), '{"n":1}');
    const seen = failReads('counter.json', Infinity);
    const tx = begin({ dir });
    await expect(tx.read('counter.json')).rejects.toMatchObject({ code: codes.EFS, cause: { errno: -116 } });
    expect(seen.attempts).toBe(STALE_RETRIES + 1);
    await tx.abort();
    expect(leftovers(dir)).toEqual([]);
  });
});
