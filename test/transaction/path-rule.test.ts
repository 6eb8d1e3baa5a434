/**
 * One path rule for a commit and its recovery (issue 12, items 4 and 7): a target the commit
 * accepts is one the journal decoder accepts, and a string that the filesystem would store under
 * another name (a lone UTF-16 surrogate) is refused at every entry point.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { begin, codes, recover, writeFile } from '../../src/index.js';
import { faults } from '../../src/io/faults.js';
import { decodeJournal } from '../../src/protocol/journal.js';
import { checkTarget, isJournalTarget } from '../../src/transaction/paths.js';
import { leftovers, snapshot, tmpdir } from '../helpers/tmp.js';

describe('a target reached through a symlink into a nested .txnfs directory', () => {
  it('the issue: the commit refuses it (EBADPATH) before its commit point, instead of writing a journal recovery calls corrupt', async () => {
    const root = tmpdir();
    fs.mkdirSync(path.join(root, 'sub'));
    await writeFile(path.join(root, 'sub', 'note.txt'), 'n');
    fs.mkdirSync(path.join(root, 'sub', '.txnfs'), { recursive: true }); // as a single-file write leaves it
    fs.symlinkSync(path.join(root, 'sub', '.txnfs'), path.join(root, 'link'));
    const tx = begin({ dir: root });
    void tx.write('link/x', 'data');
    await expect(tx.commit()).rejects.toMatchObject({ code: codes.EBADPATH });
    expect(fs.readdirSync(path.join(root, 'sub', '.txnfs'))).toEqual([]);
    expect(leftovers(root)).toEqual([]);
    // And the root is not blocked: the next commit goes through.
    const next = begin({ dir: root });
    void next.write('ok.txt', 'ok');
    await next.commit();
    expect((await recover(root)).corrupt).toEqual([]);
  });

  it('any target a commit accepts, its journal decodes (and any it cannot journal, it refuses)', async () => {
    const root = tmpdir();
    fs.mkdirSync(path.join(root, 'sub', 'deep'), { recursive: true });
    fs.mkdirSync(path.join(root, 'sub', '.txnfs'));
    fs.mkdirSync(path.join(root, 'sub', 'deep', '.TxnFS'));
    const links: Record<string, string> = {
      'to-sub': 'sub',
      'to-nested-home': 'sub/.txnfs',
      'to-folded-home': 'sub/deep/.TxnFS',
      'to-root-home': '.txnfs',
      'to-deep': 'sub/deep',
    };
    fs.mkdirSync(path.join(root, '.txnfs'), { recursive: true });
    for (const [name, to] of Object.entries(links)) fs.symlinkSync(path.join(root, to), path.join(root, name));
    const candidates = ['plain', 'sub/x', ...Object.keys(links).flatMap((l) => [`${l}/x`, `${l}/new/y`])];
    const accepted: string[] = [];
    for (const target of candidates) {
      let journalError: unknown = 'not reached';
      faults.hook = (e) => {
        if (e.kind !== 'step' || e.name !== 'committed') return;
        const home = path.join(root, '.txnfs');
        const staging = fs.readdirSync(home).find((n) => n.startsWith('.txn-') && !n.endsWith('.lock')) as string;
        try {
          decodeJournal(fs.readFileSync(path.join(home, staging, 'journal')));
          journalError = undefined;
        } catch (err) {
          journalError = err;
        }
      };
      try {
        const tx = begin({ dir: root });
        void tx.write(target, 'v');
        // A second file, so the commit is journaled: one written file alone commits by its rename.
        void tx.write('companion', 'c');
        const ok = await tx.commit().then(
          () => true,
          (err: { code?: string }) => {
            expect([codes.EBADPATH, codes.ETARGET], `${target}: ${String(err)}`).toContain(err.code);
            return false;
          },
        );
        if (ok) {
          expect(journalError, target).toBeUndefined();
          accepted.push(target);
        }
      } finally {
        faults.hook = undefined;
      }
    }
    expect(accepted.sort()).toEqual(['plain', 'sub/x', 'to-deep/new/y', 'to-deep/x', 'to-sub/new/y', 'to-sub/x'].sort());
    // One written file alone (committed by its rename, src/protocol/direct.ts) is held to the
    // same rule: the same targets are accepted, and none lands in a home.
    const alone: string[] = [];
    for (const target of candidates) {
      const tx = begin({ dir: root });
      void tx.write(target, 'w');
      const ok = await tx.commit().then(() => true, (err: { code?: string }) => {
        expect([codes.EBADPATH, codes.ETARGET], `${target}: ${String(err)}`).toContain(err.code);
        return false;
      });
      if (ok) alone.push(target);
    }
    expect(alone.sort()).toEqual(accepted);
    for (const home of ['.txnfs', 'sub/.txnfs', 'sub/deep/.TxnFS']) {
      const listed = fs.existsSync(path.join(root, home)) ? fs.readdirSync(path.join(root, home)) : [];
      expect(listed, home).toEqual([]);
    }
  });
});

describe('lone UTF-16 surrogates are refused at every path entry point (EBADPATH)', () => {
  const lone = ['x\uD83D', 'x\uD83C', '\uDC00', 'a/\uD800/b'];

  it('two lone surrogates would name one file: Node writes both as U+FFFD', () => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, 'x\uD83D'), '1');
    expect(fs.readFileSync(path.join(dir, 'x\uD83C'), 'utf8')).toBe('1');
  });

  it('transaction targets: write() and remove() throw at the call', () => {
    const tx = begin({ dir: tmpdir() });
    for (const p of lone) {
      expect(() => tx.write(p, 'v')).toThrow(expect.objectContaining({ code: codes.EBADPATH }));
      expect(() => tx.remove(p)).toThrow(expect.objectContaining({ code: codes.EBADPATH }));
      expect(() => checkTarget('/r', p)).toThrow(expect.objectContaining({ code: codes.EBADPATH }));
    }
    void tx.abort();
  });

  it('a proper surrogate pair (an emoji) is a fine name', async () => {
    const dir = tmpdir();
    const tx = begin({ dir });
    void tx.write('x\uD83D\uDE00', 'smile');
    await tx.commit();
    expect(snapshot(dir)).toEqual({ 'x😀': 'smile' });
  });

  it('the single-file API', async () => {
    const dir = tmpdir();
    for (const p of lone) await expect(writeFile(path.join(dir, p), 'v')).rejects.toMatchObject({ code: codes.EBADPATH });
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('the root of begin() and recover()', async () => {
    const base = tmpdir();
    for (const p of lone) {
      expect(() => begin({ dir: path.join(base, p) })).toThrow(expect.objectContaining({ code: codes.EBADPATH }));
      await expect(recover(path.join(base, p))).rejects.toMatchObject({ code: codes.EBADPATH });
    }
  });

  it('journal decoding: the same rule', () => {
    for (const p of lone) expect(isJournalTarget(p)).toBe(false);
    expect(isJournalTarget('x\uD83D\uDE00')).toBe(true);
  });
});
