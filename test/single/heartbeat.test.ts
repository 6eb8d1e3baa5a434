import { afterEach, describe, expect, it, vi } from 'vitest';
import { HEARTBEAT_MS, keepFresh, TEMP_STALE_MS } from '../../src/single/heartbeat.js';
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
});
