/**
 * Hostile input, table-driven: every class of bad path, data, option and journal gets its own
 * typed error, and nothing outside the root (nor inside it) changes.
 *
 * Each case runs in a fresh sandbox (test/helpers/sandbox.ts): a root full of traps (a symlink
 * escaping it, a symlink loop, a FIFO, ...) next to an `outside/` directory. The whole sandbox is
 * snapshotted without following symlinks before and after, and must be identical; the root's
 * `.txnfs/` must be empty afterwards.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { begin, codes, isTxnError, recover, transaction, type Transaction } from '../src/index.js';
import { encodeJournal, type Journal } from '../src/protocol/journal.js';
import { leftovers } from './helpers/tmp.js';
import { sandbox, tree, type Sandbox } from './helpers/sandbox.js';

type Expected =
  | { readonly txn: string; readonly cause?: string; readonly at: 'call' | 'commit' }
  | { readonly type: 'TypeError' | 'RangeError'; readonly code: string };

interface Case {
  readonly name: string;
  /** The bad call; `tx` is open on the sandbox's root. Return a promise for async failures. */
  readonly act: (tx: Transaction, s: Sandbox) => unknown;
  readonly expected: Expected;
}

const long = (n: number, ch = 'a'): string => ch.repeat(n);
const txn = (code: string, at: 'call' | 'commit', cause?: string): Expected => (cause === undefined ? { txn: code, at } : { txn: code, at, cause });
const typeError = (code = 'ERR_INVALID_ARG_TYPE'): Expected => ({ type: 'TypeError', code });
const rangeError = (): Expected => ({ type: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
const write = (p: unknown, data: unknown = 'x', options?: unknown) => (tx: Transaction) => {
  tx.write(p as string, data as string, options as undefined);
  return tx.commit();
};

const cases: Case[] = [
  // `..` escapes in every form
  { name: '.. escape', act: write('../outside/x'), expected: txn(codes.EBADPATH, 'call') },
  { name: '.. escape in the middle', act: write('dir/../../outside/x'), expected: txn(codes.EBADPATH, 'call') },
  { name: '.. escape after ./', act: write('./../x'), expected: txn(codes.EBADPATH, 'call') },
  { name: '.. alone', act: write('..'), expected: txn(codes.EBADPATH, 'call') },
  { name: 'backslash-dotdot is a plain name on POSIX, but ../ after it escapes', act: write('a\\..\\../../../x'), expected: txn(codes.EBADPATH, 'call') },
  // absolute paths
  { name: 'absolute path outside the root', act: (tx, s) => write(path.join(s.outside, 'x'))(tx), expected: txn(codes.EBADPATH, 'call') },
  { name: 'absolute path that climbs out of the root', act: (tx, s) => write(`${s.root}/../outside/x`)(tx), expected: txn(codes.EBADPATH, 'call') },
  { name: 'absolute path of a sibling with the root as prefix', act: (tx, s) => write(`${s.root}-evil/x`)(tx), expected: txn(codes.EBADPATH, 'call') },
  // NUL, empty, '.', the root itself, trailing separator
  { name: 'NUL byte', act: write('a\0b'), expected: txn(codes.EBADPATH, 'call') },
  { name: 'empty path', act: write(''), expected: txn(codes.EBADPATH, 'call') },
  { name: '. (the root itself)', act: write('.'), expected: txn(codes.EBADPATH, 'call') },
  { name: 'dir/.. (the root again)', act: write('dir/..'), expected: txn(codes.EBADPATH, 'call') },
  { name: 'trailing slash', act: write('newdir/'), expected: txn(codes.EBADPATH, 'call') },
  // txnfs's own records
  { name: 'inside .txnfs/', act: write('.txnfs/lock/owner'), expected: txn(codes.EBADPATH, 'call') },
  { name: 'inside a nested .txnfs/ (another root inside this one)', act: write('dir/.txnfs/x'), expected: txn(codes.EBADPATH, 'call') },
  { name: '.TXNFS in another case (case-folding filesystems)', act: write('.TxnFS/x'), expected: txn(codes.EBADPATH, 'call') },
  // very long names and paths: refused before anything is staged
  { name: 'a 256-byte name', act: write(long(256)), expected: txn(codes.EBADPATH, 'call', 'ENAMETOOLONG') },
  { name: 'a 255-character name of 3-byte characters (765 bytes)', act: write(long(255, '€')), expected: txn(codes.EBADPATH, 'call', 'ENAMETOOLONG') },
  { name: 'a 4,200-byte path', act: write(`${'d/'.repeat(2100)}x`), expected: txn(codes.EBADPATH, 'call', 'ENAMETOOLONG') },
  // symlinks
  { name: 'parent symlink escaping the root', act: write('esc/victim'), expected: txn(codes.EBADPATH, 'commit') },
  { name: 'parent symlink escaping the root, for a remove', act: (tx) => (tx.remove('esc/victim'), tx.commit()), expected: txn(codes.EBADPATH, 'commit') },
  { name: 'target that is a symlink inside the root', act: write('link-in'), expected: txn(codes.ETARGET, 'commit') },
  { name: 'target that is a symlink pointing outside', act: write('link-out'), expected: txn(codes.ETARGET, 'commit') },
  { name: 'remove of a symlink pointing outside', act: (tx) => (tx.remove('link-out'), tx.commit()), expected: txn(codes.ETARGET, 'commit') },
  { name: 'symlink loop in the parent chain', act: write('loop1/x'), expected: txn(codes.EBADPATH, 'commit', 'ELOOP') },
  { name: 'dangling symlink in the parent chain', act: write('dang/x'), expected: txn(codes.EBADPATH, 'commit') },
  // wrong kinds of file
  { name: 'a file where a parent directory is needed', act: write('file/x'), expected: txn(codes.ETARGET, 'commit') },
  { name: 'a file deeper where a parent directory is needed', act: write('file/x/y/z'), expected: txn(codes.ETARGET, 'commit') },
  { name: 'a directory where a file is', act: write('dir'), expected: txn(codes.ETARGET, 'commit') },
  { name: 'remove of a directory', act: (tx) => (tx.remove('dir'), tx.commit()), expected: txn(codes.ETARGET, 'commit') },
  { name: 'a FIFO as target', act: write('fifo'), expected: txn(codes.ETARGET, 'commit') },
  { name: 'one target is the parent of another', act: (tx) => (tx.write('p', 'x'), tx.write('p/q', 'y'), tx.commit()), expected: txn(codes.ETARGET, 'commit') },
  // non-string paths
  { name: 'path is a number', act: write(42), expected: typeError() },
  { name: 'path is null', act: write(null), expected: typeError() },
  { name: 'path is undefined', act: write(undefined), expected: typeError() },
  { name: 'path is a Buffer', act: write(Buffer.from('a')), expected: typeError() },
  { name: 'path is a URL object', act: (tx, s) => write(new URL(`file://${s.root}/a`))(tx), expected: typeError() },
  { name: 'remove() path is an array', act: (tx) => tx.remove(['a'] as unknown as string), expected: typeError() },
  // data of the wrong type
  { name: 'data is a number', act: write('a', 42), expected: typeError() },
  { name: 'data is null', act: write('a', null), expected: typeError() },
  { name: 'data is a plain object', act: write('a', { toString: () => 'x' }), expected: typeError() },
  { name: 'data is a boolean', act: write('a', true), expected: typeError() },
  { name: 'an iterable yielding numbers', act: write('a', [1, 2, 3]), expected: txn(codes.ESTAGE, 'commit') },
  { name: 'a stream that errors', act: write('a', new Readable({ read() { this.destroy(new Error('disk on fire')); } })), expected: txn(codes.ESTAGE, 'commit') },
  { name: 'an async iterable that throws', act: write('a', (async function* () { yield 'x'; throw new Error('source broke'); })()), expected: txn(codes.ESTAGE, 'commit') },
  { name: 'a write stream destroyed with an error', act: (tx) => (tx.createWriteStream('a').destroy(new Error('producer died')), tx.commit()), expected: txn(codes.ESTAGE, 'commit') },
  { name: 'writeJson of undefined', act: (tx) => tx.writeJson('a', undefined), expected: typeError() },
  // options of the wrong type
  { name: 'write options is a string', act: write('a', 'x', 'fast'), expected: typeError() },
  { name: 'write option mode is a string', act: write('a', 'x', { mode: '644' }), expected: typeError() },
  { name: 'write option mode out of range', act: write('a', 'x', { mode: 0o10000 }), expected: rangeError() },
  { name: 'write option mode not an integer', act: write('a', 'x', { mode: 1.5 }), expected: rangeError() },
  { name: 'unknown write option', act: write('a', 'x', { atomic: true }), expected: typeError('ERR_INVALID_ARG_VALUE') },
  { name: 'remove options is a number', act: (tx) => tx.remove('a', 1 as never), expected: typeError() },
  { name: 'ifUnchanged is a string', act: write('a', 'x', { ifUnchanged: 'v1' }), expected: typeError() },
  { name: 'writeJson spaces of the wrong kind is passed to JSON.stringify, an unknown key is not', act: (tx) => tx.writeJson('a', {}, { indent: 2 } as never), expected: typeError('ERR_INVALID_ARG_VALUE') },
];

/** Options of begin()/recover()/transaction(), checked without a transaction. */
const optionCases: { name: string; act: (s: Sandbox) => unknown; expected: Expected }[] = [
  { name: 'begin() options is a string', act: () => begin('out' as never), expected: typeError() },
  { name: 'dir is a number', act: () => begin({ dir: 5 as never }), expected: typeError() },
  { name: 'dir is empty', act: () => begin({ dir: '' }), expected: typeError('ERR_INVALID_ARG_VALUE') },
  { name: 'dir has a NUL byte', act: () => begin({ dir: 'a\0b' }), expected: typeError('ERR_INVALID_ARG_VALUE') },
  { name: 'durability is unknown', act: (s) => begin({ dir: s.root, durability: 'fast' as never }), expected: typeError('ERR_INVALID_ARG_VALUE') },
  { name: 'durability is a boolean', act: (s) => begin({ dir: s.root, durability: true as never }), expected: typeError() },
  { name: 'lockStale is a string', act: (s) => begin({ dir: s.root, lockStale: '10000' as never }), expected: typeError() },
  { name: 'lockStale below proper-lockfile minimum', act: (s) => begin({ dir: s.root, lockStale: 5 }), expected: rangeError() },
  { name: 'lockTimeout is NaN', act: (s) => begin({ dir: s.root, lockTimeout: Number.NaN }), expected: typeError() },
  { name: 'lockStale past the timer limit (2^31 ms)', act: (s) => begin({ dir: s.root, lockStale: 2 ** 31 }), expected: rangeError() },
  { name: 'concurrency is 0', act: (s) => begin({ dir: s.root, concurrency: 0 }), expected: rangeError() },
  { name: 'concurrency is fractional', act: (s) => begin({ dir: s.root, concurrency: 2.5 }), expected: rangeError() },
  { name: 'signal is not an AbortSignal', act: (s) => begin({ dir: s.root, signal: {} as never }), expected: typeError() },
  { name: 'a misspelled option', act: (s) => begin({ dir: s.root, durabilty: 'none' } as never), expected: typeError('ERR_INVALID_ARG_VALUE') },
  { name: 'recover() dryRun is a string', act: (s) => recover(s.root, { dryRun: 'yes' as never }), expected: typeError() },
  { name: 'recover() onProgress is not a function', act: (s) => recover(s.root, { onProgress: 1 as never }), expected: typeError() },
  { name: 'recover() dir is an object', act: () => recover({} as never), expected: typeError() },
  { name: 'transaction() without a function', act: (s) => transaction({ dir: s.root }, 'go' as never), expected: typeError() },
];

async function outcome(fn: () => unknown): Promise<unknown> {
  try {
    const r = fn();
    if (r instanceof Promise) await r;
  } catch (err) {
    return err;
  }
  return undefined;
}

function check(err: unknown, expected: Expected, threwSync: boolean): void {
  if ('txn' in expected) {
    expect(isTxnError(err), String(err)).toBe(true);
    expect(err).toMatchObject({ code: expected.txn });
    if (expected.cause !== undefined) expect((err as Error).cause).toMatchObject({ code: expected.cause });
    // 'call': refused by write()/remove() itself, before anything was staged.
    expect(threwSync ? 'call' : 'commit').toBe(expected.at);
  } else {
    expect(err).toBeInstanceOf(expected.type === 'TypeError' ? TypeError : RangeError);
    expect(err).toMatchObject({ code: expected.code });
    expect((err as Error).message).toMatch(/Received|Unknown option/); // quotes the bad value or key
  }
}

describe(`hostile input: ${cases.length + optionCases.length} classes, each with its error, nothing changed`, () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const s = sandbox();
    const before = tree(s.base, ['root/.txnfs']);
    const tx = begin({ dir: s.root });
    let threwSync = false;
    let err: unknown;
    try {
      const r = c.act(tx, s);
      if (r instanceof Promise) err = await r.then(() => undefined, (e: unknown) => e);
    } catch (e) {
      threwSync = true;
      err = e;
    }
    check(err, c.expected, threwSync);
    if (tx.state === 'open') await tx.abort();
    expect(tree(s.base, ['root/.txnfs'])).toEqual(before);
    expect(leftovers(s.root)).toEqual([]);
  });

  it.each(optionCases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const s = sandbox();
    const before = tree(s.base, ['root/.txnfs']);
    check(await outcome(() => c.act(s)), c.expected, false);
    expect(tree(s.base, ['root/.txnfs'])).toEqual(before);
    expect(leftovers(s.root)).toEqual([]);
  });

  it('the sandbox check can fail: a write through the escaping symlink would be seen', () => {
    const s = sandbox();
    const before = tree(s.base, ['root/.txnfs']);
    fs.writeFileSync(path.join(s.root, 'esc', 'victim'), 'overwritten');
    expect(tree(s.base, ['root/.txnfs'])).not.toEqual(before);
  });
});

describe('names that differ only by case (see also test/transaction/casefold.test.ts)', () => {
  it('two files on a case-sensitive filesystem; refused with ETARGET on a case-folding one', async () => {
    const s = sandbox();
    const probe = path.join(s.root, 'CaseProbe');
    fs.writeFileSync(probe, '');
    const caseInsensitive = fs.existsSync(path.join(s.root, 'caseprobe'));
    fs.unlinkSync(probe);
    const before = tree(s.base, ['root/.txnfs']);
    const tx = begin({ dir: s.root });
    tx.write('Readme', 'a');
    tx.write('README', 'b');
    if (caseInsensitive) {
      await expect(tx.commit()).rejects.toMatchObject({ code: codes.ETARGET });
      expect(tree(s.base, ['root/.txnfs'])).toEqual(before);
    } else {
      await tx.commit();
      expect(fs.readFileSync(path.join(s.root, 'Readme'), 'utf8')).toBe('a');
      expect(fs.readFileSync(path.join(s.root, 'README'), 'utf8')).toBe('b');
    }
  });
});

describe('hostile journals: recovery never writes outside the root and never deletes what it cannot trust', () => {
  interface Forged {
    readonly s: Sandbox;
    readonly staging: string;
    readonly journal: string;
  }

  /** Plant a dead transaction (no owner lock) whose journal has a valid checksum. */
  function forge(s: Sandbox, journal: Omit<Journal, 'id' | 'created'>, extra: (staging: string) => void = () => undefined, bytes?: (b: Buffer) => Buffer): Forged {
    const id = 'forged1';
    const staging = path.join(s.root, '.txnfs', `.txn-${id}`);
    // 0700, as txnfs makes it (whatever the umask): these forgeries test the journal, not the
    // staging dir's own mode (test/protocol/foreign-staging.test.ts does that).
    fs.mkdirSync(path.join(s.root, '.txnfs'), { recursive: true });
    fs.mkdirSync(staging, { mode: 0o700 });
    fs.mkdirSync(path.join(staging, 'files'));
    fs.writeFileSync(path.join(staging, 'files', '0'), 'FORGED');
    const encoded = encodeJournal({ id, created: Date.now(), ...journal });
    fs.writeFileSync(path.join(staging, 'journal'), bytes === undefined ? encoded : bytes(encoded));
    extra(staging);
    return { s, staging, journal: path.join(staging, 'journal') };
  }

  const writeEntry = (target: string) => ({ op: 'write' as const, target, staged: 0, existed: false, ino: null, stagedIno: '1', mode: 0o644, stagedSize: 6 });

  /** Recover, then check: outside unchanged, journal still there, commits refused until a person looks. */
  async function refused(f: Forged, list: 'corrupt' | 'failed'): Promise<void> {
    const outsideBefore = tree(f.s.outside);
    const journalBefore = fs.readFileSync(f.journal);
    const report = await recover(f.s.root);
    expect(report[list].map((t) => t.id)).toEqual(['forged1']);
    expect([...report.rolledForward, ...report.rolledBack, ...report.discarded]).toEqual([]);
    expect(tree(f.s.outside)).toEqual(outsideBefore);
    expect(fs.readFileSync(f.journal)).toEqual(journalBefore);
    const tx = begin({ dir: f.s.root });
    tx.write('innocent', 'x');
    await expect(tx.commit()).rejects.toMatchObject({ code: list === 'corrupt' ? codes.ECORRUPT : codes.EINCOMPLETE });
    expect(fs.existsSync(path.join(f.s.root, 'innocent'))).toBe(false);
  }

  it('a truncated journal is corrupt, kept', async () => {
    const s = sandbox();
    await refused(forge(s, { dirs: [], entries: [writeEntry('a')] }, undefined, (b) => b.subarray(0, b.length - 7)), 'corrupt');
  });

  it('a journal with a wrong checksum is corrupt, kept', async () => {
    const s = sandbox();
    await refused(forge(s, { dirs: [], entries: [writeEntry('a')] }, undefined, (b) => Buffer.from(b.toString('latin1').replace('"a"', '"b"'), 'latin1')), 'corrupt');
  });

  it.each([
    ['a .. target', '../outside/victim'],
    ['a .. in the middle', 'dir/../../outside/victim'],
    ['an absolute target', '/tmp/txnfs-forged-victim'],
    ['a target inside .txnfs', '.txnfs/lock'],
    ['an empty target', ''],
    ['a target with a NUL byte', 'a\0b'],
  ])('a checksummed journal with %s is corrupt, kept', async (_n, target) => {
    const s = sandbox();
    await refused(forge(s, { dirs: [], entries: [writeEntry(target)] }), 'corrupt');
    expect(fs.existsSync('/tmp/txnfs-forged-victim')).toBe(false);
  });

  it('a checksummed journal creating a .. directory is corrupt, kept', async () => {
    const s = sandbox();
    await refused(forge(s, { dirs: ['../outside/made'], entries: [writeEntry('a')] }), 'corrupt');
  });

  it('a checksummed journal writing through a parent symlink that points outside: refused, kept', async () => {
    const s = sandbox();
    await refused(forge(s, { dirs: [], entries: [writeEntry('esc/victim')] }), 'failed');
    expect(fs.readFileSync(path.join(s.outside, 'victim'), 'utf8')).toBe('victim');
  });

  it('a checksummed journal whose second entry leads through a symlink is refused whole: its first entry is not applied either', async () => {
    const s = sandbox();
    await refused(forge(s, { dirs: [], entries: [writeEntry('first-inside'), { ...writeEntry('esc/victim'), staged: 0 }] }), 'failed');
    expect(fs.existsSync(path.join(s.root, 'first-inside'))).toBe(false);
    expect(fs.readFileSync(path.join(s.outside, 'victim'), 'utf8')).toBe('victim');
  });

  it('a checksummed journal deleting through a parent symlink that points outside: refused, kept', async () => {
    const s = sandbox();
    const st = fs.statSync(path.join(s.outside, 'victim'), { bigint: true });
    const original = { ino: String(st.ino), size: Number(st.size), mtimeNs: String(st.mtimeNs) };
    const f = forge(s, { dirs: [], entries: [{ op: 'delete', target: 'esc/victim', staged: -1, existed: true, ...original, stagedIno: null, mode: null }] }, (staging) => {
      fs.mkdirSync(path.join(staging, 'backup'));
      fs.linkSync(path.join(s.outside, 'victim'), path.join(staging, 'backup', '0'));
    });
    await refused(f, 'failed');
  });

  it('a rolling-back journal whose created directory is reached through a symlink: the directory outside stays', async () => {
    const s = sandbox();
    forge(s, { dirs: ['esc/empty'], entries: [] }, (staging) => fs.writeFileSync(path.join(staging, 'rollback'), 'rollback\n'));
    const before = tree(s.outside);
    await recover(s.root);
    expect(tree(s.outside)).toEqual(before); // outside/empty still exists
    expect(fs.existsSync(path.join(s.outside, 'empty'))).toBe(true);
  });

  it('a staging dir that is a symlink to a directory outside is never followed', async () => {
    const s = sandbox();
    const fake = path.join(s.outside, 'fake-staging');
    fs.mkdirSync(path.join(fake, 'files'), { recursive: true });
    fs.writeFileSync(path.join(fake, 'files', '0'), 'FORGED');
    fs.writeFileSync(path.join(fake, 'journal'), encodeJournal({ id: 'evil', created: 1, dirs: [], entries: [] }));
    fs.writeFileSync(path.join(fake, 'rollback'), 'rollback\n');
    fs.mkdirSync(path.join(s.root, '.txnfs'));
    fs.symlinkSync(fake, path.join(s.root, '.txnfs', '.txn-evil'));
    const before = tree(s.outside);
    const report = await recover(s.root);
    expect(report.corrupt.map((t) => t.id)).toEqual(['evil']);
    expect(tree(s.outside)).toEqual(before); // journal, rollback marker and files outside untouched
    expect(fs.lstatSync(path.join(s.root, '.txnfs', '.txn-evil')).isSymbolicLink()).toBe(true);
  });

  it('a .txnfs home that is a symlink to a directory outside is refused by recover() and commit()', async () => {
    const s = sandbox();
    const fakeHome = path.join(s.outside, 'home');
    fs.mkdirSync(path.join(fakeHome, '.txn-x', 'files'), { recursive: true });
    fs.writeFileSync(path.join(fakeHome, '.txn-x', 'files', '0'), 'precious');
    fs.symlinkSync(fakeHome, path.join(s.root, '.txnfs'));
    const before = tree(s.outside);
    await expect(recover(s.root)).rejects.toMatchObject({ code: codes.ETARGET });
    const tx = begin({ dir: s.root });
    tx.write('a', 'x');
    await expect(tx.commit()).rejects.toMatchObject({ code: codes.ETARGET });
    expect(tree(s.outside)).toEqual(before);
  });
});
