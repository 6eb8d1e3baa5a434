import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { codes } from '../../src/errors.js';
import { faults } from '../../src/io/faults.js';
import { commitJournal, CorruptJournal, decodeJournal, encodeJournal, readJournal, writeJournalTmp, type DecodedJournal as Journal } from '../../src/protocol/journal.js';
import { errnoError } from '../helpers/errno.mjs';
import { mutate } from '../helpers/hook.js';
import { tmpdir } from '../helpers/tmp.js';

const journal: Journal = {
  id: 'abcDEF123_-x',
  created: 1_790_000_000_000,
  dirs: ['new', 'new/deep'],
  entries: [
    { op: 'write', target: 'a.json', staged: 0, existed: false, ino: null, stagedIno: '123', mode: 0o644, size: null, mtimeNs: null, stagedSize: 5, backup: null },
    { op: 'write', target: 'new/deep/b.csv', staged: 3, existed: true, ino: '18446744073709551615', stagedIno: '9', mode: 0o600, size: 12, mtimeNs: '1790000000123456789', stagedSize: 0, backup: 'link' },
    { op: 'delete', target: 'gone.txt', staged: -1, existed: true, ino: '77', stagedIno: null, mode: null, size: 0, mtimeNs: '-1', stagedSize: null, backup: 'copy' },
    { op: 'write', target: 'naïve ✓/x', staged: 4, existed: false, ino: null, stagedIno: '10', mode: 0o644, size: null, mtimeNs: null, stagedSize: 9007199254740991, backup: null },
  ],
};

function expectCorrupt(data: Uint8Array): void {
  expect(() => decodeJournal(data)).toThrow(CorruptJournal);
}

describe('journal encoding', () => {
  it('round-trips every field, including 64-bit inodes and non-ASCII names', () => {
    expect(decodeJournal(encodeJournal(journal))).toEqual(journal);
  });

  it('is byte for byte the documented form: a header line, then JSON.stringify of the body', () => {
    // Large enough to outgrow the encoder's first buffer, with names that take 3 bytes a character.
    const big: Journal = {
      ...journal,
      entries: Array.from({ length: 3000 }, (_, i) => ({
        op: 'write' as const,
        target: `dir/€€€€€€€€€€€€€€€€€€€€-"\\-${i}`,
        staged: i,
        existed: i % 2 === 1,
        ino: i % 2 === 1 ? String(i) : null,
        stagedIno: String(10 * i),
        mode: 0o644,
        size: i % 2 === 1 ? i : null,
        mtimeNs: i % 2 === 1 ? String(BigInt(i) * 1_000_000_007n) : null,
        stagedSize: i,
        backup: i % 2 === 1 ? (i % 3 === 0 ? ('copy' as const) : ('link' as const)) : null,
      })),
    };
    for (const j of [journal, big, { ...journal, entries: [] }]) {
      const entries = j.entries.map((e) => [e.op === 'write' ? 'w' : 'd', e.target, e.staged, e.existed ? 1 : 0, e.ino, e.stagedIno, e.mode, e.size, e.mtimeNs, e.stagedSize, e.backup === null ? null : e.backup === 'copy' ? 'c' : 'l']);
      const body = Buffer.from(JSON.stringify({ v: 2, id: j.id, created: j.created, dirs: j.dirs, entries }), 'utf8');
      const header = `txnfs-journal 2 ${body.length} ${createHash('sha256').update(body).digest('hex')}\n`;
      expect(encodeJournal(j).equals(Buffer.concat([Buffer.from(header, 'ascii'), body]))).toBe(true);
    }
  });

  it('rejects a truncation at every byte offset', () => {
    const bytes = encodeJournal(journal);
    for (let n = 0; n < bytes.length; n++) expectCorrupt(bytes.subarray(0, n));
    expect(decodeJournal(bytes)).toEqual(journal); // the full one still decodes
  });

  it('rejects one flipped bit at every position', () => {
    const bytes = encodeJournal(journal);
    let rejected = 0;
    for (let i = 0; i < bytes.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const copy = Buffer.from(bytes);
        copy[i] = (copy[i] as number) ^ (1 << bit);
        expect(() => decodeJournal(copy), `byte ${i} bit ${bit}`).toThrow(CorruptJournal);
        rejected++;
      }
    }
    expect(rejected).toBe(bytes.length * 8);
  });

  it('rejects trailing bytes and a second copy', () => {
    const bytes = encodeJournal(journal);
    expectCorrupt(Buffer.concat([bytes, Buffer.from(' ')]));
    expectCorrupt(Buffer.concat([bytes, bytes]));
  });

  it('detects damage only through the checksum when the body stays valid JSON', () => {
    // Same length, still valid JSON, different target: only the checksum can tell.
    const bytes = encodeJournal(journal);
    const forged = Buffer.from(bytes.toString('utf8').replace('"a.json"', '"b.json"'), 'utf8');
    expect(forged.length).toBe(bytes.length);
    expectCorrupt(forged);
  });

  it('skip-journal-checksum (a harness mutation) lets that forged journal through', async () => {
    const bytes = encodeJournal(journal);
    const forged = Buffer.from(bytes.toString('utf8').replace('"a.json"', '"b.json"'), 'utf8');
    const staging = path.join(tmpdir(), '.txn-forged');
    fs.mkdirSync(staging);
    fs.writeFileSync(path.join(staging, 'journal'), forged);
    await expect(readJournal(staging)).rejects.toThrow(/checksum mismatch/);
    mutate('skip-journal-checksum');
    expect((await readJournal(staging))?.entries[0]?.target).toBe('b.json');
  });

  it('a CorruptJournal is a TxnError with code ECORRUPT that says what to do', () => {
    try {
      decodeJournal(Buffer.from('nope'), '/x/journal');
      expect.unreachable();
    } catch (err) {
      expect(err).toMatchObject({ code: codes.ECORRUPT, path: '/x/journal' });
      expect((err as Error).message).toMatch(/inspect it/);
    }
  });
});

describe('journal validation (a checksummed but forged body)', () => {
  function withBody(body: unknown): Buffer {
    const text = Buffer.from(JSON.stringify(body));
    return Buffer.concat([Buffer.from(`txnfs-journal 1 ${text.length} ${createHash('sha256').update(text).digest('hex')}\n`), text]);
  }
  const good = { v: 1, id: 'x1', created: 1, dirs: [], entries: [['w', 'a', 0, 0, null, '5', 420]] };

  it('accepts the minimal valid body', () => {
    expect(decodeJournal(withBody(good)).entries).toHaveLength(1);
  });

  const forgeries: [string, unknown][] = [
    ['a target with ..', { ...good, entries: [['w', '../escape', 0, 0, null, '5', 420]] }],
    ['a target with an inner ..', { ...good, entries: [['w', 'a/../../escape', 0, 0, null, '5', 420]] }],
    ['an absolute target', { ...good, entries: [['w', '/etc/passwd', 0, 0, null, '5', 420]] }],
    ['a target in .txnfs', { ...good, entries: [['w', '.txnfs/lock', 0, 0, null, '5', 420]] }],
    ['a target in .TXNFS', { ...good, entries: [['w', 'sub/.TXNFS/x', 0, 0, null, '5', 420]] }],
    ['an empty target', { ...good, entries: [['w', '', 0, 0, null, '5', 420]] }],
    ['a target with a NUL', { ...good, entries: [['w', 'a\u0000b', 0, 0, null, '5', 420]] }],
    ['a trailing slash', { ...good, entries: [['w', 'a/', 0, 0, null, '5', 420]] }],
    ['a dir with ..', { ...good, dirs: ['..'] }],
    ['an unknown op', { ...good, entries: [['x', 'a', 0, 0, null, '5', 420]] }],
    ['a write without staged file', { ...good, entries: [['w', 'a', -1, 0, null, null, 420]] }],
    ['a bad inode', { ...good, entries: [['w', 'a', 0, 1, '12a', '5', 420]] }],
    ['existed without inode', { ...good, entries: [['d', 'a', -1, 1, null, null, null]] }],
    ['a mode out of range', { ...good, entries: [['w', 'a', 0, 0, null, '5', 0o10000]] }],
    ['a wrong version', { ...good, v: 2 }],
    ['a bad id', { ...good, id: '../x' }],
    ['entries not an array', { ...good, entries: {} }],
    ['an entry of wrong length', { ...good, entries: [['w', 'a', 0]] }],
  ];
  for (const [name, body] of forgeries) {
    it(`rejects ${name}`, () => expectCorrupt(withBody(body)));
  }
});

describe('journal version 2: the identity the roll-forward checks, and the backup kind', () => {
  function withBody(body: unknown, version = 2): Buffer {
    const text = Buffer.from(JSON.stringify(body));
    return Buffer.concat([Buffer.from(`txnfs-journal ${version} ${text.length} ${createHash('sha256').update(text).digest('hex')}\n`), text]);
  }
  const write = ['w', 'a', 0, 1, '7', '5', 420, 3, '1700000000000000001', 4, 'c'];
  const good = { v: 2, id: 'x1', created: 1, dirs: [], entries: [write, ['w', 'n', 1, 0, null, '6', 420, null, null, 0, null], ['d', 'g', -1, 1, '8', null, null, 0, '0', null, 'l']] };

  it('decodes the size, mtime, staged size and backup kind', () => {
    expect(decodeJournal(withBody(good)).entries).toEqual([
      { op: 'write', target: 'a', staged: 0, existed: true, ino: '7', stagedIno: '5', mode: 420, size: 3, mtimeNs: '1700000000000000001', stagedSize: 4, backup: 'copy' },
      { op: 'write', target: 'n', staged: 1, existed: false, ino: null, stagedIno: '6', mode: 420, size: null, mtimeNs: null, stagedSize: 0, backup: null },
      { op: 'delete', target: 'g', staged: -1, existed: true, ino: '8', stagedIno: null, mode: null, size: 0, mtimeNs: '0', stagedSize: null, backup: 'link' },
    ]);
  });

  it('still decodes a version 1 journal (left by an older txnfs): hard-link backups, no size or mtime', () => {
    const v1 = { v: 1, id: 'x1', created: 1, dirs: [], entries: [['w', 'a', 0, 1, '7', '5', 420]] };
    expect(decodeJournal(withBody(v1, 1)).entries[0]).toMatchObject({ existed: true, backup: 'link', size: null, mtimeNs: null, stagedSize: null });
  });

  const forgeries: [string, unknown][] = [
    ['a version 1 entry in a version 2 journal', { ...good, entries: [['w', 'a', 0, 0, null, '5', 420]] }],
    ['an original without a size', { ...good, entries: [['w', 'a', 0, 1, '7', '5', 420, null, '1', 4, 'l']] }],
    ['an original without an mtime', { ...good, entries: [['w', 'a', 0, 1, '7', '5', 420, 3, null, 4, 'l']] }],
    ['an mtime that is a number', { ...good, entries: [['w', 'a', 0, 1, '7', '5', 420, 3, 1, 4, 'l']] }],
    ['a negative size', { ...good, entries: [['w', 'a', 0, 1, '7', '5', 420, -3, '1', 4, 'l']] }],
    ['a size for a new file', { ...good, entries: [['w', 'a', 0, 0, null, '5', 420, 3, null, 4, null]] }],
    ['a write without its staged size', { ...good, entries: [['w', 'a', 0, 1, '7', '5', 420, 3, '1', null, 'l']] }],
    ['a delete with a staged size', { ...good, entries: [['d', 'a', -1, 1, '7', null, null, 3, '1', 0, 'l']] }],
    ['an unknown backup kind', { ...good, entries: [['w', 'a', 0, 1, '7', '5', 420, 3, '1', 4, 's']] }],
    ['a backup for a new file', { ...good, entries: [['w', 'a', 0, 0, null, '5', 420, null, null, 4, 'l']] }],
    ['an original without a backup', { ...good, entries: [['w', 'a', 0, 1, '7', '5', 420, 3, '1', 4, null]] }],
    ['a target with a lone surrogate', { ...good, entries: [['w', 'x\uD83D', 0, 0, null, '5', 420, null, null, 4, null]] }],
    ['a directory with a lone surrogate', { ...good, dirs: ['d\uDC00'] }],
    ['an unknown newer version', { ...good, v: 3 }],
  ];
  for (const [name, body] of forgeries) {
    it(`rejects ${name}`, () => expectCorrupt(withBody(body, name.includes('newer') ? 3 : 2)));
  }
});

/** journal.tmp written, fsynced (durable) and closed, as prepare() does in its round. */
async function writeJournal(dir: string, j: Journal, durable: boolean): Promise<void> {
  const f = await writeJournalTmp(dir, j);
  if (durable) await f.sync();
  await f.close();
}

describe('durable journal write (the commit point)', () => {
  it('writes journal.tmp, links it into place as journal (journal.tmp stays, for a rollback marker), and reads back', async () => {
    const dir = tmpdir();
    const ops: string[] = [];
    faults.hook = (e) => {
      if (e.kind === 'op' && e.op !== 'lstat' && e.op !== 'stat' && e.op !== 'fstat') ops.push(`${e.op} ${path.basename(e.path)}${'dest' in e && e.dest ? ` ${path.basename(e.dest)}` : ''}`);
    };
    try {
      await writeJournal(dir, journal, true);
      await commitJournal(dir, true);
    } finally {
      faults.hook = undefined;
    }
    // Order is the guarantee: bytes fsynced before the new name, the directory fsynced after it.
    expect(ops).toEqual(['create journal.tmp', 'write journal.tmp', 'fsync journal.tmp', 'close journal.tmp', 'link journal.tmp journal', `fsyncDir ${path.basename(dir)}`]);
    expect(fs.statSync(path.join(dir, 'journal.tmp')).ino).toBe(fs.statSync(path.join(dir, 'journal')).ino);
    expect(await readJournal(dir)).toEqual(journal);
  });

  it('with durability none, writes the same bytes without any fsync', async () => {
    const dir = tmpdir();
    const syncs: string[] = [];
    faults.hook = (e) => {
      if (e.kind === 'op' && (e.op === 'fsync' || e.op === 'fsyncDir')) syncs.push(e.path);
    };
    try {
      await writeJournal(dir, journal, false);
      await commitJournal(dir, false);
    } finally {
      faults.hook = undefined;
    }
    expect(syncs).toEqual([]);
    expect(await readJournal(dir)).toEqual(journal);
  });

  // One list of "no hard link here" errnos (src/io/links.ts); before it, this caller lacked EMLINK
  // and failed a commit that the rename below finishes.
  it.each(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EMLINK'])('link refused with %s: a rollback.tmp is made first, then journal.tmp is renamed to journal', async (code) => {
    const dir = tmpdir();
    await writeJournal(dir, journal, true);
    faults.hook = (e) => {
      if (e.kind === 'op' && e.op === 'link') throw errnoError(code, 'link', e.path);
    };
    try {
      await commitJournal(dir, true);
    } finally {
      faults.hook = undefined;
    }
    expect(fs.readdirSync(dir).sort()).toEqual(['journal', 'rollback.tmp']);
    expect(await readJournal(dir)).toEqual(journal);
  });

  it('any other link error (EIO, ENOSPC) is a real failure: no journal, journal.tmp left as it was', async () => {
    for (const code of ['EIO', 'ENOSPC']) {
      const dir = tmpdir();
      await writeJournal(dir, journal, true);
      faults.hook = (e) => {
        if (e.kind === 'op' && e.op === 'link') throw errnoError(code, 'link', e.path);
      };
      try {
        await expect(commitJournal(dir, true)).rejects.toMatchObject({ code });
      } finally {
        faults.hook = undefined;
      }
      expect(fs.readdirSync(dir)).toEqual(['journal.tmp']);
    }
  });

  it('readJournal: undefined when absent, CorruptJournal when damaged', async () => {
    const dir = tmpdir();
    expect(await readJournal(dir)).toBeUndefined();
    fs.writeFileSync(path.join(dir, 'journal'), encodeJournal(journal).subarray(0, 50));
    await expect(readJournal(dir)).rejects.toBeInstanceOf(CorruptJournal);
  });
});
