import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isProcessGone, parseIdentity, selfIdentity } from '../src/identity.js';

const linux = process.platform === 'linux';

describe('process identity', () => {
  it('names this process with a host key, its pid and (on Linux) its start time', () => {
    const me = selfIdentity();
    expect(me.pid).toBe(process.pid);
    if (linux) {
      expect(me.host).toMatch(/^linux:[0-9a-f-]{36}:pid:\[\d+\]$/);
      expect(me.start).toMatch(/^\d+$/);
    }
    expect(isProcessGone(me)).toBe(false);
  });

  it('a process that exited is certainly gone', () => {
    const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const pid = Number(r.stdout);
    expect(isProcessGone({ ...selfIdentity(), pid, start: '1' })).toBe(true);
  });

  it.runIf(linux)('a reused pid (same pid, other start time) is gone; the same start time is alive', () => {
    const me = selfIdentity();
    expect(isProcessGone({ ...me, start: String(Number(me.start) + 1) })).toBe(true);
    // pid 1 runs; with its real start time it is alive, with another it is a reuse.
    const start1 = fs.readFileSync('/proc/1/stat', 'utf8').split(') ')[1]?.split(' ')[19] as string;
    expect(isProcessGone({ ...me, pid: 1, start: start1 })).toBe(false);
    expect(isProcessGone({ ...me, pid: 1, start: `${start1}0` })).toBe(true);
  });

  it('never judges a process on another host (or pid namespace, or boot) gone', () => {
    expect(isProcessGone({ host: 'linux:other-boot:pid:[1]', pid: 999_999, start: '1' })).toBe(false);
    expect(isProcessGone({ host: 'host:elsewhere', pid: 999_999, start: '1' })).toBe(false);
  });

  it('refuses malformed pids instead of judging them', () => {
    expect(isProcessGone({ ...selfIdentity(), pid: 0 })).toBe(false);
    expect(isProcessGone({ ...selfIdentity(), pid: -1 })).toBe(false);
    expect(isProcessGone({ ...selfIdentity(), pid: 1.5 })).toBe(false);
  });

  it('parseIdentity accepts only the written shape', () => {
    expect(parseIdentity({ host: 'h', pid: 3, start: '9', extra: 1 })).toEqual({ host: 'h', pid: 3, start: '9' });
    for (const bad of [null, 'x', { host: 'h', pid: '3', start: '9' }, { host: 'h', pid: 3 }]) expect(parseIdentity(bad)).toBeUndefined();
  });
});
