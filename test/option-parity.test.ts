import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { begin, createWriteStream, writeFile, writeJson } from '../src/index.js';
import { tmpdir } from './helpers/tmp.js';

// Issue 12 item 15: an option the transaction API and the single-file API share is checked by one
// function, so a bad value gets the same class, code and message from both.
async function caught(act: () => unknown): Promise<{ name: string; code: unknown; message: string }> {
  try {
    const r = act();
    if (r instanceof Promise) await r;
    else if (r !== null && typeof r === 'object' && 'destroy' in r) (r as { destroy(): void }).destroy();
  } catch (err) {
    const e = err as Error & { code?: unknown };
    return { name: e.constructor.name, code: e.code, message: e.message };
  }
  throw new Error('no error');
}

type Pair = { tx: (dir: string) => unknown; file: (dir: string) => unknown };
const bad: Record<string, unknown[]> = {
  mode: [Number.NaN, -1, 1.5, 0o10000, '644', null, Number.POSITIVE_INFINITY],
  exclusive: ['yes', 1, null],
  spaces: [{}, true, null],
  replacer: [5, 'x', {}],
  durability: ['fast', 1],
  signal: [{}, 'abort'],
};
const api: Record<string, (value: unknown) => Pair[]> = {
  mode: (v) => [
    { tx: (d) => begin({ dir: d }).write('f', 'x', { mode: v as number }), file: (d) => writeFile(path.join(d, 'f'), 'x', { mode: v as number }) },
    { tx: (d) => begin({ dir: d }).writeJson('f', 1, { mode: v as number }), file: (d) => writeJson(path.join(d, 'f'), 1, { mode: v as number }) },
    { tx: (d) => begin({ dir: d }).createWriteStream('f', { mode: v as number }), file: (d) => createWriteStream(path.join(d, 'f'), { mode: v as number }) },
  ],
  exclusive: (v) => [
    { tx: (d) => begin({ dir: d }).write('f', 'x', { exclusive: v as boolean }), file: (d) => writeFile(path.join(d, 'f'), 'x', { exclusive: v as boolean }) },
    { tx: (d) => begin({ dir: d }).writeJson('f', 1, { exclusive: v as boolean }), file: (d) => writeJson(path.join(d, 'f'), 1, { exclusive: v as boolean }) },
    { tx: (d) => begin({ dir: d }).createWriteStream('f', { exclusive: v as boolean }), file: (d) => createWriteStream(path.join(d, 'f'), { exclusive: v as boolean }) },
  ],
  spaces: (v) => [{ tx: (d) => begin({ dir: d }).writeJson('f', 1, { spaces: v as number }), file: (d) => writeJson(path.join(d, 'f'), 1, { spaces: v as number }) }],
  replacer: (v) => [{ tx: (d) => begin({ dir: d }).writeJson('f', 1, { replacer: v as never }), file: (d) => writeJson(path.join(d, 'f'), 1, { replacer: v as never }) }],
  durability: (v) => [{ tx: (d) => begin({ dir: d, durability: v as 'full' }), file: (d) => writeFile(path.join(d, 'f'), 'x', { durability: v as 'full' }) }],
  signal: (v) => [{ tx: (d) => begin({ dir: d, signal: v as AbortSignal }), file: (d) => writeFile(path.join(d, 'f'), 'x', { signal: v as AbortSignal }) }],
};
const table = Object.entries(bad).flatMap(([option, values]) =>
  values.flatMap((value) => api[option]!(value).map((pair, i) => ({ option, shown: String(value === null ? 'null' : typeof value === 'object' ? '{}' : value), i, pair }))),
);

describe('shared options: one validator, same class and message', () => {
  it.each(table)('$option = $shown (form $i)', async ({ pair }) => {
    const dir = tmpdir();
    const fromTx = await caught(() => pair.tx(dir));
    const fromFile = await caught(() => pair.file(dir));
    expect(fromTx).toEqual(fromFile);
    expect(fromTx.name).toMatch(/^(TypeError|RangeError)$/);
  });

  it('writeJson: a value JSON cannot represent, same error from both', async () => {
    const dir = tmpdir();
    const fromTx = await caught(() => begin({ dir }).writeJson('f', undefined));
    const fromFile = await caught(() => writeJson(path.join(dir, 'f'), undefined));
    expect(fromTx).toEqual(fromFile);
  });
});
