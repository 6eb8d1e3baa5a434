import { describe, expect, it } from 'vitest';
import { ProgressBar, renderBar, type ProgressStream } from '../../src/cli/progress.js';

function fakeTty(isTTY: boolean, columns?: number): ProgressStream & { text: string } {
  const s = { text: '', isTTY, columns, write: (t: string) => (s.text += t) };
  return s;
}

const at = (done: number, total = 200) => ({ id: 'abc', direction: 'forward' as const, done, total });

describe('ProgressBar', () => {
  it('draws nothing when the stream is not a terminal', () => {
    const s = fakeTty(false);
    const bar = new ProgressBar(s);
    expect(bar.enabled).toBe(false);
    bar.update(at(200));
    bar.clear();
    expect(s.text).toBe('');
  });

  it('draws nothing for a small transaction', () => {
    const s = fakeTty(true, 80);
    const bar = new ProgressBar(s, { minTotal: 100 });
    for (let i = 1; i <= 99; i++) bar.update(at(i, 99));
    bar.clear();
    expect(s.text).toBe('');
  });

  it('redraws at most every intervalMs, always draws the end, and erases itself', () => {
    const s = fakeTty(true, 80);
    let now = 0;
    const bar = new ProgressBar(s, { intervalMs: 100, now: () => now });
    bar.update(at(1)); // drawn: first
    now = 50;
    bar.update(at(2)); // too soon
    now = 150;
    bar.update(at(3)); // drawn
    now = 160;
    bar.update(at(200)); // drawn: the end
    const frames = s.text.split('\r\x1b[K').filter((f) => f !== '');
    expect(frames.map((f) => f.slice(f.lastIndexOf(' ') + 1))).toEqual(['1/200', '3/200', '200/200']);
    bar.clear();
    expect(s.text.endsWith('200/200\r\x1b[K')).toBe(true);
  });

  it('draws 80 columns when a terminal reports none', () => {
    const s = fakeTty(true, 0);
    new ProgressBar(s).update(at(100));
    expect(s.text.length).toBeGreaterThan(20);
    expect(s.text.length).toBeLessThanOrEqual('\r\x1b[K'.length + 79);
  });
});

describe('renderBar', () => {
  it('fills in proportion and fits the width', () => {
    expect(renderBar({ id: 'x', direction: 'back', done: 5, total: 10 }, 40)).toBe('rolling back x [#########--------] 5/10');
    expect(renderBar(at(200), 80)).toMatch(/^rolling forward abc \[#{40}\] 200\/200$/);
    for (const columns of [1, 10, 30, 200]) expect(renderBar(at(7), columns).length).toBeLessThanOrEqual(columns - 1);
  });
});
