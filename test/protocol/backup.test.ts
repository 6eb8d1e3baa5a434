/**
 * src/protocol/backup.ts: where hard links are refused (fs.protected_hardlinks = 1 for a file of another
 * user: EPERM; a filesystem without hard links, FAT via FUSE: EPERM, ENOTSUP, ENOSYS), a commit
 * keeps a copy of each original instead, and a rollback still restores the originals exactly.
 * As root the kernel's refusal cannot be had for real, so it is injected through the seam.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { begin, codes, recover } from '../../src/index.js';
import { faults } from '../../src/io/faults.js';
import { errnoError } from '../helpers/errno.mjs';
import { decodeJournal } from '../../src/protocol/journal.js';
import { crashAt, makeRoot } from '../helpers/crash.js';
import { leftovers, snapshot, tmpdir } from '../helpers/tmp.js';

afterEach(() => {
  faults.hook = undefined;
});

/** Refuse every link(2) into a backup/ dir with `code`; count them. */
function refuseLinks(code: string): { refused: number } {
  const seen = { refused: 0 };
  faults.hook = (e) => {
    // Every link of a user's file (protected_hardlinks refuses them wherever they go: a backup,
    // or a one-file commit's undo link); txnfs's own (journal.tmp to journal) are its own files.
    if (e.kind === 'op' && e.op === 'link' && !e.path.includes(`${path.sep}.txnfs${path.sep}`)) {
      seen.refused++;
      throw errnoError(code, 'link', e.path);
    }
  };
  return seen;
}

function root(): string {
  const dir = makeRoot(tmpdir());
  fs.writeFileSync(path.join(dir, 'keep.txt'), 'keep');
  fs.writeFileSync(path.join(dir, 'secret.txt'), 'old secret', { mode: 0o640 });
  fs.chmodSync(path.join(dir, 'secret.txt'), 0o640);
  fs.writeFileSync(path.join(dir, 'gone.txt'), 'old gone');
  fs.chmodSync(path.join(dir, 'gone.txt'), 0o604);
  return dir;
}

const modeOf = (p: string): number => fs.statSync(p).mode & 0o7777;

for (const code of ['EPERM', 'ENOTSUP', 'ENOSYS', 'EMLINK']) {
  describe(`link(2) refused with ${code}`, () => {
    it('an overwrite and a delete commit, with copies as backups recorded in the journal', async () => {
      const dir = root();
      const links = refuseLinks(code);
      let journal: ReturnType<typeof decodeJournal> | undefined;
      const refuse = faults.hook;
      faults.hook = (e) => {
        refuse?.(e);
        if (e.kind === 'step' && e.name === 'committed') {
          const home = path.join(dir, '.txnfs');
          const name = fs.readdirSync(home).find((n) => n.startsWith('.txn-') && !n.endsWith('.lock')) as string;
          journal = decodeJournal(fs.readFileSync(path.join(home, name, 'journal')));
          // The copy is the original, bytes and mode.
          const i = journal.entries.findIndex((x) => x.target === 'secret.txt');
          expect(fs.readFileSync(path.join(home, name, 'backup', String(i)), 'utf8')).toBe('old secret');
          expect(modeOf(path.join(home, name, 'backup', String(i)))).toBe(0o640);
        }
      };
      const tx = begin({ dir });
      void tx.write('secret.txt', 'new secret');
      tx.remove('gone.txt');
      void tx.write('new.txt', 'new');
      const result = await tx.commit();
      expect(result.warnings).toEqual([]);
      expect(links.refused).toBe(2);
      expect(journal?.entries.filter((e) => e.existed).map((e) => e.backup)).toEqual(['copy', 'copy']);
      expect(snapshot(dir)).toEqual({ 'keep.txt': 'keep', 'secret.txt': 'new secret', 'new.txt': 'new' });
      expect(modeOf(path.join(dir, 'secret.txt'))).toBe(0o640);
      expect(leftovers(dir)).toEqual([]);
    });

    it('a forced apply failure rolls back and restores the originals exactly (bytes, mode, mtime)', async () => {
      const dir = root();
      const mtimeBefore = fs.statSync(path.join(dir, 'gone.txt')).mtimeMs;
      refuseLinks(code);
      const refuse = faults.hook;
      faults.hook = (e) => {
        refuse?.(e);
        // Fail the last rename of the apply: the others are done, and must be undone.
        if (e.kind === 'op' && e.op === 'rename' && e.dest === path.join(dir, 'new.txt')) throw errnoError('EIO', 'rename', e.path);
      };
      const tx = begin({ dir, concurrency: 1 });
      void tx.write('secret.txt', 'new secret');
      tx.remove('gone.txt');
      void tx.write('new.txt', 'new');
      await expect(tx.commit()).rejects.toMatchObject({ code: codes.EAPPLY });
      expect(snapshot(dir)).toEqual({ 'keep.txt': 'keep', 'secret.txt': 'old secret', 'gone.txt': 'old gone' });
      expect(modeOf(path.join(dir, 'secret.txt'))).toBe(0o640);
      expect(modeOf(path.join(dir, 'gone.txt'))).toBe(0o604);
      // To the millisecond (utimes takes a Date; libuv may store .643 s as .642999 s).
      expect(Math.abs(fs.statSync(path.join(dir, 'gone.txt')).mtimeMs - mtimeBefore)).toBeLessThan(1.5);
      expect(leftovers(dir)).toEqual([]);
    });
  });
}

describe('a copy backup, as root, keeps the owner', () => {
  it.runIf(process.getuid?.() === 0)("restores another user's file with its owner after a rollback", async () => {
    const dir = root();
    fs.chownSync(path.join(dir, 'gone.txt'), 12345, 23456);
    refuseLinks('EPERM');
    const refuse = faults.hook;
    faults.hook = (e) => {
      refuse?.(e);
      if (e.kind === 'op' && e.op === 'rename' && e.dest === path.join(dir, 'new.txt')) throw errnoError('EIO', 'rename', e.path);
    };
    const tx = begin({ dir, concurrency: 1 });
    tx.remove('gone.txt');
    void tx.write('new.txt', 'new');
    await expect(tx.commit()).rejects.toMatchObject({ code: codes.EAPPLY });
    const st = fs.statSync(path.join(dir, 'gone.txt'));
    expect([st.uid, st.gid, st.mode & 0o7777]).toEqual([12345, 23456, 0o604]);
  });
});

describe('when neither a link nor a copy can be made', () => {
  it('the commit fails before its commit point with EFS, saying why and what to do', async () => {
    const dir = root();
    refuseLinks('EPERM');
    const refuse = faults.hook;
    faults.hook = (e) => {
      refuse?.(e);
      if (e.kind === 'op' && e.op === 'readFile' && e.path === path.join(dir, 'secret.txt')) throw errnoError('EACCES', 'open', e.path);
    };
    const tx = begin({ dir });
    void tx.write('secret.txt', 'new secret');
    const err = await tx.commit().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: codes.EFS });
    expect((err as Error).message).toMatch(/protected_hardlinks/);
    expect((err as Error).message).toMatch(/readable/);
    expect(snapshot(dir)).toEqual({ 'keep.txt': 'keep', 'secret.txt': 'old secret', 'gone.txt': 'old gone' });
  });
});

describe('recovery of a transaction whose backups are copies', () => {
  it('a crash after the commit point is rolled forward', async () => {
    const dir = root();
    const r = crashAt(dir, [{ op: 'write', path: 'secret.txt', data: 'new secret' }, { op: 'delete', path: 'gone.txt' }], 'committed', { TXNFS_TEST_NO_LINKS: '1' });
    expect(r.killed).toBe(true);
    const report = await recover(dir);
    expect(report.superseded).toEqual([]);
    expect(snapshot(dir)).toEqual({ 'keep.txt': 'keep', 'secret.txt': 'new secret' });
  });
});
