// How a writer that lost the race for a generation waits before it rebases and tries the next
// one (docs/s3.md, "The protocol"), and how many races it loses before giving up with ELOCKED.
/**
 * Lost races for a generation tolerated by default. With 8 writers on one log a commit lost up to
 * 40 races in bench:s3 (docs/benchmarks.md), more than the 20 this was.
 */
export const DEFAULT_MAX_RETRIES = 50;
const BACKOFF_BASE_MS = 10;
const BACKOFF_CAP_MS = 1000;

/**
 * The wait before rebase attempt `attempt` (0 first): exponential with full jitter, capped. The
 * jitter spreads the losers so they do not collide again on the same next generation; the growth
 * thins the retries when many writers contend; the cap keeps a loser from sleeping through many
 * free generations. `random` is in [0, 1).
 */
export function backoffMs(attempt: number, random: number): number {
  return random * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.min(attempt, 30));
}

/** Sleep the backoff of `attempt`, with a fresh random draw. */
export function backoffSleep(attempt: number): Promise<void> {
  return new Promise((r) => setTimeout(r, backoffMs(attempt, Math.random())));
}
