import { describe, expect, it } from 'vitest';
import { mountOf, mountPointsInside, parseMountPoints } from '../../src/platform/mounts.js';

const sample = [
  '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
  '35 22 0:31 / /srv/out/a\\040b rw - tmpfs tmpfs rw',
  '36 22 8:1 /data/x /srv/out/bound rw - ext4 /dev/sda1 rw',
  '37 22 8:1 /data/y /srv/outside rw - ext4 /dev/sda1 rw',
  '',
].join('\n');

describe('mount points', () => {
  it('parses mount points, undoing octal escapes', () => {
    expect(parseMountPoints(sample)).toEqual(['/', '/srv/out/a b', '/srv/out/bound', '/srv/outside']);
  });

  it('finds the mount point a path is at or below, and nothing for a sibling with the same prefix', () => {
    const points = ['/srv/out/bound', '/srv/out/a b'];
    expect(mountOf('/srv/out/bound', points)).toBe('/srv/out/bound');
    expect(mountOf('/srv/out/bound/deep/er', points)).toBe('/srv/out/bound');
    expect(mountOf('/srv/out/boundary', points)).toBeUndefined();
    expect(mountOf('/srv/out', points)).toBeUndefined();
  });

  it('lists only mount points strictly inside the root (on Linux, from /proc/self/mountinfo)', () => {
    // '/' is a mount point on every Linux system and is never strictly inside a root.
    expect(mountPointsInside('/')).not.toContain('/');
    if (process.platform === 'linux') expect(mountPointsInside('/').length).toBeGreaterThan(0);
  });
});
