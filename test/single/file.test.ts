import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { codes, createWriteStream, update, writeFile, writeJson } from '../../src/index.js';
import type { FaultEvent } from '../../src/io/faults.js';
import { faults } from '../../src/io/faults.js';
import { ops, record } from '../helpers/hook.js';
import { leftovers, snapshot, tmpdir } from '../helpers/tmp.js';

const umask = process.umask();
const isRoot = process.getuid?.() === 0;

function renames(events: readonly FaultEvent[]): string[] {
  return events.filter((e) => e.kind === 'op' && (e.op === 'rename' || e.op === 'link')).map((e) => (e.kind === 'op' ? (e.dest ?? '') : ''));
}

describe('writeFile', () => {
  it('creates and replaces a file, returns what it did, and leaves no temp file', async () => {
    const dir = tmpdir();
    const file = path.join(dir, 'config.json');
    expect(await writeFile(file, '{"v":1}')).toEqual({ path: file, bytes: 7, created: true, dryRun: false });
    expect(await writeFile(file, Buffer.from('{"v":22}'))).toEqual({ path: file, bytes: 8, created: false, dryRun: false });
    expect(snapshot(dir)).toEqual({ 'config.json': '{"v":22}' });
    expect(leftovers(dir)).toEqual([]);
  });

  it('accepts every kind of data tx.write takes, a file: URL, and an encoding for strings', async () => {
    const dir = tmpdir();
    await writeFile(path.join(dir, 'u8'), new Uint8Array([104, 105]));
    await writeFile(path.join(dir, 'view'), new DataView(new TextEncoder().encode('dv').buffer));
    await writeFile(path.join(dir, 'ab'), new TextEncoder().encode('ab').buffer);
    await writeFile(path.join(dir, 'iter'), ['x', Buffer.from('y'), 'z']);
    await writeFile(path.join(dir, 'async'), (async function* () {
      yield 'a';
      yield Buffer.from('b');
    })());
    await writeFile(path.join(dir, 'readable'), Readable.from(['r', 'e', 'a', 'd']));
    await writeFile(pathToFileURL(path.join(dir, 'url')), 'from a URL');
    await writeFile(path.join(dir, 'latin1'), 'café', { encoding: 'latin1' });
    await writeFile(path.join(dir, 'empty'), '');
    expect(snapshot(dir)).toMatchObject({ u8: 'hi', view: 'dv', ab: 'ab', iter: 'xyz', async: 'ab', readable: 'read', url: 'from a URL', empty: '' });
    expect(fs.readFileSync(path.join(dir, 'latin1'))).toEqual(Buffer.from('café', 'latin1'));
    await expect(writeFile(path.join(dir, 'bad'), 42 as never)).rejects.toThrow(TypeError);
    expect(fs.existsSync(path.join(dir, 'bad'))).toBe(false);
  });

  it('a data source that throws fails with ESTAGE and its cause; the file is untouched', async () => {
    const dir = tmpdir();
    const file = path.join(dir, 'f');
    fs.writeFileSync(file, 'old');
    const boom = new Error('source broke');
    const err = await writeFile(file, (async function* () {
      yield 'partial';
      throw boom;
    })()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: codes.ESTAGE, cause: boom });
    expect(snapshot(dir)).toEqual({ f: 'old' });
    expect(leftovers(dir)).toEqual([]);
  });

  it('refuses bad paths with EBADPATH and a directory with ETARGET, writing nothing', async () => {
    const dir = tmpdir();
    fs.mkdirSync(path.join(dir, 'd'));
    await expect(writeFile('', 'x')).rejects.toMatchObject({ code: codes.EBADPATH });
    await expect(writeFile(path.join(dir, 'a\0b'), 'x')).rejects.toMatchObject({ code: codes.EBADPATH });
    await expect(writeFile(path.join(dir, '.txnfs/x'), 'x')).rejects.toMatchObject({ code: codes.EBADPATH });
    await expect(writeFile(path.join(dir, 'd'), 'x')).rejects.toMatchObject({ code: codes.ETARGET });
    await expect(writeFile(path.join(dir, 'n'.repeat(256)), 'x')).rejects.toMatchObject({ code: codes.EBADPATH });
    expect(fs.readdirSync(dir)).toEqual(['d']);
  });

  it('writes a file whose name is 255 bytes long (the temp name does not grow with it: write-file-atomic #63)', async () => {
    const dir = tmpdir();
    const name = 'n'.repeat(255);
    await writeFile(path.join(dir, name), 'long');
    expect(snapshot(dir)).toEqual({ [name]: 'long' });
    const events = record();
    await writeFile(path.join(dir, name), 'longer');
    const temp = events.find((e) => e.kind === 'op' && e.op === 'create');
    expect(temp?.kind === 'op' && Buffer.byteLength(path.basename(temp.path))).toBeLessThan(143);
  });
});

describe('option: mode', () => {
  it('keeps an existing file\'s mode, including set-id bits', async () => {
    const dir = tmpdir();
    const file = path.join(dir, 'secret');
    fs.writeFileSync(file, 'old');
    fs.chmodSync(file, 0o2640);
    await writeFile(file, 'new');
    expect(fs.statSync(file).mode & 0o7777).toBe(0o2640);
  });

  it('gives a new file 0o666 & ~umask, as fs.writeFile does', async () => {
    const dir = tmpdir();
    await writeFile(path.join(dir, 'new'), 'x');
    expect(fs.statSync(path.join(dir, 'new')).mode & 0o777).toBe(0o666 & ~umask);
  });

  it('sets an explicit mode exactly, the umask notwithstanding, on new and existing files', async () => {
    const dir = tmpdir();
    await writeFile(path.join(dir, 'a'), 'x', { mode: 0o666 });
    expect(fs.statSync(path.join(dir, 'a')).mode & 0o7777).toBe(0o666);
    await writeFile(path.join(dir, 'a'), 'x', { mode: 0o600 });
    expect(fs.statSync(path.join(dir, 'a')).mode & 0o7777).toBe(0o600);
  });

  it('creates the temp file no more readable than the file will be', async () => {
    const dir = tmpdir();
    const file = path.join(dir, 'key');
    fs.writeFileSync(file, 'old', { mode: 0o600 });
    fs.chmodSync(file, 0o600);
    let tempMode = -1;
    faults.hook = (e) => {
      if (e.kind === 'op' && e.op === 'write') tempMode = fs.statSync(e.path).mode & 0o777;
    };
    await writeFile(file, 'new secret');
    expect(tempMode).toBe(0o600);
  });

  it('rejects a bad mode with a RangeError or TypeError quoting it', async () => {
    await expect(writeFile('/tmp/x', 'x', { mode: 0o10000 })).rejects.toThrow(RangeError);
    await expect(writeFile('/tmp/x', 'x', { mode: '644' as never })).rejects.toThrow(/Received "644" \(type string\)/);
  });
});

describe.runIf(isRoot)('option: chown (running as root)', () => {
  it('by default a replaced file keeps its owner and group', async () => {
    const dir = tmpdir();
    const file = path.join(dir, 'users-file');
    fs.writeFileSync(file, 'old');
    fs.chownSync(file, 1234, 5678);
    await writeFile(file, 'new');
    expect(fs.statSync(file)).toMatchObject({ uid: 1234, gid: 5678 });
  });

  it('chown: false leaves the file to its writer; { uid, gid } sets it exactly', async () => {
    const dir = tmpdir();
    const file = path.join(dir, 'f');
    fs.writeFileSync(file, 'old');
    fs.chownSync(file, 1234, 5678);
    await writeFile(file, 'new', { chown: false });
    expect(fs.statSync(file)).toMatchObject({ uid: 0, gid: process.getgid?.() });
    await writeFile(file, 'newer', { chown: { uid: 42, gid: 43 } });
    expect(fs.statSync(file)).toMatchObject({ uid: 42, gid: 43 });
  });

  it('keeps set-id bits across the chown (chown clears them, so chmod comes after)', async () => {
    const dir = tmpdir();
    const file = path.join(dir, 'tool');
    fs.writeFileSync(file, 'old');
    fs.chownSync(file, 1234, 5678);
    fs.chmodSync(file, 0o4755);
    await writeFile(file, 'new');
    expect(fs.statSync(file).mode & 0o7777).toBe(0o4755);
  });

  it('tolerates a filesystem without owners when keeping one (EPERM), but not for an explicit owner', async () => {
    const dir = tmpdir();
    const file = path.join(dir, 'f');
    fs.writeFileSync(file, 'old');
    fs.chownSync(file, 1234, 5678);
    const { errnoError } = await import('../helpers/errno.mjs');
    faults.hook = (e) => {
      if (e.kind === 'op' && e.op === 'fchown') throw errnoError('EPERM', 'fchown', e.path);
    };
    await writeFile(file, 'new');
    expect(fs.readFileSync(file, 'utf8')).toBe('new');
    await expect(writeFile(file, 'newer', { chown: { uid: 1, gid: 1 } })).rejects.toMatchObject({ code: codes.EFS, cause: { code: 'EPERM' } });
    expect(fs.readFileSync(file, 'utf8')).toBe('new');
    expect(leftovers(dir)).toEqual([]);
  });
});

describe('option: mkdirs', () => {
  it('without it, a missing directory is EFS (cause ENOENT) and nothing is created', async () => {
    const dir = tmpdir();
    await expect(writeFile(path.join(dir, 'a/b/f'), 'x')).rejects.toMatchObject({ code: codes.EFS, cause: { code: 'ENOENT' } });
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('creates missing parents and fsyncs the parent of each new directory', async () => {
    const dir = tmpdir();
    const events = record();
    await writeFile(path.join(dir, 'a/b/f'), 'x', { mkdirs: true });
    expect(snapshot(dir)).toEqual({ 'a/b/f': 'x' });
    const synced = events.filter((e) => e.kind === 'op' && e.op === 'fsyncDir').map((e) => (e.kind === 'op' ? e.path : ''));
    expect(synced).toEqual(expect.arrayContaining([dir, path.join(dir, 'a'), path.join(dir, 'a/b')]));
  });

  it('removes the directories it created when the write fails', async () => {
    const dir = tmpdir();
    const err = await writeFile(path.join(dir, 'a/b/f'), (async function* () {
      yield 'x';
      throw new Error('no');
    })(), { mkdirs: true }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: codes.ESTAGE });
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});

describe('option: durability', () => {
  it("'full' fsyncs the temp before the rename and the directory after it", async () => {
    const dir = tmpdir();
    const file = path.join(dir, 'f');
    fs.writeFileSync(file, 'old');
    const events = record();
    await writeFile(file, 'new');
    const seq = ops(events).map((o) => o.split(' ')[0]);
    const rename = seq.indexOf('rename');
    expect(seq.slice(0, rename)).toContain('fsync');
    expect(seq.indexOf('fsync')).toBeGreaterThan(seq.lastIndexOf('write'));
    expect(ops(events).slice(rename + 1)).toContain(`fsyncDir ${dir}`);
  });

  it("'none' makes no fsync at all", async () => {
    const dir = tmpdir();
    const events = record();
    await writeFile(path.join(dir, 'f'), 'x', { durability: 'none' });
    await writeFile(path.join(dir, 'f'), 'y', { durability: 'none' });
    expect(ops(events).filter((o) => o.startsWith('fsync'))).toEqual([]);
    expect(snapshot(dir)).toEqual({ f: 'y' });
  });

  it('an unknown durability is a TypeError', async () => {
    await expect(writeFile('/tmp/x', 'x', { durability: 'some' as never })).rejects.toThrow(TypeError);
  });
});

describe('option: exclusive', () => {
  it('creates a file that does not exist', async () => {
    const dir = tmpdir();
    expect(await writeFile(path.join(dir, 'f'), 'x', { exclusive: true })).toMatchObject({ created: true });
    expect(snapshot(dir)).toEqual({ f: 'x' });
    expect(leftovers(dir)).toEqual([]);
  });

  it('fails with EPRECONDITION when the file exists, leaving it as it was', async () => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, 'f'), 'theirs');
    await expect(writeFile(path.join(dir, 'f'), 'mine', { exclusive: true })).rejects.toMatchObject({ code: codes.EPRECONDITION });
    expect(snapshot(dir)).toEqual({ f: 'theirs' });
    expect(leftovers(dir)).toEqual([]);
  });

  it('has no window: a file that appears after the check is never overwritten', async () => {
    const dir = tmpdir();
    const file = path.join(dir, 'f');
    // Someone creates the file between our existence check and our commit.
    faults.hook = (e) => {
      if (e.kind === 'op' && e.op === 'link' && !fs.existsSync(file)) fs.writeFileSync(file, 'theirs');
    };
    await expect(writeFile(file, 'mine', { exclusive: true })).rejects.toMatchObject({ code: codes.EPRECONDITION, cause: { code: 'EEXIST' } });
    expect(snapshot(dir)).toEqual({ f: 'theirs' });
    expect(leftovers(dir)).toEqual([]);
  });
});

describe('option: signal', () => {
  it('an aborted signal fails with EABORTED before anything is written', async () => {
    const dir = tmpdir();
    const events = record();
    await expect(writeFile(path.join(dir, 'f'), 'x', { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: codes.EABORTED });
    expect(ops(events)).toEqual([]);
  });

  it('an abort during the write leaves the file untouched and removes the temp', async () => {
    const dir = tmpdir();
    const file = path.join(dir, 'f');
    fs.writeFileSync(file, 'old');
    const ac = new AbortController();
    faults.hook = (e) => {
      if (e.kind === 'step' && e.name === 'file:synced') ac.abort();
    };
    await expect(writeFile(file, 'new', { signal: ac.signal })).rejects.toMatchObject({ code: codes.EABORTED });
    expect(snapshot(dir)).toEqual({ f: 'old' });
    expect(leftovers(dir)).toEqual([]);
  });

  it('an abort between chunks of a stream stops it', async () => {
    const dir = tmpdir();
    const ac = new AbortController();
    const err = await writeFile(path.join(dir, 'f'), (async function* () {
      yield 'one';
      ac.abort();
      yield 'two';
    })(), { signal: ac.signal }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: codes.EABORTED });
    expect(snapshot(dir)).toEqual({});
    expect(leftovers(dir)).toEqual([]);
  });
});

describe('option: dryRun', () => {
  it('does everything but the rename: the file is untouched and no temp remains', async () => {
    const dir = tmpdir();
    const file = path.join(dir, 'f');
    fs.writeFileSync(file, 'old');
    const events = record();
    expect(await writeFile(file, 'new', { dryRun: true })).toEqual({ path: file, bytes: 3, created: false, dryRun: true });
    expect(ops(events).map((o) => o.split(' ')[0])).toEqual(expect.arrayContaining(['create', 'write', 'fsync', 'unlink']));
    expect(renames(events)).toEqual([]);
    expect(snapshot(dir)).toEqual({ f: 'old' });
    expect(leftovers(dir)).toEqual([]);
  });

  it('still reports what would fail: exclusive on an existing file, a write error', async () => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, 'f'), 'old');
    await expect(writeFile(path.join(dir, 'f'), 'x', { dryRun: true, exclusive: true })).rejects.toMatchObject({ code: codes.EPRECONDITION });
    const { errnoError } = await import('../helpers/errno.mjs');
    faults.hook = (e) => {
      if (e.kind === 'op' && e.op === 'write') throw errnoError('ENOSPC', 'write', e.path);
    };
    await expect(writeFile(path.join(dir, 'g'), 'x', { dryRun: true })).rejects.toMatchObject({ code: codes.ESTAGE, cause: { code: 'ENOSPC' } });
    expect(leftovers(dir)).toEqual([]);
  });

  it('creates no directory for mkdirs, and still fails without it', async () => {
    const dir = tmpdir();
    expect(await writeFile(path.join(dir, 'a/b/f'), 'x', { dryRun: true, mkdirs: true })).toMatchObject({ dryRun: true, path: path.join(dir, 'a/b/f') });
    expect(fs.readdirSync(dir).filter((n) => n !== '.txnfs')).toEqual([]);
    expect(leftovers(dir)).toEqual([]);
    await expect(writeFile(path.join(dir, 'a/b/f'), 'x', { dryRun: true })).rejects.toMatchObject({ code: codes.EFS });
  });
});

describe('symlinks are written through', () => {
  it('replaces the file a link names; the link stays a link', async () => {
    const dir = tmpdir();
    fs.mkdirSync(path.join(dir, 'real'));
    fs.writeFileSync(path.join(dir, 'real/f'), 'old');
    fs.chmodSync(path.join(dir, 'real/f'), 0o640);
    fs.symlinkSync('real/f', path.join(dir, 'link'));
    const creates: string[] = [];
    faults.hook = (e) => {
      if (e.kind === 'op' && e.op === 'create') creates.push(path.dirname(e.path));
    };
    const result = await writeFile(path.join(dir, 'link'), 'new').finally(() => {
      faults.hook = undefined;
    });
    expect(result.path).toBe(path.join(dir, 'real/f'));
    expect(fs.lstatSync(path.join(dir, 'link')).isSymbolicLink()).toBe(true);
    expect(fs.readFileSync(path.join(dir, 'real/f'), 'utf8')).toBe('new');
    expect(fs.statSync(path.join(dir, 'real/f')).mode & 0o777).toBe(0o640);
    // The temp was made next to the real file, so the rename never crosses directories of the link.
    expect(new Set(creates)).toEqual(new Set([path.join(dir, 'real/.txnfs')]));
    expect(fs.readdirSync(path.join(dir, 'real'))).toEqual(['f']);
  });

  it('creates the file a dangling link names, as fs.writeFile does', async () => {
    const dir = tmpdir();
    fs.symlinkSync('target.json', path.join(dir, 'dangling'));
    await writeFile(path.join(dir, 'dangling'), '{}');
    expect(fs.lstatSync(path.join(dir, 'dangling')).isSymbolicLink()).toBe(true);
    expect(fs.readFileSync(path.join(dir, 'target.json'), 'utf8')).toBe('{}');
    expect(fs.readFileSync(path.join(dir, 'dangling'), 'utf8')).toBe('{}');
  });

  it('exclusive through a dangling link creates the file; through a live link it fails', async () => {
    const dir = tmpdir();
    fs.symlinkSync('t', path.join(dir, 'l'));
    await writeFile(path.join(dir, 'l'), 'first', { exclusive: true });
    await expect(writeFile(path.join(dir, 'l'), 'second', { exclusive: true })).rejects.toMatchObject({ code: codes.EPRECONDITION });
    expect(fs.readFileSync(path.join(dir, 't'), 'utf8')).toBe('first');
  });
});

describe('concurrency in one process', () => {
  it('calls for one path land in call order, whatever their sizes', async () => {
    const dir = tmpdir();
    const file = path.join(dir, 'f');
    const order: string[] = [];
    faults.hook = (e) => {
      if (e.kind === 'op' && e.op === 'rename') order.push(fs.readFileSync(e.path, 'utf8').slice(0, 3));
    };
    // Big first: without the queue the small later writes would finish (and rename) first.
    const calls = Array.from({ length: 12 }, (_, i) => writeFile(file, `${String(i).padStart(3, '0')}${'x'.repeat((12 - i) * 50_000)}`));
    await Promise.all(calls);
    expect(order).toEqual(Array.from({ length: 12 }, (_, i) => String(i).padStart(3, '0')));
    expect(fs.readFileSync(file, 'utf8').slice(0, 3)).toBe('011');
    expect(leftovers(dir)).toEqual([]);
  });

  it('a failed call does not hold up the next one', async () => {
    const dir = tmpdir();
    const file = path.join(dir, 'f');
    const results = await Promise.allSettled([writeFile(file, 'a'), writeFile(file, 'b', { exclusive: true }), writeFile(file, 'c')]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(fs.readFileSync(file, 'utf8')).toBe('c');
  });

  it('many files in one directory in parallel', async () => {
    const dir = tmpdir();
    await Promise.all(Array.from({ length: 50 }, (_, i) => writeFile(path.join(dir, `f${i}`), `v${i}`)));
    expect(Object.keys(snapshot(dir))).toHaveLength(50);
    expect(leftovers(dir)).toEqual([]);
  });
});

describe('writeJson', () => {
  it('writes JSON with a trailing newline, honouring spaces and replacer', async () => {
    const dir = tmpdir();
    await writeJson(path.join(dir, 'a.json'), { b: 1, c: [2] });
    await writeJson(path.join(dir, 'b.json'), { b: 1, secret: 's' }, { spaces: 2, replacer: (k, v) => (k === 'secret' ? undefined : v) });
    await writeJson(path.join(dir, 'c.json'), { b: 1, c: 2 }, { replacer: ['c'] });
    expect(snapshot(dir)).toEqual({ 'a.json': '{"b":1,"c":[2]}\n', 'b.json': '{\n  "b": 1\n}\n', 'c.json': '{"c":2}\n' });
  });

  it('a value JSON cannot represent is a TypeError, and nothing is written', async () => {
    const dir = tmpdir();
    await expect(writeJson(path.join(dir, 'a'), undefined)).rejects.toThrow(TypeError);
    await expect(writeJson(path.join(dir, 'b'), { n: 1n })).rejects.toThrow(TypeError);
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    await expect(writeJson(path.join(dir, 'c'), cycle)).rejects.toThrow(TypeError);
    await expect(writeJson(path.join(dir, 'd'), {}, { spaces: {} as never })).rejects.toThrow(TypeError);
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});

describe('options', () => {
  it('an unknown option is a TypeError (a typo must not silently drop a safety property)', async () => {
    await expect(writeFile('/tmp/x', 'x', { durabilty: 'none' } as never)).rejects.toThrow(/Unknown option "durabilty"/);
    await expect(writeFile('/tmp/x', 'x', { mkdirs: 'yes' as never })).rejects.toThrow(TypeError);
    await expect(writeFile('/tmp/x', 'x', { chown: { uid: -1, gid: 0 } })).rejects.toThrow(RangeError);
    await expect(writeFile('/tmp/x', 'x', { encoding: 'klingon' as never })).rejects.toThrow(TypeError);
    await expect(writeFile('/tmp/x', 'x', { signal: {} as never })).rejects.toThrow(TypeError);
  });

  it('an encoding name alone stands for { encoding }, as for fs.writeFile (issue 18)', async () => {
    const dir = tmpdir();
    await writeFile(path.join(dir, 'a'), 'café', 'latin1');
    await writeJson(path.join(dir, 'b.json'), 'café', 'latin1');
    const stream = createWriteStream(path.join(dir, 'c'), 'latin1');
    await new Promise<void>((resolve, reject) => stream.on('error', reject).end('café', resolve));
    await writeFile(path.join(dir, 'd'), '6869', 'hex');
    expect(fs.readFileSync(path.join(dir, 'a'))).toEqual(Buffer.from('café', 'latin1'));
    expect(fs.readFileSync(path.join(dir, 'b.json'))).toEqual(Buffer.from('"café"\n', 'latin1'));
    expect(fs.readFileSync(path.join(dir, 'c'))).toEqual(Buffer.from('café', 'latin1'));
    expect(fs.readFileSync(path.join(dir, 'd'), 'utf8')).toBe('hi');
  });

  it('an encoding name Buffer does not know is a TypeError naming it; nothing is written', async () => {
    const dir = tmpdir();
    const p = path.join(dir, 'f');
    const expected = { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE', message: 'The "encoding" argument must be a Buffer encoding such as \'utf8\'. Received "utf-9" (type string)' };
    for (const call of [() => writeFile(p, 'x', 'utf-9' as never), () => writeJson(p, 1, 'utf-9' as never)]) {
      const err = await call().then(() => undefined, (e: Error & { code?: string }) => e);
      expect({ name: err?.name, code: err?.code, message: err?.message }).toEqual(expected);
    }
    expect(() => createWriteStream(p, 'utf-9' as never)).toThrow(expected.message);
    // update() takes no encoding (it hands fn the bytes), so a string there is not an options object.
    await expect(update(p, () => 'x', 'utf8' as never)).rejects.toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    expect(fs.readdirSync(dir).filter((n) => n !== '.txnfs')).toEqual([]);
  });

  it('the caller\'s options object is never changed', async () => {
    const dir = tmpdir();
    const options = Object.freeze({ mode: 0o640, durability: 'none' as const });
    await writeFile(path.join(dir, 'f'), 'x', options);
    expect(options).toEqual({ mode: 0o640, durability: 'none' });
  });
});
