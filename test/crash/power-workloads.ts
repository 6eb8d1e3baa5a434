/**
 * power-workloads.ts: the transactions the power-loss enumeration covers exhaustively.
 *
 * The shared workloads of workloads.ts with at most 4 operations (1 and 3 files: create only,
 * overwrite only, delete only, mixed with new nested directories), one-file ones (a transaction of
 * one written file commits by its rename, without a journal), plus 2- and 3-file ones that
 * reach the paths those miss: a new file two directories deep next to a replaced one, a replaced
 * file whose mode and owner must be kept (so the staged file is chmod-ed, chown-ed and fsynced
 * again before the commit point), a delete next to a create, and new files in a home another
 * writer made. Three of them fail one apply step
 * with EIO in the recorded run, so that the commit rolls back and the rollback path is crashed too.
 */
import * as fs from '../../src/io/fs.js';
import { content, dirWorkloads, treeWorkloads, workloads, type Op } from './workloads.js';
import { MODEL_ROOT, type LaterWrite, type ModelWorkload } from './power-loss.js';

const write = (path: string, size = 64): Op => ({ op: 'write', path, data: content(1, path, size) });
const old = (...paths: string[]): Map<string, Buffer> => new Map(paths.map((p) => [p, content(0, p, 64)]));

/** Transactions of 1 to 4 files, every one explored exhaustively in CI. */
export function smallWorkloads(): ModelWorkload[] {
  return [
    ...workloads().filter((w) => w.ops.length <= 4),
    // One written file commits by its rename (src/protocol/direct.ts): a replaced one (with its
    // undo link) and one whose mode and owner must be kept, beside 'single file' (a new one).
    { name: 'one file: overwrite', before: old('a.txt'), ops: [write('a.txt')] },
    {
      name: 'one file: keep mode 0600 and owner of a replaced file',
      before: old('secret.key'),
      attrs: new Map([['secret.key', { mode: 0o600, uid: 1000, gid: 1000 }]]),
      ops: [write('secret.key')],
    },
    { name: '2 files: create + overwrite', before: old('a.txt'), ops: [write('a.txt'), write('b.txt')] },
    // Through an openRoot() handle: the home it keeps is made by the commit, then removed by close().
    { name: 'one file through openRoot(): overwrite', before: old('a.txt'), ops: [write('a.txt')], viaRoot: true },
    { name: '2 files through openRoot(): create + overwrite', before: old('a.txt'), ops: [write('a.txt'), write('b.txt')], viaRoot: true },
    // A home another writer made and did not fsync the root for (a one-file commit needs no
    // journal; 'none' fsyncs nothing): the commit's journal rests on the home's name, which the
    // commit must make durable itself. New files only: a replaced file in the root has the root
    // fsynced before the commit point for another reason (commit.ts, reliedOn).
    { name: '2 files: create only, in a home another writer made', before: new Map(), ops: [write('a.txt'), write('b.txt')], homeFound: true },
    // Another program replaces the directory the commit made with a file, durably, once commit()
    // resolved. A journal that came back after a power loss (its removal not durable) would find
    // the directory gone, roll back, and put the old a.txt back over a resolved commit: the home's
    // fsync after the clean-up is what keeps it gone (docs/protocol.md, "home after cleanup").
    { name: '2 files: overwrite + new dir, then another program replaces the dir with a file', before: old('a.txt'), ops: [write('a.txt'), write('d/x.txt')], later: replaceDirWithFile('d', 'x.txt') },
    { name: '2 files: overwrite + delete', before: old('a.txt', 'b.txt'), ops: [write('a.txt'), { op: 'delete', path: 'b.txt' }] },
    { name: '2 files: new nested dirs + overwrite', before: old('top.txt'), ops: [write('n/m/deep.txt'), write('top.txt')] },
    {
      name: '2 files: keep mode 0600 and owner of a replaced file',
      before: old('secret.key', 'plain.txt'),
      attrs: new Map([['secret.key', { mode: 0o600, uid: 1000, gid: 1000 }]]),
      ops: [write('secret.key'), write('plain.txt')],
    },
    { name: '3 files: delete + create in a new dir + overwrite', before: old('x.txt', 'y.txt'), ops: [{ op: 'delete', path: 'x.txt' }, write('d/new.txt'), write('y.txt')] },
    ...rollbacks(),
    ...withoutHardLinks(),
    ...dirWorkloads(),
    // tx.copy/tx.rename (issue 18): clones staged as writes, a rename's removal of its source.
    ...treeWorkloads(),
    // The tree's directories are removed last; an EIO there rolls back: they are re-created first.
    { ...(dirWorkloads()[0] as ModelWorkload), name: 'removeTree + mkdir + write, EIO at the 2nd rmdir: rolled back', applyFault: { op: 'rmdir', nth: 2 } },
  ];
}

/** Hard links refused (protected hard links, FAT): every backup is a copy, fsynced before the commit point. */
export function withoutHardLinks(): ModelWorkload[] {
  return [
    { name: '2 files: overwrite + delete, no hard links (copy backups)', before: old('a.txt', 'b.txt'), ops: [write('a.txt'), { op: 'delete', path: 'b.txt' }], noLinks: true },
    {
      name: '2 files: overwrite + delete, no hard links, EIO at the 1st unlink: rolled back from the copies',
      before: old('a.txt', 'b.txt'),
      ops: [write('a.txt'), { op: 'delete', path: 'b.txt' }],
      noLinks: true,
      applyFault: { op: 'unlink', nth: 1 },
    },
  ];
}

/** Workloads whose apply fails once (EIO) after the commit point: the commit rolls back. */
export function rollbacks(): ModelWorkload[] {
  const base = (name: string): ModelWorkload => workloads().find((w) => w.name === name) as ModelWorkload;
  return [
    { ...base('overwrite only'), name: 'overwrite only, EIO at the 2nd rename: rolled back', applyFault: { op: 'rename', nth: 2 } },
    { ...base('delete only'), name: 'delete only, EIO at the 3rd unlink: rolled back', applyFault: { op: 'unlink', nth: 3 } },
    { ...base('mixed with new nested dirs'), name: 'mixed with new nested dirs, EIO at the 3rd rename: rolled back', applyFault: { op: 'rename', nth: 3 } },
  ];
}

/** The 50-file workload (0 B to 1 MiB), sampled. */
export function largeWorkload(): ModelWorkload {
  return workloads().find((w) => w.ops.length === 50) as ModelWorkload;
}

/**
 * Another program, once the commit resolved: removes `dir/file` and `dir`, then writes a file named
 * `dir` the way a careful program does (create, write, fsync, fsync of its directory, the root).
 */
function replaceDirWithFile(dir: string, file: string): LaterWrite {
  const data = content(3, dir, 64);
  return {
    paths: [dir],
    files: new Map([[dir, data]]),
    run: async () => {
      await fs.unlink(`${MODEL_ROOT}/${dir}/${file}`);
      await fs.rmdir(`${MODEL_ROOT}/${dir}`);
      const h = await fs.create(`${MODEL_ROOT}/${dir}`, 0o644);
      await h.write(data, 0, data.length);
      await h.sync();
      await h.close();
      await fs.syncDir(MODEL_ROOT);
    },
  };
}
