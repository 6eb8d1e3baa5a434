/**
 * The engine's failure paths, injected through the filesystem seam, and the correctness points the
 * peers get wrong. Each durability check is also run against a deliberate bug (a mutation) to show
 * that it catches it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { codes, writeFile } from '../../src/index.js';
import { faults, type FaultEvent, type OpEvent } from '../../src/io/faults.js';
import { errnoError } from '../helpers/errno.mjs';
import { nodeImpl, useFsImpl, type Handle } from '../../src/io/fs.js';
import { parseTempName } from '../../src/single/tempname.js';
import { failOnce, mutate, record } from '../helpers/hook.js';
import { leftovers, snapshot, tmpdir } from '../helpers/tmp.js';

function seeded(content = 'old'): { dir: string; file: string } {
  const dir = tmpdir();
  const file = path.join(dir, 'f');
  fs.writeFileSync(file, content);
  return { dir, file };
}

/** Every injected failure must leave the file as it was and no temp file behind. */
async function expectUntouched(dir: string, call: Promise<unknown>, code: string, causeCode: string): Promise<void> {
  const err = await call.then(() => undefined, (e: unknown) => e);
  expect(err, 'the call must fail').toMatchObject({ code, cause: { code: causeCode } });
  expect(snapshot(dir)).toEqual({ f: 'old' });
  expect(leftovers(dir)).toEqual([]);
}

describe('failures before the rename leave the file untouched and remove the temp', () => {
  it.each<[op: string, errno: string, code: string, why: string]>([
    ['write', 'ENOSPC', codes.ESTAGE, ''],
    ['fsync', 'EIO', codes.ESTAGE, ' (of the data)'],
    ['close', 'EIO', codes.ESTAGE, ' (a deferred write error, as on NFS)'],
    ['create', 'EACCES', codes.EFS, ''],
    ['fchmod', 'EPERM', codes.EFS, ''],
    ['rename', 'EACCES', codes.EFS, ''],
    ['rename', 'EXDEV', codes.ECROSSDEV, ' (a .txnfs on another filesystem)'],
  ])('%s failing with %s → %s%s', async (op, errno, code) => {
    const { dir, file } = seeded();
    failOnce(op, errno);
    await expectUntouched(dir, writeFile(file, 'new'), code, errno);
  });

  it('the original error wins when removing the temp fails too', async () => {
    const { dir, file } = seeded();
    faults.hook = (e) => {
      if (e.kind !== 'op') return;
      if (e.op === 'rename') throw errnoError('EACCES', 'rename', e.path);
      if (e.op === 'unlink') throw errnoError('EIO', 'unlink', e.path);
    };
    await expect(writeFile(file, 'new')).rejects.toMatchObject({ code: codes.EFS, cause: { code: 'EACCES' } });
    faults.hook = undefined;
    expect(snapshot(dir)).toEqual({ f: 'old' });
    // The temp could not be removed: it stays for recover() once this process exits.
    expect(leftovers(dir)).toHaveLength(1);
  });
});

describe('after the rename', () => {
  it('EIO at the directory fsync → ENOTDURABLE: the content changed but may not survive a power loss', async () => {
    const { dir, file } = seeded();
    await writeFile(file, 'old'); // the first write into a directory makes (and fsyncs) .txnfs/
    failOnce('fsyncDir', 'EIO');
    await expect(writeFile(file, 'new')).rejects.toMatchObject({ code: codes.ENOTDURABLE, cause: { code: 'EIO' } });
    expect(snapshot(dir)).toEqual({ f: 'new' });
    expect(leftovers(dir)).toEqual([]);
  });

  it('a directory that cannot be fsynced at all (EINVAL: some FUSE mounts) is not an error', async () => {
    const { dir, file } = seeded();
    failOnce('fsyncDir', 'EINVAL');
    await writeFile(file, 'new');
    expect(snapshot(dir)).toEqual({ f: 'new' });
  });
});

/** A filesystem whose writes accept at most `limit` bytes per call, then (optionally) fail with ENOSPC. */
function shortWrites(limit: number, enospcAfter = Infinity): void {
  let written = 0;
  useFsImpl({
    ...nodeImpl,
    async create(p, mode): Promise<Handle> {
      const h = await nodeImpl.create(p, mode);
      return {
        async write(buffer, offset, length) {
          if (written >= enospcAfter) throw errnoError('ENOSPC', 'write', p);
          const n = await h.write(buffer, offset, Math.min(length, limit));
          written += n;
          return n;
        },
        sync: () => h.sync(),
        stat: () => h.stat(),
        chmod: (m) => h.chmod(m),
        chown: (u, g) => h.chown(u, g),
        close: () => h.close(),
      };
    },
  });
}

describe('short writes are impossible to ship', () => {
  const data = Buffer.alloc(20_000, 'abcdefghij');

  it('a filesystem that writes 4,096 bytes per call still gets every byte', async () => {
    const { dir, file } = seeded();
    shortWrites(4096);
    await writeFile(file, data);
    expect(fs.readFileSync(file).equals(data)).toBe(true);
    expect(leftovers(dir)).toEqual([]);
  });

  it('a full disk after a short write fails the call; the file is untouched', async () => {
    const { dir, file } = seeded();
    shortWrites(4096, 4096);
    await expectUntouched(dir, writeFile(file, data), codes.ESTAGE, 'ENOSPC');
  });

  it('the check catches the bug atomically had (one write, its count ignored)', async () => {
    const { file } = seeded();
    shortWrites(4096);
    mutate('file-single-write');
    await writeFile(file, data);
    expect(fs.statSync(file).size).toBe(4096); // what the test above would see: it fails
  });
});

/** Problems with the durability of one write, judged from the ops it made. */
function durabilityProblems(events: readonly FaultEvent[], dir: string): string[] {
  const opsOnly = events.filter((e): e is OpEvent => e.kind === 'op');
  const rename = opsOnly.findIndex((e) => e.op === 'rename');
  const problems: string[] = [];
  if (rename === -1) return ['no rename'];
  const lastWrite = opsOnly.map((e) => e.op).lastIndexOf('write');
  const fsyncTemp = opsOnly.findIndex((e, i) => i > lastWrite && i < rename && e.op === 'fsync' && e.path === opsOnly[rename]?.path);
  if (fsyncTemp === -1) problems.push('the temp file was not fsynced between its last write and the rename');
  if (!opsOnly.slice(rename + 1).some((e) => e.op === 'fsyncDir' && e.path === dir)) problems.push('the directory was not fsynced after the rename');
  return problems;
}

describe('durability: the data before the rename, the directory after it', () => {
  it('a plain write fsyncs both', async () => {
    const { dir, file } = seeded();
    const events = record();
    await writeFile(file, 'new');
    expect(durabilityProblems(events, dir)).toEqual([]);
  });

  it('the check catches a missing directory fsync after the rename (write-file-atomic never does it)', async () => {
    const { dir, file } = seeded();
    mutate('file-skip-fsync-dir');
    const events = record();
    await writeFile(file, 'new');
    expect(durabilityProblems(events, dir)).toEqual(['the directory was not fsynced after the rename']);
  });

  it('the check catches a missing fsync of the data', async () => {
    const { dir, file } = seeded();
    mutate('file-skip-fsync-temp');
    const events = record();
    await writeFile(file, 'new');
    expect(durabilityProblems(events, dir)).toEqual(['the temp file was not fsynced between its last write and the rename']);
  });

  it('a write costs no stat or mkdir of the parent and no lock; it makes the home and removes it again', async () => {
    const { dir, file } = seeded();
    await writeFile(file, 'warm'); // leaves no .txnfs/ behind (home.ts)
    const events = record();
    await writeFile(file, 'new');
    const names = events.filter((e): e is OpEvent => e.kind === 'op').map((e) => e.op);
    // fchown only as root, to keep the replaced file's owner. The home: this process removed it
    // last, so mkdir + stat + chmod make it first, with the directory's mode (no fsync: the home
    // is never promised; no create that fails with ENOENT before), and rmdir removes it before the
    // directory fsync makes that durable too.
    const root = process.getuid?.() === 0 ? ['fchown'] : [];
    expect(names).toEqual(['lstat', 'mkdir', 'stat', 'chmod', 'create', 'write', ...root, 'fchmod', 'fsync', 'close', 'rename', 'rmdir', 'fsyncDir']);
    expect(snapshot(dir)).toEqual({ f: 'new' });
  });

  it("a home another writer holds: the mkdir meets it (EEXIST) and checks it, and the next write creates in it at once", async () => {
    const { dir, file } = seeded();
    fs.mkdirSync(path.join(dir, '.txnfs'), 0o755);
    fs.writeFileSync(path.join(dir, '.txnfs', 'held'), ''); // keeps the home from being removed
    const first = record();
    await writeFile(file, 'one');
    const root = process.getuid?.() === 0 ? ['fchown'] : [];
    const tail = ['write', ...root, 'fchmod', 'fsync', 'close', 'rename', 'rmdir', 'fsyncDir'];
    const opsOf = (events: FaultEvent[]): string[] => events.filter((e): e is OpEvent => e.kind === 'op').map((e) => e.op);
    expect(opsOf(first)).toEqual(['lstat', 'mkdir', 'lstat', 'create', ...tail]);
    faults.hook = undefined;
    const second = record();
    await writeFile(file, 'two');
    // The home was there when this process last looked (its rmdir failed: not empty).
    expect(opsOf(second)).toEqual(['lstat', 'create', ...tail]);
    expect(fs.readFileSync(file, 'utf8')).toBe('two');
    expect(fs.readdirSync(path.join(dir, '.txnfs'))).toEqual(['held']);
  });
});

describe('temp files', () => {
  it('live in <dir>/.txnfs, are created exclusively, and a name collision takes the next name', async () => {
    const { dir, file } = seeded();
    fs.mkdirSync(path.join(dir, '.txnfs'));
    const events: FaultEvent[] = [];
    let collided = false;
    faults.hook = (e) => {
      events.push(e);
      if (!collided && e.kind === 'op' && e.op === 'create') {
        // Another copy of txnfs in this thread took the name first: O_EXCL must refuse it.
        collided = true;
        fs.writeFileSync(e.path, 'not ours');
      }
    };
    await writeFile(file, 'new');
    const creates = events.filter((e): e is OpEvent => e.kind === 'op' && e.op === 'create').map((e) => e.path);
    expect(creates).toHaveLength(2);
    for (const p of creates) {
      expect(path.dirname(p)).toBe(path.join(dir, '.txnfs'));
      expect(parseTempName(path.basename(p))).toBeDefined();
    }
    expect(fs.readFileSync(creates[0] as string, 'utf8')).toBe('not ours');
    expect(snapshot(dir)).toEqual({ f: 'new' });
  });

  it('never survive a successful call, whatever the options', async () => {
    const { dir, file } = seeded();
    await writeFile(file, 'a');
    await writeFile(path.join(dir, 'g'), 'b', { exclusive: true });
    await writeFile(file, 'c', { durability: 'none', mode: 0o600 });
    await writeFile(file, 'd', { dryRun: true });
    expect(leftovers(dir)).toEqual([]);
  });

  it('a .txnfs that is a file is an ETARGET error naming it', async () => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, '.txnfs'), 'in the way');
    await expect(writeFile(path.join(dir, 'f'), 'x')).rejects.toMatchObject({ code: codes.ETARGET, message: expect.stringContaining('.txnfs') });
    expect(fs.readdirSync(dir)).toEqual(['.txnfs']);
  });
});

const shm = '/dev/shm';
const onTmpfs = ((): boolean => {
  try {
    return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === shm && l.includes(' - tmpfs '));
  } catch {
    return false;
  }
})();

describe.skipIf(!onTmpfs)('on tmpfs (/dev/shm; skipped where it is not a tmpfs mount)', () => {
  it('writes, replaces and fsyncs as on ext4, leaving nothing behind', async () => {
    const dir = fs.mkdtempSync(path.join(shm, 'txnfs-'));
    try {
      const file = path.join(dir, 'f');
      fs.writeFileSync(file, 'old');
      const events = record();
      await writeFile(file, 'new');
      expect(durabilityProblems(events, dir)).toEqual([]);
      await writeFile(path.join(dir, 'x'), 'created', { exclusive: true });
      expect(snapshot(dir)).toEqual({ f: 'new', x: 'created' });
      expect(leftovers(dir)).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
