import { describe, expect, it } from 'vitest';
import { PackedEntries } from '../../src/protocol/entries.js';
import { decodeJournal, encodeJournal, type JournalEntry } from '../../src/protocol/journal.js';

/** Above 2^53: a double cannot hold it exactly (XFS and btrfs inode numbers can be this large). */
const BIG_INO = 2n ** 60n + 7n;

function sample(likely?: readonly string[]): { packed: PackedEntries; plain: JournalEntry[] } {
  const packed = new PackedEntries(5, likely);
  packed.addWrite('a.json', 0, undefined, 101n, 3, 0o644);
  packed.addWrite('dir/b.csv', 1, { ino: 55n, size: 10, mtimeNs: 1_700_000_000_123_456_789n }, 102n, 4, 0o600);
  packed.addDelete('gone.txt', { ino: 77n, size: 0, mtimeNs: -5n });
  packed.addWrite('big/x', 2, { ino: BIG_INO, size: 2 ** 40, mtimeNs: 1n }, BIG_INO + 1n, 0, 0o640);
  packed.markCopy(2);
  const plain: JournalEntry[] = [
    { op: 'write', target: 'a.json', staged: 0, existed: false, ino: null, stagedIno: '101', mode: 0o644, size: null, mtimeNs: null, stagedSize: 3, backup: null },
    { op: 'write', target: 'dir/b.csv', staged: 1, existed: true, ino: '55', stagedIno: '102', mode: 0o600, size: 10, mtimeNs: '1700000000123456789', stagedSize: 4, backup: 'link' },
    { op: 'delete', target: 'gone.txt', staged: -1, existed: true, ino: '77', stagedIno: null, mode: null, size: 0, mtimeNs: '-5', stagedSize: null, backup: 'copy' },
    { op: 'write', target: 'big/x', staged: 2, existed: true, ino: String(BIG_INO), stagedIno: String(BIG_INO + 1n), mode: 0o640, size: 2 ** 40, mtimeNs: '1', stagedSize: 0, backup: 'link' },
  ];
  return { packed, plain };
}

describe('PackedEntries', () => {
  it('gives back, by index and by iteration, the entries an array of objects would hold', () => {
    const { packed, plain } = sample();
    expect(packed.length).toBe(4);
    expect([...packed]).toEqual(plain);
    plain.forEach((e, i) => expect(packed.at(i)).toEqual(e));
  });

  it('answers target() and existed() per entry without building it', () => {
    const { packed, plain } = sample();
    plain.forEach((e, i) => {
      expect(packed.target(i)).toBe(e.target);
      expect(packed.existed(i)).toBe(e.existed);
    });
  });

  it('keeps inode numbers above 2^53 exact', () => {
    const { packed } = sample();
    expect(packed.at(3)?.ino).toBe('1152921504606846983');
    expect(packed.at(3)?.stagedIno).toBe('1152921504606846984');
  });

  it('answers at() like an array: negative from the end, undefined out of range', () => {
    const { packed, plain } = sample();
    expect(packed.at(-1)).toEqual(plain[3]);
    expect(packed.at(4)).toBeUndefined();
    expect(packed.at(-5)).toBeUndefined();
    expect(packed.at(1.5)).toBeUndefined();
  });

  it('refuses more entries than it was made for', () => {
    const packed = new PackedEntries(1);
    packed.addDelete('a', { ino: 1n, size: 0, mtimeNs: 0n });
    expect(() => packed.addDelete('b', { ino: 2n, size: 0, mtimeNs: 0n })).toThrow(RangeError);
    expect(packed.length).toBe(1);
  });

  it('encodes to the same journal bytes as the objects it stands for', () => {
    const { packed, plain } = sample();
    const journal = { id: 'j1', created: 5, dirs: ['dir', 'big'] };
    const bytes = encodeJournal({ ...journal, entries: packed });
    expect(bytes.equals(encodeJournal({ ...journal, entries: plain }))).toBe(true);
    expect(decodeJournal(bytes).entries).toEqual(plain);
  });

  describe('given the targets it will likely hold (the plan\'s, in order)', () => {
    it.each([
      ['all of them, in order', ['a.json', 'dir/b.csv', 'gone.txt', 'big/x']],
      ['one that differs', ['a.json', 'dir/B.csv', 'gone.txt', 'big/x']],
      ['one entry fewer than expected (a removal of nothing is skipped)', ['a.json', 'dir/b.csv', 'absent', 'gone.txt', 'big/x']],
      ['a different first one', ['z', 'dir/b.csv', 'gone.txt', 'big/x']],
      ['fewer than it holds', ['a.json']],
    ])('%s: the same entries and targets', (_name, likely) => {
      const given = [...likely];
      const { packed, plain } = sample(likely);
      expect([...packed]).toEqual(plain);
      plain.forEach((e, i) => expect(packed.target(i)).toBe(e.target));
      // What it was given is left as it was.
      expect(likely).toEqual(given);
    });

    it('keeps no array of targets of its own while they match', () => {
      // 200 commits of 2,000 entries: with arrays of their own, 200 x 16 KB of heap; sharing the
      // plan's, only the instances (their columns are typed arrays, outside the heap).
      const likely = Array.from({ length: 2000 }, (_, k) => `f${k}`);
      const kept: PackedEntries[] = [];
      const before = process.memoryUsage().heapUsed;
      for (let c = 0; c < 200; c++) {
        const packed = new PackedEntries(likely.length, likely);
        for (let k = 0; k < likely.length; k++) packed.addWrite(likely[k] as string, k, undefined, 101n, 3, 0o644);
        kept.push(packed);
      }
      expect(process.memoryUsage().heapUsed - before).toBeLessThan(1.5 * 1024 * 1024);
      expect(kept.every((p) => p.length === 2000 && p.target(1999) === 'f1999')).toBe(true);
    });
  });
});
