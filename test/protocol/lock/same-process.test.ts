// Invariant 4 within one process: another thread, or another loaded copy of txnfs, holds locks
// this module instance did not take, under this very pid. They are alive: reclaiming them as
// "abandoned by this process" let recover() discard a live transaction and update() lose counts.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../helpers/child.js';
import { repo } from '../../helpers/install.js';
import { leftovers, tmpdir } from '../../helpers/tmp.js';

interface Outcome {
  readonly commits: number;
  readonly updates: number;
  readonly errors: readonly string[];
  readonly counter: number;
  readonly torn: readonly string[];
}

async function sameProcess(kind: 'threads' | 'copies', writers: number, rounds: number, copyDir = ''): Promise<{ root: string; out: Outcome }> {
  const root = tmpdir();
  const r = await run('same-process.mjs', [kind, root, String(writers), String(rounds), copyDir]);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return { root, out: JSON.parse(r.stdout) as Outcome };
}

describe('several txnfs instances in one process', () => {
  it('worker threads: every commit, update() and recover() succeeds; the counter is exact; nothing torn or left', async () => {
    const writers = 3;
    const rounds = 15;
    const { root, out } = await sameProcess('threads', writers, rounds);
    expect(out.errors).toEqual([]);
    expect(out.commits).toBe((writers + 1) * rounds);
    expect(out.updates).toBe((writers + 1) * rounds);
    expect(out.counter).toBe((writers + 1) * rounds);
    expect(out.torn).toEqual([]);
    expect(leftovers(root)).toEqual([]);
  }, 60_000);

  it('two loaded copies of the library in one thread: the same', async () => {
    // A second copy of dist/, as npm produces when two packages depend on different txnfs
    // versions: same code, separate module instances. It sits inside the checkout so that its
    // imports of proper-lockfile and nanoid resolve from node_modules.
    const copyDir = fs.mkdtempSync(path.join(repo, 'node_modules', '.txnfs-copy-'));
    try {
      fs.cpSync(path.join(repo, 'dist'), copyDir, { recursive: true });
      fs.writeFileSync(path.join(copyDir, 'package.json'), '{"type":"module"}');
      const writers = 2;
      const rounds = 15;
      const { root, out } = await sameProcess('copies', writers, rounds, copyDir);
      expect(out.errors).toEqual([]);
      expect(out.commits).toBe(2 * writers * rounds);
      expect(out.updates).toBe(2 * writers * rounds);
      expect(out.counter).toBe(2 * writers * rounds);
      expect(out.torn).toEqual([]);
      expect(leftovers(root)).toEqual([]);
    } finally {
      fs.rmSync(copyDir, { recursive: true, force: true });
    }
  }, 60_000);
});
