import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../helpers/child.js';
import { leftovers, tmpdir } from '../../helpers/tmp.js';

// proper-lockfile loads signal-exit, which re-raises a signal when its own listeners are the only
// ones left; an app's process.once('SIGTERM') registered before txnfs loaded was removed by the
// time signal-exit looked, and the app was killed mid-stop (exit 143). signals.ts puts
// signal-exit's listeners first, as when txnfs loads before the app registers.
describe('lock/signals: an app signal listener registered before txnfs loads', () => {
  // dist/index.js: tsc's modules, as the other tests load them; dist/bundle/index.js: what the
  // package's "txnfs" is, where proper-lockfile's import is not where the source put it.
  it.each(['dist/index.js', 'dist/bundle/index.js'])('process.once(SIGTERM) before the import of %s: the app stops by itself (exit 0), its stop commits', async (entry) => {
    const dir = tmpdir();
    const r = await run('once-sigterm.mjs', [dir, entry]);
    expect({ status: r.status, signal: r.signal, stdout: r.stdout }).toEqual({ status: 0, signal: null, stdout: 'stopped\n' });
    expect(fs.readFileSync(path.join(dir, 'stopped.txt'), 'utf8')).toBe('clean stop');
    expect(leftovers(dir)).toEqual([]);
  });
});
