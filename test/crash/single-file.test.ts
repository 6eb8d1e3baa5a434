/**
 * Child-process tests of single-file writes: a writer SIGKILLed mid-write leaves the file whole
 * and an orphan that recover(dir) removes; a live writer's temp survives a concurrent recover();
 * writers in several processes always leave one whole version.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { recover, update } from '../../src/index.js';
import { leftovers, snapshot, tmpdir } from '../helpers/tmp.js';

const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/single-file-writer.mjs');

interface Run {
  readonly child: ChildProcess;
  readonly lines: string[];
  /** Resolves with the signal that ended the child (or null after a normal exit). */
  readonly exited: Promise<NodeJS.Signals | null>;
  waitFor(prefix: string): Promise<string>;
}

function start(...args: string[]): Run {
  const child = spawn(process.execPath, [fixture, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: string[] = [];
  const waiters: { prefix: string; resolve: (line: string) => void }[] = [];
  let buffered = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    let nl: number;
    while ((nl = buffered.indexOf('\n')) !== -1) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      lines.push(line);
      for (const w of waiters.filter((x) => line.startsWith(x.prefix))) w.resolve(line);
    }
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_code, signal) => resolve(signal)));
  return {
    child,
    lines,
    exited,
    waitFor: (prefix) => {
      const found = lines.find((l) => l.startsWith(prefix));
      return found !== undefined ? Promise.resolve(found) : new Promise((resolve) => waiters.push({ prefix, resolve }));
    },
  };
}

describe('SIGKILL in the middle of a write', () => {
  for (const at of ['file:created', 'op:write:5', 'file:synced']) {
    it(`at ${at}: the file stays whole and old, and recover(dir) removes the dead writer's temp`, async () => {
      const dir = tmpdir();
      const file = path.join(dir, 'state.bin');
      fs.writeFileSync(file, 'old content');
      const run = start('kill', file, at);
      expect(await run.exited).toBe('SIGKILL');
      const temp = run.lines.find((l) => l.startsWith('temp '))?.slice(5);
      expect(temp).toBeDefined();
      expect(leftovers(dir)).toEqual([path.basename(temp as string)]);
      expect(snapshot(dir)).toEqual({ 'state.bin': 'old content' });
      const report = await recover(dir);
      expect(report.orphans).toEqual([temp]);
      expect(leftovers(dir)).toEqual([]);
      expect(snapshot(dir)).toEqual({ 'state.bin': 'old content' });
    });
  }

  it('after the rename: the file is whole and new, and nothing is left to clean', async () => {
    const dir = tmpdir();
    const file = path.join(dir, 'state.bin');
    fs.writeFileSync(file, 'old content');
    const run = start('kill', file, 'file:renamed');
    expect(await run.exited).toBe('SIGKILL');
    expect(fs.statSync(file).size).toBe(16 * 64 * 1024);
    expect(leftovers(dir)).toEqual([]);
    expect((await recover(dir)).orphans).toEqual([]);
  });

  it('process.exit() in the middle of a write removes the temp on the way out', async () => {
    const dir = tmpdir();
    const file = path.join(dir, 'out.txt');
    fs.writeFileSync(file, 'old');
    const run = start('exit', file);
    expect(await run.exited).toBe(null);
    expect(run.lines.some((l) => l.startsWith('temp '))).toBe(true);
    expect(snapshot(dir)).toEqual({ 'out.txt': 'old' });
    expect(leftovers(dir)).toEqual([]);
  });

  it("a live writer's temp survives a concurrent recover(), then lands", async () => {
    const dir = tmpdir();
    const file = path.join(dir, 'out.txt');
    fs.writeFileSync(file, 'old');
    const run = start('live', file);
    await run.waitFor('ready');
    const temp = (await run.waitFor('temp ')).slice(5);
    const report = await recover(dir);
    expect(report.orphans).toEqual([]);
    expect(fs.existsSync(temp)).toBe(true);
    expect(snapshot(dir)).toEqual({ 'out.txt': 'old' });
    run.child.stdin?.write('finish\n');
    await run.waitFor('done');
    await run.exited;
    expect(snapshot(dir)).toEqual({ 'out.txt': 'partial, and the rest' });
    expect(leftovers(dir)).toEqual([]);
  });

  it("an update() holder killed inside fn: the file is untouched, its lock is reclaimed at once and recover() removes it", async () => {
    const dir = tmpdir();
    const file = path.join(dir, 'counter.json');
    fs.writeFileSync(file, '{"n":1}');
    const run = start('kill-in-update', file);
    expect(await run.exited).toBe('SIGKILL');
    expect(run.lines).toContain('locked');
    expect(leftovers(dir).some((n) => n.startsWith('.upd-'))).toBe(true);
    const report = await recover(dir, { dryRun: true });
    expect(report.orphans.map((p) => path.basename(p))).toEqual(leftovers(dir).filter((n) => n.startsWith('.upd-')));
    // The next update does not wait for the stale time (10 s): the dead holder is detected by
    // identity, so a lockTimeout far shorter than lockStale is enough.
    await update(file, () => '{"n":2}', { lockTimeout: 1_000, lockStale: 10_000 });
    expect(snapshot(dir)).toEqual({ 'counter.json': '{"n":2}' });
    expect(leftovers(dir)).toEqual([]);
  });
});

describe('writers in several processes', () => {
  it('the last rename wins and every read sees one whole version', async () => {
    const dir = tmpdir();
    const file = path.join(dir, 'shared.bin');
    const runs = ['a', 'b', 'c'].map((tag) => start('hammer', file, '25', tag));
    const done = Promise.all(runs.map((r) => r.exited));
    let finished = false;
    void done.then(() => {
      finished = true;
    });
    let reads = 0;
    while (!finished) {
      let data: Buffer;
      try {
        data = fs.readFileSync(file);
      } catch {
        await new Promise((r) => setTimeout(r, 1));
        continue; // not written yet
      }
      const nl = data.indexOf(10);
      const sum = data.subarray(0, nl).toString();
      expect(createHash('sha256').update(data.subarray(nl + 1)).digest('hex'), `read ${reads} is a whole version`).toBe(sum);
      reads++;
      await new Promise((r) => setImmediate(r));
    }
    expect(await done).toEqual([null, null, null]);
    expect(reads).toBeGreaterThan(0);
    expect(leftovers(dir)).toEqual([]);
  });
});
