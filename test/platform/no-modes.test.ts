import { describe, expect, it } from 'vitest';
import { modesUnder, setMode, setOwner } from '../../src/platform/no-modes.js';

const errno = (code: string): NodeJS.ErrnoException => Object.assign(new Error(`${code}: chmod`), { code });

describe('no-modes: decided by the first chmod under a root', () => {
  it('ENOSYS from the first call: skipped, then and for every later call under that root only', async () => {
    let calls = 0;
    await setMode('/r/fat', () => { calls++; return Promise.reject(errno('ENOSYS')); });
    await setMode('/r/fat', () => { calls++; return Promise.resolve(); });
    expect({ calls, under: modesUnder('/r/fat'), other: modesUnder('/r/other') }).toEqual({ calls: 1, under: false, other: undefined });
  });

  it('any other errno is an error (EPERM, EIO), and a root that has modes keeps failing on ENOSYS', async () => {
    await expect(setMode('/r/a', () => Promise.reject(errno('EPERM')))).rejects.toMatchObject({ code: 'EPERM' });
    expect(modesUnder('/r/a')).toBeUndefined();
    await setMode('/r/b', () => Promise.resolve());
    await expect(setMode('/r/b', () => Promise.reject(errno('ENOSYS')))).rejects.toMatchObject({ code: 'ENOSYS' });
    expect(modesUnder('/r/b')).toBe(true);
  });

  it('owners are probed apart from modes', async () => {
    await setOwner('/r/c', () => Promise.reject(errno('EOPNOTSUPP')));
    let ran = false;
    await setMode('/r/c', () => { ran = true; return Promise.resolve(); });
    expect(ran).toBe(true);
  });
});
