import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isProcessAlive, isProcessGone, parseIdentity, selfIdentity } from '../../src/protocol/identity.js';

const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/hidepid-check.mjs');
const canUnshare = process.platform === 'linux' && process.getuid?.() === 0 && spawnSync('unshare', ['--mount', 'true']).status === 0;

function startOf(pid: number): string {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] as string;
}

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

describe('isProcessAlive', () => {
  it('is true for this process and false for a changed start time', () => {
    const me = selfIdentity();
    expect(isProcessAlive(me)).toBe(process.platform === 'linux' || me.start !== '');
    expect(isProcessAlive({ ...me, start: `${me.start}1` })).toBe(false);
  });

  it('is false for another host, an unknown start time and an exited process', () => {
    const me = selfIdentity();
    expect(isProcessAlive({ ...me, host: 'host:elsewhere' })).toBe(false);
    expect(isProcessAlive({ ...me, start: '' })).toBe(false);
    const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    const pid = Number(child.stdout.toString());
    const dead = { host: me.host, pid, start: '1' };
    expect(isProcessAlive(dead)).toBe(false);
    expect(isProcessGone(dead)).toBe(process.platform === 'linux');
  });

  it.runIf(process.platform === 'linux')('is true for a live child with its start time, false once it exits', async () => {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    const pid = child.pid as number;
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] as string;
    const id = { host: selfIdentity().host, pid, start };
    expect(isProcessAlive(id)).toBe(true);
    expect(isProcessAlive({ ...id, start: String(Number(start) + 1) })).toBe(false);
    child.kill('SIGKILL');
    await once(child, 'exit');
    expect(isProcessAlive(id)).toBe(false);
  });
});

describe('isProcessGone', () => {
  // hidepid=2 (common on hardened hosts) hides other users' /proc entries: a live process of
  // another user must not be taken for a dead one, or its locks and temp files would be removed.
  it.runIf(canUnshare)('does not judge another user\'s live process gone when /proc hides it (hidepid=2)', async () => {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    try {
      const pid = child.pid as number;
      const script = `mount -t proc -o hidepid=2 proc /proc && exec ${JSON.stringify(process.execPath)} ${JSON.stringify(fixture)} ${pid} ${startOf(pid)}`;
      const out = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], { encoding: 'utf8' });
      expect(out.stderr).toBe('');
      expect(JSON.parse(out.stdout)).toEqual({ gone: false });
    } finally {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  });
});
