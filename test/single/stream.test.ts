import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { codes, createWriteStream } from '../../src/index.js';
import { faults } from '../../src/io/faults.js';
import { failOnce } from '../helpers/hook.js';
import { leftovers, snapshot, tmpdir } from '../helpers/tmp.js';

function seeded(): { dir: string; file: string } {
  const dir = tmpdir();
  const file = path.join(dir, 'f');
  fs.writeFileSync(file, 'old');
  return { dir, file };
}

describe('createWriteStream', () => {
  it('works with pipeline(); the file changes only when the stream ends, and is durable at finish', async () => {
    const { dir, file } = seeded();
    let seenMidway = '';
    const source = Readable.from((async function* () {
      yield 'new ';
      yield 'content';
      seenMidway = fs.readFileSync(file, 'utf8');
    })());
    const ws = createWriteStream(file);
    await pipeline(source, ws);
    expect(seenMidway).toBe('old');
    expect(snapshot(dir)).toEqual({ f: 'new content' });
    expect(ws.result).toEqual({ path: file, bytes: 11, created: false, dryRun: false });
    expect(leftovers(dir)).toEqual([]);
  });

  it('an empty stream makes an empty file; strings use the encoding option', async () => {
    const dir = tmpdir();
    const empty = createWriteStream(path.join(dir, 'empty'));
    empty.end();
    await once(empty, 'finish');
    const latin = createWriteStream(path.join(dir, 'latin1'), { encoding: 'latin1' });
    latin.end('café');
    await once(latin, 'finish');
    expect(fs.readFileSync(path.join(dir, 'empty')).length).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'latin1'))).toEqual(Buffer.from('café', 'latin1'));
  });

  it('destroy(err) leaves the file untouched and removes the temp', async () => {
    const { dir, file } = seeded();
    const ws = createWriteStream(file);
    await new Promise((resolve) => ws.write('half of it', resolve)); // written through to the temp
    expect(leftovers(dir)).toHaveLength(1);
    const errors: unknown[] = [];
    ws.on('error', (e) => errors.push(e));
    const closed = new Promise((resolve) => ws.once('close', resolve));
    ws.destroy(new Error('producer died'));
    await closed;
    expect(errors).toMatchObject([{ message: 'producer died' }]);
    expect(snapshot(dir)).toEqual({ f: 'old' });
    expect(leftovers(dir)).toEqual([]);
  });

  it('a failing pipeline leaves the file untouched', async () => {
    const { dir, file } = seeded();
    const source = Readable.from((async function* () {
      yield 'partial';
      throw new Error('upstream failed');
    })());
    await expect(pipeline(source, createWriteStream(file))).rejects.toThrow('upstream failed');
    expect(snapshot(dir)).toEqual({ f: 'old' });
    expect(leftovers(dir)).toEqual([]);
  });

  it('a write error (ENOSPC) is emitted as ESTAGE and leaves the file untouched', async () => {
    const { dir, file } = seeded();
    failOnce('write', 'ENOSPC');
    await expect(pipeline(Readable.from(['x']), createWriteStream(file))).rejects.toMatchObject({ code: codes.ESTAGE, cause: { code: 'ENOSPC' } });
    expect(snapshot(dir)).toEqual({ f: 'old' });
    expect(leftovers(dir)).toEqual([]);
  });

  it('a commit error (EACCES at rename) is emitted as EFS and leaves the file untouched', async () => {
    const { dir, file } = seeded();
    failOnce('rename', 'EACCES');
    await expect(pipeline(Readable.from(['x']), createWriteStream(file))).rejects.toMatchObject({ code: codes.EFS, cause: { code: 'EACCES' } });
    expect(snapshot(dir)).toEqual({ f: 'old' });
    expect(leftovers(dir)).toEqual([]);
  });

  it('a bad directory fails at construction, before anything is written to the stream', async () => {
    const dir = tmpdir();
    const ws = createWriteStream(path.join(dir, 'missing/f'));
    expect(await once(ws, 'error').then(([e]) => e as unknown)).toMatchObject({ code: codes.EFS, cause: { code: 'ENOENT' } });
    expect(fs.readdirSync(dir)).toEqual([]);
    expect(() => createWriteStream('')).toThrow(expect.objectContaining({ code: codes.EBADPATH }));
    expect(() => createWriteStream(path.join(dir, 'f'), { bogus: 1 } as never)).toThrow(TypeError);
  });

  it('an abort leaves the file untouched and fails with EABORTED', async () => {
    const { dir, file } = seeded();
    const ac = new AbortController();
    const ws = createWriteStream(file, { signal: ac.signal });
    ws.write('some');
    const errors: unknown[] = [];
    ws.on('error', (e) => errors.push(e));
    const closed = new Promise((resolve) => ws.once('close', resolve));
    ac.abort();
    await closed;
    expect(errors).toMatchObject([{ code: codes.EABORTED }]);
    expect(snapshot(dir)).toEqual({ f: 'old' });
    expect(leftovers(dir)).toEqual([]);
    const pre = createWriteStream(file, { signal: AbortSignal.abort() });
    expect(await once(pre, 'error').then(([e]) => e as unknown)).toMatchObject({ code: codes.EABORTED });
  });

  it('destroy() during the commit, before the rename, still wins', async () => {
    const { dir, file } = seeded();
    const ws = createWriteStream(file);
    faults.hook = (e) => {
      if (e.kind === 'step' && e.name === 'file:synced') ws.destroy();
    };
    ws.end('new');
    await once(ws, 'close');
    expect(ws.result).toBeUndefined();
    expect(snapshot(dir)).toEqual({ f: 'old' });
    expect(leftovers(dir)).toEqual([]);
  });

  it('mode, exclusive and dryRun behave as for writeFile', async () => {
    const { dir, file } = seeded();
    fs.chmodSync(file, 0o600);
    await pipeline(Readable.from(['kept mode']), createWriteStream(file));
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    await expect(pipeline(Readable.from(['x']), createWriteStream(file, { exclusive: true }))).rejects.toMatchObject({ code: codes.EPRECONDITION });
    // The file appears while the stream is open: exclusive still refuses at the end.
    const late = path.join(dir, 'late');
    const ws = createWriteStream(late, { exclusive: true });
    await new Promise((resolve) => ws.write('mine', resolve));
    fs.writeFileSync(late, 'theirs');
    ws.end();
    expect(await once(ws, 'error').then(([e]) => e as unknown)).toMatchObject({ code: codes.EPRECONDITION });
    expect(fs.readFileSync(late, 'utf8')).toBe('theirs');
    const dry = createWriteStream(file, { dryRun: true });
    await pipeline(Readable.from(['dry']), dry);
    expect(dry.result).toMatchObject({ dryRun: true, bytes: 3 });
    expect(snapshot(dir)).toEqual({ f: 'kept mode', late: 'theirs' });
    expect(leftovers(dir)).toEqual([]);
  });
});
