import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { begin, codes } from '../../src/index.js';
import { leftovers, tmpdir } from '../helpers/tmp.js';

// Issue 12 item 14: commit() waits for a createWriteStream() that is still being written (as it
// does for a Readable given to write()), and fails with a clear ESTAGE only for one that will
// never end.

async function* slowChunks(n: number, ms: number): AsyncGenerator<string> {
  for (let i = 0; i < n; i++) {
    await sleep(ms);
    yield `chunk ${i}\n`;
  }
}
const expected = (n: number): string => Array.from({ length: n }, (_, i) => `chunk ${i}\n`).join('');

describe('commit() and a stream still being written', () => {
  it('a Readable piped in by pipeline(), not awaited: commit waits and lands the full content', async () => {
    const dir = tmpdir();
    const tx = begin({ dir });
    const piping = pipeline(Readable.from(slowChunks(20, 5)), tx.createWriteStream('x'));
    const result = await tx.commit();
    await piping;
    expect(result.written).toBe(1);
    expect(fs.readFileSync(path.join(dir, 'x'), 'utf8')).toBe(expected(20));
    expect(leftovers(dir)).toEqual([]);
  });

  it('an async generator given to pipeline() (no pipe, idle between chunks): commit waits', async () => {
    const dir = tmpdir();
    const tx = begin({ dir });
    const piping = pipeline(slowChunks(10, 10), tx.createWriteStream('y'));
    await tx.commit();
    await piping;
    expect(fs.readFileSync(path.join(dir, 'y'), 'utf8')).toBe(expected(10));
  });

  it('a stream written to and never ended still fails at once with a clear ESTAGE', async () => {
    const dir = tmpdir();
    const tx = begin({ dir });
    const ws = tx.createWriteStream('z');
    ws.write('some');
    const started = performance.now();
    await expect(tx.commit()).rejects.toMatchObject({ code: codes.ESTAGE, path: 'z', message: expect.stringMatching(/never ended/) });
    expect(performance.now() - started).toBeLessThan(2000);
    expect(fs.existsSync(path.join(dir, 'z'))).toBe(false);
    expect(leftovers(dir)).toEqual([]);
  });

  it('the AbortSignal cuts the wait for a source that never ends', async () => {
    const dir = tmpdir();
    const controller = new AbortController();
    const tx = begin({ dir, signal: controller.signal });
    const endless = new Readable({ read() {} });
    endless.push('partial');
    const piping = pipeline(endless, tx.createWriteStream('w')).catch((e: unknown) => e);
    setTimeout(() => controller.abort(), 100);
    await expect(tx.commit()).rejects.toMatchObject({ code: codes.EABORTED });
    await piping;
    expect(fs.existsSync(path.join(dir, 'w'))).toBe(false);
    expect(leftovers(dir)).toEqual([]);
  });
});
