// examples/state.mjs: workers that record finished jobs in one state file with update(). Run at
// once, they lose no entry; killed mid-write, they leave the file whole, and the next start
// removes what the killed worker left.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { crashExample, examples, runExample, type Ran } from '../helpers/examples.js';
import { leftovers, tmpdir } from '../helpers/tmp.js';

function runAsync(args: readonly string[]): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(examples, 'state.mjs'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
  });
}

const done = (file: string): string[] => (JSON.parse(fs.readFileSync(file, 'utf8')) as { done: string[] }).done;
const jobs = (worker: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${worker}-${i + 1}`);

describe('examples/state.mjs', () => {
  it('three workers at once: every job of every worker is in the file', async () => {
    const file = path.join(tmpdir(), 'state/jobs.json');
    const runs = await Promise.all(['a', 'b', 'c'].map((w) => runAsync([file, w, '8'])));
    expect(runs.map((r) => r.stderr + r.stdout).sort()).toEqual(['a: recorded 8 jobs\n', 'b: recorded 8 jobs\n', 'c: recorded 8 jobs\n']);
    expect(done(file).sort()).toEqual([...jobs('a', 8), ...jobs('b', 8), ...jobs('c', 8)].sort());
    expect(leftovers(path.dirname(file))).toEqual([]);
  }, 60_000);

  it('a worker killed before its third write leaves the file whole; the next start cleans up and records the rest once', () => {
    const file = path.join(tmpdir(), 'state/jobs.json');
    crashExample('rename', 3, 'state.mjs', [file, 'a', '5']);
    // Killed between writing the temp file and renaming it: the file holds the first two jobs.
    expect(done(file)).toEqual(jobs('a', 2));
    expect(leftovers(path.dirname(file)).length).toBe(2); // its temp file and its update() lock

    const next = runExample('state.mjs', [file, 'a', '5']);
    expect(next.stderr).toBe('');
    expect(next.stdout).toBe('a: removed 2 file(s) a killed worker left\na: recorded 3 jobs\n');
    expect(done(file)).toEqual(jobs('a', 5));
    expect(leftovers(path.dirname(file))).toEqual([]);
  });
});
