/**
 * sshfs over an sshd bound to 127.0.0.1, the same directory mounted twice (two "hosts"). SFTP has
 * no inode numbers, so sshfs numbers each path it looks up: a hard link shows another number than
 * its original, and the roll-forward's identity check (apply.ts) then sees every replaced target
 * as changed by another writer. Attributes and contents are cached per mount, so one mount reads
 * stale bytes after the other renamed. doctor says 'broken'; begin() warns; the tests show both.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { begin, doctor, recover } from '../../src/index.js';
import { crashAt } from '../helpers/crash.js';
import { faults } from '../../src/io/faults.js';
import { files, filesystemSuite, localActions } from './suite.js';

const m = await filesystemSuite('sshfs', {
  fsType: 'fuse.sshfs',
  locality: 'network',
  verdict: 'conditional',
  actions: { ...localActions, filesystem: 'warning', inodes: 'fallback' },
  modes: true,
  caseInsensitive: false,
  warns: true,
});

describe.skipIf(m === undefined)('sshfs: what doctor says, shown', () => {
  let n = 0;
  const fresh = (): [string, string] => {
    const name = `s${n++}`;
    fs.mkdirSync(path.join(m?.root ?? '', name));
    return [path.join(m?.root ?? '', name), path.join(m?.second ?? '', name)];
  };

  it('inodes: a hard link gets its own number, so backups are copies and a commit replaces and removes its targets', async () => {
    const [dir] = fresh();
    fs.writeFileSync(path.join(dir, 'a.txt'), 'old');
    fs.writeFileSync(path.join(dir, 'c.txt'), 'to remove');
    const tx = begin({ dir, warnUnsafeFs: false });
    tx.write('a.txt', 'new');
    tx.write('b.txt', 'created');
    tx.remove('c.txt');
    const r = await tx.commit();
    expect(r.warnings).toEqual([]);
    expect(files(dir)).toEqual({ 'a.txt': 'new', 'b.txt': 'created' });
  });

  it('inodes: a target replaced after the commit point is kept (its bytes differ from the copy), even with its old size and mtime', async () => {
    const [dir] = fresh();
    fs.writeFileSync(path.join(dir, 'a.txt'), 'old');
    const tx = begin({ dir, warnUnsafeFs: false });
    tx.write('a.txt', 'new');
    // Between the commit point and the apply, someone renames 'OLD' over it, with its old mtime:
    // another number, as every number here, so only the bytes tell it from the original.
    const mtime = fs.statSync(path.join(dir, 'a.txt')).mtime;
    faults.hook = (e) => {
      if (e.kind !== 'step' || e.name !== 'committed') return;
      fs.writeFileSync(path.join(dir, 'other'), 'OLD');
      fs.utimesSync(path.join(dir, 'other'), mtime, mtime);
      fs.renameSync(path.join(dir, 'other'), path.join(dir, 'a.txt'));
    };
    const r = await tx.commit().finally(() => {
      faults.hook = undefined;
    });
    expect(r.warnings).toEqual([expect.stringContaining("'a.txt' was changed by another writer")]);
    expect(files(dir)).toEqual({ 'a.txt': 'OLD' });
  });

  it('inodes: a transaction killed after its commit point is rolled forward by recover() through the other mount, where every number differs', async () => {
    const [dir, other] = fresh();
    fs.writeFileSync(path.join(dir, 'a.txt'), 'old a');
    fs.writeFileSync(path.join(dir, 'c.txt'), 'old c');
    const { killed } = crashAt(dir, [
      { op: 'write', path: 'a.txt', data: 'new a' },
      { op: 'write', path: 'b.txt', data: 'new b' },
      { op: 'delete', path: 'c.txt' },
    ], 'committed');
    expect(killed).toBe(true);
    expect(fs.statSync(path.join(other, 'a.txt')).ino).not.toBe(fs.statSync(path.join(dir, 'a.txt')).ino);
    const r = await recover(other);
    expect({ rolledForward: r.rolledForward.length, superseded: r.superseded }).toEqual({ rolledForward: 1, superseded: [] });
    expect(files(other)).toEqual({ 'a.txt': 'new a', 'b.txt': 'new b' });
  });

  it('two hosts: doctor on the second mount says the same, and begin() there warns once', async () => {
    const [, other] = fresh();
    const r = await doctor(other);
    expect({ verdict: r.verdict, filesystem: r.checks.find((c) => c.id === 'filesystem')?.action }).toEqual({ verdict: 'conditional', filesystem: 'warning' });
    const seen: Error[] = [];
    const on = (w: Error): void => void seen.push(w);
    process.on('warning', on);
    try {
      const tx = begin({ dir: other });
      tx.write('x', 'x');
      await tx.abort();
      await new Promise((resolve) => setTimeout(resolve, 20));
    } finally {
      process.off('warning', on);
    }
    expect(seen.filter((w) => (w as { code?: string }).code === 'TXNFS_UNSAFE_FS').map((w) => w.message)).toEqual([expect.stringContaining('docs/s3.md')]);
  });

  it('two hosts: a file renamed into place through one mount is read stale through the other', () => {
    const [dir, other] = fresh();
    fs.writeFileSync(path.join(dir, 't'), 'first version, long');
    fs.writeFileSync(path.join(dir, 'n'), 'new');
    fs.renameSync(path.join(dir, 'n'), path.join(dir, 't'));
    expect(fs.readFileSync(path.join(dir, 't'), 'utf8')).toBe('new'); // this mount caches it now
    fs.writeFileSync(path.join(other, 'n2'), 'newest');
    fs.renameSync(path.join(other, 'n2'), path.join(other, 't'));
    expect(fs.readFileSync(path.join(other, 't'), 'utf8')).toBe('newest');
    // The first mount still serves the file it cached: the other host's commit is invisible.
    expect(fs.readFileSync(path.join(dir, 't'), 'utf8')).toBe('new');
  });
});
