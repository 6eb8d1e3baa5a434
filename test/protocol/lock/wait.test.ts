/**
 * lock/wait.ts: what wakes a lock waiter. Each case fails if the waiter sleeps its whole timer
 * where it should wake (a hand-off that costs the backoff), or wakes where it should sleep (the
 * storm of attempts that other waiters' entries used to cause).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useFsImpl } from '../../../src/io/fs.js';
import { nodeImpl } from '../../../src/io/node-fs.js';
import { sleep } from '../../../src/protocol/lock/wait.js';
import { tmpdir } from '../../helpers/tmp.js';

const LONG = 2_000;

async function timed(p: Promise<void>): Promise<number> {
  const started = Date.now();
  await p;
  return Date.now() - started;
}

describe('sleep(ms, signal, wake)', () => {
  it('wakes when an entry it watches leaves', async () => {
    const dir = tmpdir();
    fs.mkdirSync(path.join(dir, 'holder'));
    const slept = timed(sleep(LONG, undefined, { dir, names: new Set(['holder']) }));
    await new Promise((r) => setTimeout(r, 50));
    fs.rmdirSync(path.join(dir, 'holder'));
    expect(await slept).toBeLessThan(LONG / 2);
  });

  it('sleeps on while other entries come and go', async () => {
    const dir = tmpdir();
    fs.mkdirSync(path.join(dir, 'holder'));
    const slept = timed(sleep(400, undefined, { dir, names: new Set(['holder']) }));
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 20));
      fs.mkdirSync(path.join(dir, `waiter${i}`));
      fs.rmdirSync(path.join(dir, `waiter${i}`));
    }
    expect(await slept).toBeGreaterThanOrEqual(390);
  });

  it('wakes at once when an entry it is to watch left before the watch began', async () => {
    const dir = tmpdir();
    expect(await timed(sleep(LONG, undefined, { dir, names: new Set(['gone-already']) }))).toBeLessThan(LONG / 2);
  });

  it('without names, wakes on any change', async () => {
    const dir = tmpdir();
    const slept = timed(sleep(LONG, undefined, { dir }));
    await new Promise((r) => setTimeout(r, 50));
    fs.mkdirSync(path.join(dir, 'anything'));
    expect(await slept).toBeLessThan(LONG / 2);
  });

  it('wakes the waiter that keeps its entry from the event itself, before the next turn of the loop', async () => {
    // The watch is the test's, so that the event comes when the test says: a setImmediate queued
    // just before it must run after the keeper has woken (a hand-off that waits a turn of the
    // loop runs it first).
    const dir = tmpdir();
    fs.mkdirSync(path.join(dir, 'holder'));
    let fire: ((name?: string) => void) | undefined;
    const prev = useFsImpl({ ...nodeImpl, watch: (_p: string, listener: (name?: string) => void) => ((fire = listener), { close() {} }) });
    try {
      const order: string[] = [];
      const slept = sleep(LONG, undefined, { dir, names: new Set(['holder']), immediate: true }).then(() => order.push('woken'));
      // Let the check for an entry that left before the watch began run (it finds 'holder').
      await new Promise((r) => setTimeout(r, 20));
      expect(order).toEqual([]);
      fs.rmdirSync(path.join(dir, 'holder'));
      setImmediate(() => order.push('next turn'));
      fire?.('holder');
      await slept;
      await new Promise((r) => setImmediate(r));
      expect(order).toEqual(['woken', 'next turn']);
    } finally {
      useFsImpl(prev);
    }
  });

  it('rejects with the reason when aborted', async () => {
    const ac = new AbortController();
    const p = sleep(LONG, ac.signal, { dir: tmpdir() });
    ac.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
  });
});
