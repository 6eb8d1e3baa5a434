/**
 * clock.ts: milliseconds on a monotonic clock, for the durations txnfs reports (`durationMs`).
 *
 * `process.hrtime()`, not `performance.now()`: in Node 20 the global `performance` loads
 * perf_hooks on its first use, about 1 ms that a process's first commit paid.
 */
export function now(): number {
  const [s, ns] = process.hrtime();
  return s * 1e3 + ns / 1e6;
}
