import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { codes } from '../../src/errors.js';
import { checkTarget, isJournalTarget, Resolver } from '../../src/transaction/paths.js';
import { tmpdir } from '../helpers/tmp.js';

describe('checkTarget (lexical, before any write)', () => {
  const root = '/data/out';
  it('normalises relative and absolute paths inside the root', () => {
    expect(checkTarget(root, 'a.json')).toEqual({ rel: 'a.json' });
    expect(checkTarget(root, './x/../y/z.txt')).toEqual({ rel: 'y/z.txt' });
    expect(checkTarget(root, '/data/out/sub/f')).toEqual({ rel: 'sub/f' });
    expect(checkTarget(root, 'a\\b').rel).toBe('a\\b'); // a legal file name on POSIX
  });

  const refused: [string, unknown, string][] = [
    ['empty', '', codes.EBADPATH],
    ['NUL byte', 'a\0b', codes.EBADPATH],
    ['the root itself', '.', codes.EBADPATH],
    ['the root via ..', 'a/..', codes.EBADPATH],
    ['escape with ..', '../x', codes.EBADPATH],
    ['escape deep', 'a/b/../../../x', codes.EBADPATH],
    ['absolute outside', '/etc/passwd', codes.EBADPATH],
    ['sibling with shared prefix', '/data/out2/x', codes.EBADPATH],
    ['trailing slash', 'dir/', codes.EBADPATH],
    ['inside .txnfs', '.txnfs/lock', codes.EBADPATH],
    ['inside .TxnFS (case folded)', '.TxnFS/x', codes.EBADPATH],
    ['a nested .txnfs', 'sub/.txnfs/x', codes.EBADPATH],
    ['.txnfs itself', '.txnfs', codes.EBADPATH],
    ['a 256-byte name', 'n'.repeat(256), codes.EBADPATH],
    ['a 128-char two-byte name (256 bytes)', 'é'.repeat(128), codes.EBADPATH],
    ['a path over 4095 bytes', `${'d'.repeat(200)}/`.repeat(21) + 'f', codes.EBADPATH],
  ];
  for (const [name, input, code] of refused) {
    it(`refuses ${name} with ${code}`, () => {
      expect(() => checkTarget(root, input)).toThrow(expect.objectContaining({ code, name: 'TxnError' }));
    });
  }

  it('gives the same answer as resolve + relative for every form of path (the plain-path shortcut included)', () => {
    const inputs = ['a', 'a/b/c.txt', '.hidden', '...', 'a/...', '..a', 'a..', 'a/.b', './a', 'a/./b', 'a/../b', 'a//b', '/data/out/a', 'a\\b', 'x/y/..z', 'é/€/😀'];
    for (const r of [root, '/']) {
      for (const input of inputs) {
        expect(checkTarget(r, input).rel, `${r} + ${input}`).toBe(path.relative(r, path.resolve(r, input)));
      }
    }
  });

  it('counts bytes, not characters, at NAME_MAX and PATH_MAX on the plain-path shortcut too', () => {
    expect(checkTarget(root, '€'.repeat(85)).rel).toHaveLength(85); // 255 bytes
    expect(() => checkTarget(root, '€'.repeat(86))).toThrow(expect.objectContaining({ code: codes.EBADPATH }));
    expect(checkTarget(root, '😀'.repeat(63)).rel).toHaveLength(126); // 252 bytes in 126 UTF-16 units
    expect(() => checkTarget(root, '😀'.repeat(64))).toThrow(expect.objectContaining({ code: codes.EBADPATH }));
    // '/data/out/' is 10 bytes: 4,085 bytes of path make 4,095 in all, one more is too long.
    const name = (n: number): string => `${'d'.repeat(200)}/`.repeat(Math.floor(n / 201)) + 'f'.repeat(n % 201);
    expect(checkTarget(root, name(4085)).rel).toHaveLength(4085);
    expect(() => checkTarget(root, name(4086))).toThrow(expect.objectContaining({ code: codes.EBADPATH }));
    expect(checkTarget('/', name(4094)).rel).toHaveLength(4094);
    expect(() => checkTarget('/', name(4095))).toThrow(expect.objectContaining({ code: codes.EBADPATH }));
  });

  it('refuses a reserved name anywhere in a plain path, in any case', () => {
    for (const input of ['a/.TxNfS/b', 'a/b/.txnfs', '.TXNFS/x']) {
      expect(() => checkTarget(root, input), input).toThrow(expect.objectContaining({ code: codes.EBADPATH }));
    }
    expect(checkTarget(root, 'a/.txnfs2/b').rel).toBe('a/.txnfs2/b');
  });

  it('accepts a 255-byte name', () => {
    expect(checkTarget(root, 'n'.repeat(255)).rel).toHaveLength(255);
  });

  it('refuses non-strings with a TypeError that quotes the value', () => {
    expect(() => checkTarget(root, 42)).toThrow(TypeError);
    expect(() => checkTarget(root, 42)).toThrow(/Received 42 \(type number\)/);
    expect(() => checkTarget(root, null)).toThrow(/Received null \(type null\)/);
    expect(() => checkTarget(root, Buffer.from('x'))).toThrow(TypeError);
  });

  it('a too-long name carries an ENAMETOOLONG cause', () => {
    try {
      checkTarget(root, 'n'.repeat(300));
      expect.unreachable();
    } catch (err) {
      expect((err as Error).cause).toMatchObject({ code: 'ENAMETOOLONG' });
    }
  });
});

describe('isJournalTarget', () => {
  it('accepts clean relative paths only', () => {
    for (const ok of ['a', 'a/b/c.txt', 'é/ü', 'a\\b']) expect(isJournalTarget(ok), ok).toBe(true);
    for (const bad of ['', '/a', 'a//b', './a', 'a/./b', '../a', 'a/..', '.txnfs/x', 'x/.TXNFS', 'a\0', 'a/', 3, null]) {
      expect(isJournalTarget(bad), String(bad)).toBe(false);
    }
  });
});

describe('Resolver (under the root lock)', () => {
  function setup(): { root: string; outside: string; resolver: Resolver } {
    const base = tmpdir();
    const root = path.join(base, 'root');
    const outside = path.join(base, 'outside');
    fs.mkdirSync(root);
    fs.mkdirSync(outside);
    return { root, outside, resolver: new Resolver(root, BigInt(fs.statSync(root).dev)) };
  }

  it('resolves an existing file, a new file, and lists missing parents first to last', async () => {
    const { root, resolver } = setup();
    fs.writeFileSync(path.join(root, 'f'), 'x');
    const existing = await resolver.target('f');
    expect(existing.rel).toBe('f');
    expect(existing.existing?.kind).toBe('file');
    expect(await resolver.target('new')).toEqual({ rel: 'new', existing: undefined, missingDirs: [] });
    expect((await resolver.target('a/b/c/d.txt')).missingDirs).toEqual(['a', 'a/b', 'a/b/c']);
  });

  it('follows a symlinked parent that stays inside the root, to its real path', async () => {
    const { root, resolver } = setup();
    fs.mkdirSync(path.join(root, 'real'));
    fs.symlinkSync('real', path.join(root, 'alias'));
    expect((await resolver.target('alias/x')).rel).toBe('real/x');
  });

  const refusals: [string, (root: string, outside: string) => void, string, string][] = [
    ['a parent symlink leaving the root', (r, o) => fs.symlinkSync(o, path.join(r, 'link')), 'link/x', codes.EBADPATH],
    ['a parent symlink into .txnfs', (r) => {
      fs.mkdirSync(path.join(r, '.txnfs'));
      fs.symlinkSync('.txnfs', path.join(r, 'sneaky'));
    }, 'sneaky/lock', codes.EBADPATH],
    ['a dangling parent symlink', (r) => fs.symlinkSync('nowhere', path.join(r, 'dangling')), 'dangling/x', codes.EBADPATH],
    ['a symlink loop', (r) => {
      fs.symlinkSync('loop2', path.join(r, 'loop1'));
      fs.symlinkSync('loop1', path.join(r, 'loop2'));
    }, 'loop1/x', codes.EBADPATH],
    ['a parent that is a file', (r) => fs.writeFileSync(path.join(r, 'file'), 'x'), 'file/x', codes.ETARGET],
    ['a grandparent that is a file', (r) => fs.writeFileSync(path.join(r, 'file'), 'x'), 'file/sub/x', codes.ETARGET],
    ['a target that is a directory', (r) => fs.mkdirSync(path.join(r, 'dir')), 'dir', codes.ETARGET],
    ['a target that is a symlink', (r) => {
      fs.writeFileSync(path.join(r, 'real'), 'x');
      fs.symlinkSync('real', path.join(r, 'link'));
    }, 'link', codes.ETARGET],
    ['a target that is a FIFO', (r) => execFileSync('mkfifo', [path.join(r, 'fifo')]), 'fifo', codes.ETARGET],
  ];
  for (const [name, arrange, target, code] of refusals) {
    it(`refuses ${name} (${code})`, async () => {
      const { root, outside, resolver } = setup();
      arrange(root, outside);
      await expect(resolver.target(target)).rejects.toMatchObject({ code });
      expect(fs.readdirSync(outside)).toEqual([]);
    });
  }

  it('refuses a parent on another device (ECROSSDEV), judged by the home device', async () => {
    const { root } = setup();
    fs.mkdirSync(path.join(root, 'sub'));
    const resolver = new Resolver(root, BigInt(fs.statSync(root).dev) + 1n);
    await expect(resolver.target('sub/x')).rejects.toMatchObject({ code: codes.ECROSSDEV });
  });

  it('resolves each parent directory once', async () => {
    const { root, resolver } = setup();
    fs.mkdirSync(path.join(root, 'd'));
    const { faults } = await import('../../src/io/faults.js');
    const realpaths: string[] = [];
    faults.hook = (e) => {
      if (e.kind === 'op' && e.op === 'realpath') realpaths.push(e.path);
    };
    try {
      await Promise.all(Array.from({ length: 50 }, (_, i) => resolver.target(`d/f${i}`)));
    } finally {
      faults.hook = undefined;
    }
    expect(realpaths).toEqual([path.join(root, 'd')]);
  });

  describe('a directory that receives many targets is listed once instead of lstat-ing each', () => {
    /** Resolve `rels` after `expect(rels)`; returns the results and the reads the seam saw. */
    async function resolveAll(resolver: Resolver, rels: string[], fail?: string): Promise<{ results: Awaited<ReturnType<Resolver['target']>>[]; ops: string[] }> {
      const { faults } = await import('../../src/io/faults.js');
      const { errnoError } = await import('../helpers/errno.mjs');
      const ops: string[] = [];
      faults.hook = (e) => {
        if (e.kind !== 'op') return;
        ops.push(`${e.op} ${path.basename(e.path)}`);
        if (e.op === fail) throw errnoError('EACCES', e.op, e.path);
      };
      try {
        resolver.expect(rels);
        const results = await Promise.all(rels.map((r) => resolver.target(r)));
        return { results, ops };
      } finally {
        faults.hook = undefined;
      }
    }

    it('finds the existing targets and only lstats those', async () => {
      const { root, resolver } = setup();
      fs.mkdirSync(path.join(root, 'd'));
      for (const name of ['f3', 'f7', 'unrelated']) fs.writeFileSync(path.join(root, 'd', name), name);
      const rels = Array.from({ length: 20 }, (_, i) => `d/f${i}`);
      const { results, ops } = await resolveAll(resolver, rels);
      expect(results.filter((r) => r.existing !== undefined).map((r) => r.rel)).toEqual(['d/f3', 'd/f7']);
      expect(results.every((r) => r.existing === undefined || r.existing.kind === 'file')).toBe(true);
      expect(ops.filter((o) => o.startsWith('readdir'))).toEqual(['readdir d']);
      expect(ops.filter((o) => o.startsWith('lstat')).sort()).toEqual(['lstat f3', 'lstat f7']);
    });

    it('still refuses a target that is a directory or a symlink', async () => {
      const { root, resolver } = setup();
      fs.mkdirSync(path.join(root, 'f5'));
      const rels = Array.from({ length: 20 }, (_, i) => `f${i}`);
      resolver.expect(rels);
      await expect(Promise.all(rels.map((r) => resolver.target(r)))).rejects.toMatchObject({ code: codes.ETARGET, path: 'f5' });
    });

    it('lstats a target that another spelling of a listed name could be (case-folding filesystems)', async () => {
      const { root, resolver } = setup();
      fs.writeFileSync(path.join(root, 'Readme'), 'r');
      fs.writeFileSync(path.join(root, 'Cafe\u0301'), 'c');
      const rels = ['README', 'readme', 'café', ...Array.from({ length: 20 }, (_, i) => `n${i}`)];
      const { ops } = await resolveAll(resolver, rels);
      // This filesystem is case-sensitive, so they are new files; what matters is that each one
      // that a case- or normalisation-insensitive filesystem could match was asked about.
      expect(ops.filter((o) => o.startsWith('lstat')).sort()).toEqual(['lstat README', 'lstat café', 'lstat readme']);
    });

    it('lstats each target of a directory too big for its share of targets', async () => {
      const { root, resolver } = setup();
      fs.mkdirSync(path.join(root, 'big'));
      for (let i = 0; i < 3000; i++) fs.writeFileSync(path.join(root, 'big', `existing-file-${i}`), '');
      const rels = Array.from({ length: 20 }, (_, i) => `big/f${i}`);
      const { results, ops } = await resolveAll(resolver, rels);
      expect(results.every((r) => r.existing === undefined)).toBe(true);
      expect(ops.filter((o) => o.startsWith('readdir'))).toEqual([]);
      expect(ops.filter((o) => o.startsWith('lstat'))).toHaveLength(20);
    });

    it('falls back to an lstat per target when the directory cannot be read', async () => {
      const { root, resolver } = setup();
      fs.writeFileSync(path.join(root, 'f2'), 'x');
      const rels = Array.from({ length: 20 }, (_, i) => `f${i}`);
      const { results, ops } = await resolveAll(resolver, rels, 'readdir');
      expect(results.filter((r) => r.existing !== undefined).map((r) => r.rel)).toEqual(['f2']);
      expect(ops.filter((o) => o.startsWith('lstat'))).toHaveLength(20);
    });
  });
});
