/**
 * local-root.ts (and fstype.ts's device lookup): where single-file writes may make their small
 * calls inline. A root of a transaction is decided by its real path's mount; a directory a
 * single-file write uses, by the device number of a `stat` the write makes there anyway.
 */
import * as nodeFs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFile, update } from '../../src/index.js';
import { inlineAllowed, inlineUnder, MAX_HELD_DIRS, resetInline } from '../../src/io/inline.js';
import { deviceLocalityIn, deviceNumbers } from '../../src/platform/fstype.js';
import { holdWriteDir, noteWriteDir } from '../../src/platform/local-root.js';

let dir: string;
beforeEach(() => {
  dir = nodeFs.realpathSync(nodeFs.mkdtempSync(path.join(os.tmpdir(), 'txnfs-local-root-')));
  resetInline();
});
afterEach(() => {
  resetInline();
  nodeFs.rmSync(dir, { recursive: true, force: true });
});

/** glibc's makedev(): how a device number is put together from its major and minor. */
const makedev = (major: bigint, minor: bigint): bigint =>
  ((major & 0xfffn) << 8n) | ((major & ~0xfffn) << 32n) | (minor & 0xffn) | ((minor & ~0xffn) << 12n);

const mountinfo = [
  '22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw',
  '40 22 0:45 / /mnt/remote rw,nosuid - fuse.sshfs u@h:/srv rw,user_id=0',
  '41 22 0:46 / /mnt/stick rw - fuse.fusefat /dev/loop3 rw',
  '42 22 0:47 / /mnt/nfs rw - nfs4 server:/export rw',
  '43 22 259:65537 / /data rw - xfs /dev/nvme0n1p1 rw',
].join('\n');

describe('the device number of a stat, as mountinfo lists it', () => {
  it("is major:minor, with the high bits of each where glibc's makedev() puts them", () => {
    expect(deviceNumbers(makedev(254n, 0n))).toBe('254:0');
    expect(deviceNumbers(makedev(0n, 45n))).toBe('0:45');
    expect(deviceNumbers(makedev(259n, 65537n))).toBe('259:65537');
    expect(deviceNumbers(makedev(4096n + 3n, 256n + 7n))).toBe('4099:263');
  });

  it('matches what the kernel lists for the mount of / on this machine', () => {
    const lines = nodeFs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' '));
    const root = lines.filter((f) => f[4] === '/').at(-1);
    expect(root).toBeDefined();
    expect(deviceNumbers(nodeFs.statSync('/', { bigint: true }).dev)).toBe(root?.[2]);
  });

  it('classifies the filesystem with that device: local, network, FUSE, or unknown when no line names it', () => {
    expect(deviceLocalityIn(mountinfo, makedev(254n, 0n))).toBe('local');
    expect(deviceLocalityIn(mountinfo, makedev(259n, 65537n))).toBe('local');
    expect(deviceLocalityIn(mountinfo, makedev(0n, 45n))).toBe('network');
    expect(deviceLocalityIn(mountinfo, makedev(0n, 46n))).toBe('fuse');
    expect(deviceLocalityIn(mountinfo, makedev(0n, 47n))).toBe('network');
    expect(deviceLocalityIn(mountinfo, makedev(0n, 48n))).toBe('unknown');
    expect(deviceLocalityIn('', makedev(254n, 0n))).toBe('unknown');
  });
});

describe('single-file writes', () => {
  it('make their calls inline in a directory on a local filesystem once a stat there showed its device', async () => {
    const file = path.join(dir, 'state.json');
    expect(inlineAllowed(file)).toBe(false);
    // A new file: the home's creation stats the directory, which decides it.
    await writeFile(file, '1');
    expect(inlineAllowed(file)).toBe(true);
    expect(inlineAllowed(path.join(dir, '.txnfs', 'x'))).toBe(true);
    // An existing file decides its directory by the target's own lstat.
    resetInline();
    await update(file, (old) => String(Number(old) + 1));
    expect(inlineAllowed(file)).toBe(true);
    expect(nodeFs.readFileSync(file, 'utf8')).toBe('2');
  });

  it('hold a directory out of a local root above it until its own device decides it', () => {
    inlineUnder(dir); // a transaction's root on the local disk
    const sub = path.join(dir, 'mnt');
    expect(inlineAllowed(path.join(sub, 'f'))).toBe(true);
    holdWriteDir(sub);
    expect(inlineAllowed(path.join(sub, 'f'))).toBe(false);
    // A device no mount lists (a FUSE mount made since, a btrfs subvolume): stays in the pool.
    noteWriteDir(sub, makedev(4095n, 0xffffen));
    expect(inlineAllowed(path.join(sub, 'f'))).toBe(false);
    // Decided once: a later stat does not change it.
    noteWriteDir(sub, nodeFs.statSync(dir, { bigint: true }).dev);
    expect(inlineAllowed(path.join(sub, 'f'))).toBe(false);
    // The root's own record is not a single-file write's to change.
    holdWriteDir(dir);
    noteWriteDir(dir, makedev(4095n, 0xffffen));
    expect(inlineAllowed(path.join(dir, 'f'))).toBe(true);
  });

  it(`hold at most ${MAX_HELD_DIRS} directories; past that, the nearest root decides as before`, () => {
    inlineUnder(dir);
    for (let i = 0; i < MAX_HELD_DIRS; i++) holdWriteDir(path.join(dir, `d${i}`));
    expect(inlineAllowed(path.join(dir, `d${MAX_HELD_DIRS - 1}`, 'f'))).toBe(false);
    holdWriteDir(path.join(dir, 'one-more'));
    expect(inlineAllowed(path.join(dir, 'one-more', 'f'))).toBe(true);
  });
});
