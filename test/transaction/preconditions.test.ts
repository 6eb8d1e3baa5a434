import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { begin, codes, type FileVersion } from '../../src/index.js';
import { faults } from '../../src/io/faults.js';
import { checkVersion, contentVersion, sha256Of } from '../../src/transaction/preconditions.js';
import { jsonLines, run } from '../helpers/child.js';
import { leftovers, snapshot, tmpdir } from '../helpers/tmp.js';

function readCounter(dir: string): string[] {
  return (JSON.parse(fs.readFileSync(path.join(dir, 'counter.json'), 'utf8')) as { items: string[] }).items;
}

/** Steps the commit reached, recorded through the fault hook. */
async function stepsOf<T>(fn: () => Promise<T>): Promise<{ steps: string[]; result: T | unknown }> {
  const steps: string[] = [];
  faults.hook = (e) => {
    if (e.kind === 'step') steps.push(e.name);
  };
  try {
    const result = await fn().catch((err: unknown) => err);
    return { steps, result };
  } finally {
    faults.hook = undefined;
  }
}

describe('ifUnchanged with tx.read(): compare-and-swap on content', () => {
  it('commits when the file is unchanged since it was read', async () => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, 'n'), '1');
    const tx = begin({ dir });
    const { data, version } = await tx.read('n');
    expect(data?.toString()).toBe('1');
    expect(version).toEqual({ exists: true, size: 1, sha256: sha256Of(Buffer.from('1')) });
    tx.write('n', String(Number(data) + 1), { ifUnchanged: version });
    await tx.commit();
    expect(snapshot(dir)).toEqual({ n: '2' });
  });

  it('fails the whole commit with EPRECONDITION, before the commit point, when another commit changed the file', async () => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, 'n'), '1');
    fs.writeFileSync(path.join(dir, 'other'), 'old');
    const slow = begin({ dir });
    const { version } = await slow.read('n');
    slow.write('n', '2', { ifUnchanged: version });
    slow.write('other', 'new'); // must not land either
    slow.write('created', 'x');

    const fast = begin({ dir });
    fast.write('n', '5');
    await fast.commit();

    const { steps, result } = await stepsOf(() => slow.commit());
    expect(result).toMatchObject({ code: codes.EPRECONDITION, path: 'n' });
    expect((result as Error).message).toMatch(/ifUnchanged condition on 'n' does not hold: its content changed/);
    expect(steps).toContain('locked');
    expect(steps).not.toContain('committed'); // refused before the commit point
    expect(snapshot(dir)).toEqual({ n: '5', other: 'old' });
    expect(leftovers(dir)).toEqual([]);
    expect(slow.state).toBe('failed');
  });

  it('without the condition the same interleaving loses an update (what the condition prevents)', async () => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, 'n'), '1');
    const a = begin({ dir });
    const b = begin({ dir });
    const ra = await a.read('n');
    const rb = await b.read('n');
    a.write('n', String(Number(ra.data) + 1));
    b.write('n', String(Number(rb.data) + 1));
    await a.commit();
    await b.commit();
    expect(snapshot(dir)).toEqual({ n: '2' }); // two increments, one survives
  });

  it('a content version holds across a rewrite with identical bytes (a new inode)', async () => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, 'n'), 'same');
    const tx = begin({ dir });
    const { version } = await tx.read('n');
    const before = fs.statSync(path.join(dir, 'n')).ino;
    const other = begin({ dir });
    other.write('n', 'same');
    await other.commit();
    expect(fs.statSync(path.join(dir, 'n')).ino).not.toBe(before);
    tx.write('n', 'next', { ifUnchanged: version });
    await tx.commit();
    expect(snapshot(dir)).toEqual({ n: 'next' });
  });

  it('a file read as absent must still be absent, and one read as present must still exist', async () => {
    const dir = tmpdir();
    const a = begin({ dir });
    const ra = await a.read('new');
    expect(ra).toEqual({ data: undefined, version: { exists: false } });
    a.write('new', 'a', { ifUnchanged: ra.version });
    fs.writeFileSync(path.join(dir, 'new'), 'someone else');
    await expect(a.commit()).rejects.toMatchObject({ code: codes.EPRECONDITION });

    const b = begin({ dir });
    const rb = await b.read('new');
    b.write('new', 'b', { ifUnchanged: rb.version });
    fs.unlinkSync(path.join(dir, 'new'));
    await expect(b.commit()).rejects.toMatchObject({ code: codes.EPRECONDITION, message: expect.stringMatching(/expected to exist/) });
    expect(snapshot(dir)).toEqual({});
    expect(leftovers(dir)).toEqual([]);
  });
});

describe('identity versions with tx.version()', () => {
  it('fails when the file was rewritten in place, even with the same size', async () => {
    const dir = tmpdir();
    const p = path.join(dir, 'f');
    fs.writeFileSync(p, 'aaaa');
    fs.utimesSync(p, new Date(1_000_000), new Date(1_000_000));
    const tx = begin({ dir });
    const v = await tx.version('f');
    expect(v).toMatchObject({ exists: true, size: 4, mtimeMs: 1_000_000, ino: String(fs.statSync(p).ino) });
    fs.writeFileSync(p, 'bbbb'); // same inode, same size, new mtime
    tx.write('f', 'mine', { ifUnchanged: v });
    await expect(tx.commit()).rejects.toMatchObject({ code: codes.EPRECONDITION, message: expect.stringMatching(/mtime/) });
    expect(fs.readFileSync(p, 'utf8')).toBe('bbbb');
  });

  it('fails when a commit replaced the file, even with identical bytes (a new inode)', async () => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, 'f'), 'x');
    const tx = begin({ dir });
    const v = await tx.version('f');
    const other = begin({ dir });
    other.write('f', 'x');
    await other.commit();
    tx.remove('f', { ifUnchanged: v });
    await expect(tx.commit()).rejects.toMatchObject({ code: codes.EPRECONDITION, message: expect.stringMatching(/inode/) });
    expect(snapshot(dir)).toEqual({ f: 'x' });
  });

  it('holds when nothing touched the file', async () => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, 'f'), 'x');
    const tx = begin({ dir });
    tx.remove('f', { ifUnchanged: await tx.version('f') });
    await tx.commit();
    expect(snapshot(dir)).toEqual({});
  });
});

describe('exclusive: create-only writes', () => {
  it('creates a missing file, and refuses when it exists at commit time', async () => {
    const dir = tmpdir();
    const a = begin({ dir });
    a.write('lock.json', 'a', { exclusive: true });
    const b = begin({ dir });
    b.writeJson('lock.json', { by: 'b' }, { exclusive: true });
    b.write('b-side', 'must not land');
    await a.commit();
    const refused = b.commit();
    await expect(refused).rejects.toMatchObject({ code: codes.EPRECONDITION, path: 'lock.json', message: expect.stringMatching(/exclusive \(create-only\).*expected not to exist/) });
    // Issue 12 item 15: nothing was read and a retry meets the same file, so the message says what exclusive refused.
    await expect(refused).rejects.toThrow(/refuses to replace an existing file.*Remove it first/);
    await expect(refused).rejects.not.toThrow(/since it was read|Read it again/);
    expect(snapshot(dir)).toEqual({ 'lock.json': 'a' });
    expect(leftovers(dir)).toEqual([]);
  });

  it('works for streams, and exclusive: false is no condition', async () => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, 's'), 'old');
    const tx = begin({ dir });
    const ws = tx.createWriteStream('s', { exclusive: true });
    ws.end('new');
    await expect(tx.commit()).rejects.toMatchObject({ code: codes.EPRECONDITION });
    const ok = begin({ dir });
    ok.write('s', 'new', { exclusive: false });
    await ok.commit();
    expect(snapshot(dir)).toEqual({ s: 'new' });
  });
});

describe('expect(): conditions on files the transaction does not write', () => {
  it('refuses outputs derived from an input that changed', async () => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, 'config.json'), '{"v":1}');
    const tx = begin({ dir });
    const config = await tx.read('config.json');
    tx.expect('config.json', config.version);
    tx.write('out/a.js', 'built from v1');
    fs.writeFileSync(path.join(dir, 'config.json'), '{"v":2}');
    await expect(tx.commit()).rejects.toMatchObject({ code: codes.EPRECONDITION, message: expect.stringMatching(/expect\(\) condition on 'config.json'/) });
    expect(snapshot(dir)).toEqual({ 'config.json': '{"v":2}' });
    expect(fs.existsSync(path.join(dir, 'out'))).toBe(false);
  });

  it('a transaction with only conditions still checks them at commit', async () => {
    const dir = tmpdir();
    const ok = begin({ dir });
    ok.expect('absent', { exists: false });
    await expect(ok.commit()).resolves.toMatchObject({ entries: 0 });
    fs.writeFileSync(path.join(dir, 'absent'), 'now here');
    const bad = begin({ dir });
    bad.expect('absent', { exists: false });
    await expect(bad.commit()).rejects.toMatchObject({ code: codes.EPRECONDITION });
    expect(leftovers(dir)).toEqual([]);
  });

  it('a hand-built { exists: true, sha256 } version compares content', async () => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, 'in'), 'abc');
    const tx = begin({ dir });
    tx.expect('in', { exists: true, sha256: sha256Of(Buffer.from('abd')) });
    tx.write('out', 'x');
    await expect(tx.commit()).rejects.toMatchObject({ code: codes.EPRECONDITION });
    const ok = begin({ dir });
    ok.expect('in', contentVersion(Buffer.from('abc')));
    ok.write('out', 'x');
    await ok.commit();
    expect(snapshot(dir)).toEqual({ in: 'abc', out: 'x' });
  });
});

describe('two processes doing read-modify-write never lose an update', () => {
  it('a commit in another process between our read and our commit fails ours with EPRECONDITION', async () => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, 'counter.json'), JSON.stringify({ items: ['seed'] }));
    const tx = begin({ dir });
    const { data, version } = await tx.read('counter.json');
    const child = await run('counter-worker.mjs', [dir, 'child', '1']);
    expect(child.status, child.stderr).toBe(0);
    const state = JSON.parse(String(data)) as { items: string[] };
    tx.writeJson('counter.json', { items: [...state.items, 'parent:0'] }, { ifUnchanged: version });
    await expect(tx.commit()).rejects.toMatchObject({ code: codes.EPRECONDITION });
    expect(readCounter(dir)).toEqual(['seed', 'child:0']);
  });

  it('two workers x 25 increments: every increment is in the final file exactly once', async () => {
    const dir = tmpdir();
    const n = 25;
    const results = await Promise.all(['a', 'b'].map((id) => run('counter-worker.mjs', [dir, id, String(n)])));
    for (const r of results) expect(r.status, r.stderr).toBe(0);
    const items = readCounter(dir);
    const expected = ['a', 'b'].flatMap((id) => Array.from({ length: n }, (_, i) => `${id}:${i}`));
    expect([...items].sort()).toEqual([...expected].sort());
    // Each worker's own increments land in order: a retry never reorders or duplicates them.
    for (const id of ['a', 'b']) expect(items.filter((x) => x.startsWith(`${id}:`))).toEqual(expected.filter((x) => x.startsWith(`${id}:`)));
    expect(results.flatMap((r) => jsonLines<{ done: number }>(r.stdout)).map((r) => r.done)).toEqual([n, n]);
    expect(leftovers(dir)).toEqual([]);
  });
});

describe('create-only across processes', () => {
  it('six processes race to create one file: exactly one wins, the others change nothing', async () => {
    const dir = tmpdir();
    const startAt = String(Date.now() + 800);
    const ids = ['p0', 'p1', 'p2', 'p3', 'p4', 'p5'];
    const results = await Promise.all(ids.map((id) => run('exclusive-create.mjs', [dir, id, startAt])));
    for (const r of results) expect(r.status, r.stderr).toBe(0);
    const outcomes = results.flatMap((r) => jsonLines<{ id: string; won?: boolean; code?: string }>(r.stdout));
    const winners = outcomes.filter((o) => o.won === true);
    expect(winners).toHaveLength(1);
    expect(outcomes.filter((o) => o.won !== true).map((o) => o.code)).toEqual(Array(ids.length - 1).fill(codes.EPRECONDITION));
    const winner = winners[0]?.id as string;
    // The winner's whole transaction landed, and nothing of any loser's.
    expect(snapshot(dir)).toEqual({ 'leader.json': JSON.stringify({ id: winner }), [`mine-${winner}`]: winner });
    expect(leftovers(dir)).toEqual([]);
  });
});

describe('read() and version() errors are typed', () => {
  it('a path through a file, an escaping symlink, a directory, and an fs error', async () => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, 'file'), 'x');
    fs.mkdirSync(path.join(dir, 'dir'));
    fs.symlinkSync('/', path.join(dir, 'esc'));
    const tx = begin({ dir });
    await expect(tx.read('file/x')).rejects.toMatchObject({ code: codes.ETARGET });
    await expect(tx.read('esc/etc/passwd')).rejects.toMatchObject({ code: codes.EBADPATH });
    await expect(tx.version('dir')).rejects.toMatchObject({ code: codes.ETARGET });
    await expect(tx.read('../x')).rejects.toMatchObject({ code: codes.EBADPATH });
    faults.hook = (e) => {
      if (e.kind === 'op' && e.op === 'readFile' && e.path.endsWith('/file')) throw Object.assign(new Error('EIO: injected'), { code: 'EIO' });
      if (e.kind === 'op' && e.op === 'lstat' && e.path.endsWith('/other')) throw Object.assign(new Error('EACCES: injected'), { code: 'EACCES' });
    };
    try {
      await expect(tx.read('file')).rejects.toMatchObject({ code: codes.EFS, cause: { code: 'EIO' } });
      await expect(tx.version('other')).rejects.toMatchObject({ code: codes.EFS, cause: { code: 'EACCES' } });
    } finally {
      faults.hook = undefined;
    }
    await tx.abort();
    expect(leftovers(dir)).toEqual([]);
  });
});

describe('validation: a version of the wrong shape is a TypeError, before anything is staged', () => {
  const bad: [string, unknown, string][] = [
    ['not an object', 'v1', 'ERR_INVALID_ARG_TYPE'],
    ['null', null, 'ERR_INVALID_ARG_TYPE'],
    ['exists missing', { ino: '1' }, 'ERR_INVALID_ARG_TYPE'],
    ['unknown key', { exists: true, ino: '1', inode: '1' }, 'ERR_INVALID_ARG_VALUE'],
    ['fields on an absent version', { exists: false, size: 0 }, 'ERR_INVALID_ARG_VALUE'],
    ['nothing to compare', { exists: true, size: 3 }, 'ERR_INVALID_ARG_VALUE'],
    ['ino not decimal', { exists: true, ino: '0x10' }, 'ERR_INVALID_ARG_VALUE'],
    ['ino an object', { exists: true, ino: {} }, 'ERR_INVALID_ARG_TYPE'],
    ['sha256 not hex', { exists: true, sha256: 'zz' }, 'ERR_INVALID_ARG_VALUE'],
    ['size negative', { exists: true, ino: '1', size: -1 }, 'ERR_INVALID_ARG_VALUE'],
    ['mtimeMs a string', { exists: true, ino: '1', mtimeMs: 'now' }, 'ERR_INVALID_ARG_TYPE'],
  ];
  it.each(bad)('%s', (_name, value, code) => {
    const dir = tmpdir();
    const tx = begin({ dir });
    expect(() => tx.write('f', 'x', { ifUnchanged: value as FileVersion })).toThrow(expect.objectContaining({ name: 'TypeError', code }));
    expect(() => tx.expect('f', value as FileVersion)).toThrow(TypeError);
    expect(fs.readdirSync(dir)).toEqual([]); // nothing staged, not even the home
  });

  it('exclusive must be a boolean', () => {
    const tx = begin({ dir: tmpdir() });
    expect(() => tx.write('f', 'x', { exclusive: 'yes' as unknown as boolean })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE', message: expect.stringMatching(/"yes"/) }));
  });

  it('a valid version is copied and frozen, with numbers normalised to decimal strings', () => {
    const input = { exists: true, ino: 12n as unknown as string, dev: 3 as unknown as string, size: 4, mtimeMs: 5.7 };
    const v = checkVersion(input, 'v');
    expect(v).toEqual({ exists: true, ino: '12', dev: '3', size: 4, mtimeMs: 5 });
    expect(Object.isFrozen(v)).toBe(true);
  });
});
