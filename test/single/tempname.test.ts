import { once } from 'node:events';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { selfIdentity } from '../../src/protocol/identity.js';
import { hostHash, parseTempName, TEMP_NAME_MAX, tempName, writerIdentity } from '../../src/single/tempname.js';

const here = path.dirname(fileURLToPath(import.meta.url));

describe('temp names', () => {
  it('are short: at most TEMP_NAME_MAX (65) bytes, far below the 143-byte eCryptfs limit', () => {
    expect(TEMP_NAME_MAX).toBe(65);
    const widest = `.tmp-${'f'.repeat(12)}-${'z'.repeat(11)}-${'z'.repeat(11)}-${'z'.repeat(11)}-${'z'.repeat(11)}`;
    expect(Buffer.byteLength(widest)).toBe(TEMP_NAME_MAX);
    expect(parseTempName(widest)).toBeDefined();
    for (let i = 0; i < 100; i++) expect(Buffer.byteLength(tempName())).toBeLessThanOrEqual(TEMP_NAME_MAX);
  });

  it('record this process: host hash, pid, start time and thread, read back by parseTempName', () => {
    const me = selfIdentity();
    const a = parseTempName(tempName());
    const b = parseTempName(tempName());
    expect(a).toMatchObject({ hostHash: hostHash(me.host), pid: process.pid, start: me.start, thread: 0 });
    expect(b?.seq).toBe((a?.seq ?? 0) + 1);
    expect(writerIdentity(a!)).toEqual({ host: me.host, pid: process.pid, start: me.start });
  });

  it('judge another host (or an earlier boot) only by staleness: writerIdentity is undefined', () => {
    const other = parseTempName(`.tmp-${hostHash('linux:another-boot:ns')}-1a-2b-0-1`);
    expect(other).toEqual({ hostHash: hostHash('linux:another-boot:ns'), pid: 46, start: String(2 * 36 + 11), thread: 0, seq: 1 });
    expect(writerIdentity(other!)).toBeUndefined();
  });

  it('never parse a name that is not a temp name (such a file is never touched by recovery)', () => {
    for (const name of ['.tmp-', '.tmp-notours', 'notes.txt', '.tmp-ABCDEF012345-1-1-0-1', `.tmp-${'0'.repeat(12)}-1-1-0`, `.tmp-${'0'.repeat(12)}-1-1-0-1.bak`, `x.tmp-${'0'.repeat(12)}-1-1-0-1`, `.tmp-${'0'.repeat(12)}-${'1'.repeat(12)}-1-0-1`]) {
      expect(parseTempName(name), name).toBeUndefined();
    }
  });

  it('are unique across worker threads and processes', async () => {
    const worker = (count: number): Promise<string[]> => {
      const w = new Worker(path.join(here, '../fixtures/tempnames-worker.mjs'), { workerData: { count } });
      return once(w, 'message').then(([names]) => names as string[]);
    };
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', `import { tempName } from ${JSON.stringify(path.join(here, '../../dist/single/tempname.js'))}; console.log(JSON.stringify([tempName(), tempName()]));`]);
    const fromChild = JSON.parse(child.stdout.toString()) as string[];
    const all = [...(await worker(200)), ...(await worker(200)), ...fromChild, ...Array.from({ length: 200 }, () => tempName())];
    expect(new Set(all).size).toBe(all.length);
    const threads = new Set(all.map((n) => parseTempName(n)?.thread));
    expect(threads.size).toBe(3); // two workers and the main thread (the child's main thread is 0 too)
    expect(new Set(all.map((n) => parseTempName(n)?.pid)).size).toBe(2);
  });
});
