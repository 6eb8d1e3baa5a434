/**
 * Issue 12, item 1: users of txnfs inside one process (worker threads, or two copies of dist/
 * loaded in one thread) must treat each other's locks as alive (DESIGN invariant 4): every commit
 * resolves, an update() counter is exact, and recover() never discards a live transaction of
 * another thread or copy. Real child processes run test/fixtures/in-process.mjs over dist/.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../helpers/child.js';
import { leftovers, tmpdir } from '../helpers/tmp.js';

interface Result {
  readonly ok: number;
  readonly errors: Record<string, number>;
  readonly counter?: number;
  readonly files?: number;
}

const project = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// The copy must sit under the project so that its imports (proper-lockfile, nanoid) resolve;
// under node_modules/, git and the test runner ignore it (as in test/protocol/lock/same-process.test.ts).
let copy = '';
beforeAll(() => {
  copy = fs.mkdtempSync(path.join(project, 'node_modules', '.txnfs-copy-'));
  fs.cpSync(path.join(project, 'dist'), path.join(copy, 'dist'), { recursive: true });
  fs.writeFileSync(path.join(copy, 'package.json'), '{"type":"module"}\n');
});
afterAll(() => {
  if (copy !== '') fs.rmSync(copy, { recursive: true, force: true });
});

async function inProcess(kind: 'threads' | 'copies', task: 'commits' | 'update' | 'recover', n: number): Promise<{ root: string; result: Result }> {
  const root = tmpdir();
  const r = await run('in-process.mjs', [kind, task, root, String(n), path.join(copy, 'dist')]);
  expect(r.status, r.stderr).toBe(0);
  return { root, result: JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as Result };
}

describe.each(['threads', 'copies'] as const)('%s in one process', (kind) => {
  it('commit concurrently on one root: every commit resolves, nothing is left behind', async () => {
    const { root, result } = await inProcess(kind, 'commits', 15);
    expect(result.errors).toEqual({});
    expect(result.ok).toBe(4 * 15);
    expect(leftovers(root)).toEqual([]);
  }, 120_000);

  it('update() a counter concurrently: it reaches exactly actors × n', async () => {
    const { result } = await inProcess(kind, 'update', 15);
    expect(result.errors).toEqual({});
    expect(result.counter).toBe(4 * 15);
  }, 120_000);

  it("recover() never discards another thread's or copy's live transaction", async () => {
    const { result } = await inProcess(kind, 'recover', 5);
    expect(result.errors).toEqual({});
    expect(result.files).toBe(4);
  }, 120_000);
});
