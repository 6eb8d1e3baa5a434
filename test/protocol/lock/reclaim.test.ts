// The take-over of a dead holder's lock by many waiters at once (issue 12, item 8: with one lock
// directory removed by its path, a waiter could remove the lock another waiter had just taken: one
// got ECOMPROMISED, another EFS). Each owner now has an entry of its own, removed by its name only;
// test/protocol/lock/lock.test.ts replays the exact interleaving deterministically.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { start } from '../../helpers/child.js';
import { leftovers, tmpdir } from '../../helpers/tmp.js';

function ready(child: import('node:child_process').ChildProcess, word: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    child.stdout?.on('data', (d: Buffer) => {
      seen += d.toString();
      if (seen.includes(word)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`child exited (${code}) before ${word}`)));
  });
}

describe("many waiters take over a dead holder's root lock", () => {
  it('12 processes committing right after the holder was SIGKILLed: every commit resolves', async () => {
    const errors: string[] = [];
    for (let round = 0; round < 3; round++) {
      const root = tmpdir();
      fs.mkdirSync(path.join(root, '.txnfs'));
      const holder = start('hold-lock.mjs', [path.join(root, '.txnfs', 'lock'), 'hold']);
      await ready(holder.child, 'LOCKED');
      const writers = Array.from({ length: 12 }, (_, i) => start('commit-on-go.mjs', [root, `w${i}`, '3']));
      await Promise.all(writers.map((w) => ready(w.child, 'READY')));
      holder.child.kill('SIGKILL');
      await holder.done;
      fs.writeFileSync(path.join(root, 'GO'), '');
      for (const w of writers) {
        const r = await w.done;
        expect(r.status, r.stderr).toBe(0);
        const out = JSON.parse(r.stdout.split('\n').find((l) => l.startsWith('{')) ?? '{}') as { ok: number; errors: string[] };
        errors.push(...out.errors);
      }
      expect(leftovers(root).filter((n) => n !== 'GO')).toEqual([]);
    }
    expect(errors).toEqual([]);
  }, 120_000);
});
