/**
 * doctor(): its report on this machine's disk, its clean-up when a probe fails, the simulated
 * answers of filesystems this machine cannot mount (through the seam), and the mount-type
 * classification. The real filesystems are in test/filesystems/.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { codes, doctor, recover } from '../../src/index.js';
import { faults } from '../../src/io/faults.js';
import { errnoError } from '../helpers/errno.mjs';
import { localityOf, mountFactsIn } from '../../src/platform/fstype.js';
import { status } from '../../src/protocol/status.js';
import { tmpdir } from '../helpers/tmp.js';

afterEach(() => {
  faults.hook = undefined;
});

describe('doctor()', () => {
  it('on the local disk: every check holds; the options are validated', async () => {
    const dir = tmpdir();
    const r = await doctor(dir);
    expect(r).toMatchObject({ dir: fs.realpathSync(dir), locality: 'local', verdict: 'holds' });
    expect(r.checks.filter((c) => !c.holds)).toEqual([]);
    await expect(doctor(dir, { lockStale: 10 })).rejects.toThrow(RangeError);
    await expect(doctor(dir, { lockstale: 10 } as never)).rejects.toThrow(/Unknown option "lockstale"/);
    await expect(doctor(path.join(dir, 'missing'))).rejects.toMatchObject({ code: codes.EFS });
  });

  it('a probe that fails (EIO) rejects, and the scratch dir and the home it made are gone', async () => {
    const dir = tmpdir();
    faults.hook = (e) => {
      if (e.kind === 'op' && e.op === 'link') throw errnoError('EIO', 'link', e.path);
    };
    await expect(doctor(dir)).rejects.toMatchObject({ code: 'EIO' });
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('without hard links (EPERM) the line says copy backups; the verdict still holds', async () => {
    const dir = tmpdir();
    fs.mkdirSync(path.join(dir, '.txnfs'));
    faults.hook = (e) => {
      if (e.kind === 'op' && e.op === 'link') throw errnoError('EPERM', 'link', e.path);
    };
    const r = await doctor(dir);
    expect(r.checks.find((c) => c.id === 'hard-links')).toMatchObject({ holds: false, action: 'fallback', found: 'refused (EPERM)', does: expect.stringContaining('copies') });
    expect(r.verdict).toBe('holds');
    // A home that existed stays, holding nothing of doctor's.
    expect(fs.readdirSync(path.join(dir, '.txnfs'))).toEqual([]);
  });

  it('a scratch dir left by a killed doctor is ignored by status and recover', async () => {
    const dir = tmpdir();
    fs.mkdirSync(path.join(dir, '.txnfs', '.doctor-0123456789ab'), { recursive: true });
    expect((await status(dir)).health).toBe('ok');
    const r = await recover(dir);
    expect(r.failed).toEqual([]);
  });
});

describe('the filesystem type of a path', () => {
  const text = [
    '22 1 8:1 / / rw - ext4 /dev/sda1 rw',
    '40 22 0:40 / /mnt/remote rw - fuse.sshfs u@h:/x rw',
    '41 22 0:41 / /mnt/nfs rw - nfs4 srv:/e rw',
    '42 22 0:42 / /mnt/usb rw - fuse.fusefat fusefat rw',
    '43 42 0:43 / /mnt/usb rw - tmpfs tmpfs rw',
    '',
  ].join('\n');

  it('is the longest mount point above it; the last of mounts stacked on one point wins', () => {
    expect(mountFactsIn(text, '/home/x')).toMatchObject({ mountPoint: '/', fsType: 'ext4', locality: 'local' });
    expect(mountFactsIn(text, '/mnt/remote/out')).toMatchObject({ fsType: 'fuse.sshfs', locality: 'network', source: 'u@h:/x' });
    expect(mountFactsIn(text, '/mnt/nfs')).toMatchObject({ locality: 'network' });
    expect(mountFactsIn(text, '/mnt/usb/a')).toMatchObject({ fsType: 'tmpfs', locality: 'local' });
    expect(mountFactsIn(text, '/mnt/remoteX')).toMatchObject({ mountPoint: '/' });
  });

  it('classifies FUSE as fuse unless its subtype is a network client', () => {
    expect(localityOf('fuse.fusefat')).toBe('fuse');
    expect(localityOf('fuseblk')).toBe('fuse');
    expect(localityOf('fuse.s3fs')).toBe('network');
    expect(localityOf('cifs')).toBe('network');
    expect(localityOf('xfs')).toBe('local');
  });
});
