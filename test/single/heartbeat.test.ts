import { afterEach, describe, expect, it, vi } from 'vitest';
import { HEARTBEAT_MS, holdName, isWritingHere, keepFresh, TEMP_STALE_MS } from '../../src/single/heartbeat.js';
import { record } from '../helpers/hook.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('heartbeat', () => {
  it('its timing is deliberate: a temp is stale only after six missed beats', () => {
    expect({ HEARTBEAT_MS, TEMP_STALE_MS }).toEqual({ HEARTBEAT_MS: 5_000, TEMP_STALE_MS: 30_000 });
    expect(TEMP_STALE_MS / HEARTBEAT_MS).toBeGreaterThanOrEqual(6);
  });

  it('touches every open temp each beat, stops with the last one, and keeps no timer when idle', async () => {
    vi.useFakeTimers();
    const events = record();
    const stopA = keepFresh('/nonexistent/a');
    const stopB = keepFresh('/nonexistent/b');
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(HEARTBEAT_MS);
    const touched = () => events.filter((e) => e.kind === 'op' && e.op === 'utimes').map((e) => (e.kind === 'op' ? e.path : ''));
    expect(touched()).toEqual(['/nonexistent/a', '/nonexistent/b']);
    stopA();
    stopA(); // idempotent
    vi.advanceTimersByTime(HEARTBEAT_MS);
    expect(touched()).toEqual(['/nonexistent/a', '/nonexistent/b', '/nonexistent/b']);
    stopB();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(HEARTBEAT_MS * 3);
    expect(touched()).toHaveLength(3);
  });

  it("holds a name as a live temp of this thread without touching it (an undo link: its mtime is the replaced file's)", () => {
    vi.useFakeTimers();
    const events = record();
    const stopTemp = keepFresh('/nonexistent/temp');
    const release = holdName('/nonexistent/undo');
    // Judged live like a temp being written (src/single/orphans.ts), so no other commit's gate removes it.
    expect(isWritingHere('/nonexistent/undo')).toBe(true);
    vi.advanceTimersByTime(HEARTBEAT_MS);
    const touched = events.filter((e) => e.kind === 'op' && e.op === 'utimes').map((e) => (e.kind === 'op' ? e.path : ''));
    expect(touched).toEqual(['/nonexistent/temp']);
    release();
    expect(isWritingHere('/nonexistent/undo')).toBe(false);
    stopTemp();
    expect(vi.getTimerCount()).toBe(0);
  });
});
