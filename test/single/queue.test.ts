import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { KeyedQueue } from '../../src/single/queue.js';

describe('KeyedQueue', () => {
  it('runs the tasks of one key one at a time, in call order, even when earlier ones are slower', async () => {
    const q = new KeyedQueue();
    const log: string[] = [];
    let running = 0;
    const task = (name: string, ms: number) => async () => {
      running++;
      expect(running).toBe(1);
      log.push(`start ${name}`);
      await sleep(ms);
      log.push(`end ${name}`);
      running--;
      return name;
    };
    const results = await Promise.all([q.run('k', task('a', 30)), q.run('k', task('b', 1)), q.run('k', task('c', 10))]);
    expect(results).toEqual(['a', 'b', 'c']);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });

  it('a failing task rejects its own call and does not hold up the next', async () => {
    const q = new KeyedQueue();
    const boom = new Error('boom');
    const first = q.run('k', async () => {
      throw boom;
    });
    const second = q.run('k', async () => 'ok');
    await expect(first).rejects.toBe(boom);
    await expect(second).resolves.toBe('ok');
  });

  it('runs different keys concurrently and forgets a key once its line is empty', async () => {
    const q = new KeyedQueue();
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const a = q.run('a', () => gate);
    const b = q.run('b', async () => 'b ran while a waits');
    await expect(b).resolves.toBe('b ran while a waits');
    expect(q.size).toBe(1);
    release();
    await a;
    expect(q.size).toBe(0);
  });
});
