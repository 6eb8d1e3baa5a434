// Lost races for a generation (in-memory S3): a writer that loses rebases and tries the next
// generation, up to maxRetries times, waiting an exponential, capped, fully jittered time between
// attempts; then ELOCKED with nothing visible. The default tolerates the 40 lost races that 8
// writers on one log caused in bench:s3 (docs/benchmarks.md), which the former default (20) did not.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { begin, s3Store, transaction } from '../../src/s3/index.js';
import { s3Faults } from '../../src/s3/faults.js';
import { backoffMs, DEFAULT_MAX_RETRIES } from '../../src/s3/backoff.js';
import { memoryS3 } from './memory.js';

afterEach(() => {
  s3Faults.hook = undefined;
  vi.restoreAllMocks();
});

const bucket = 'b';

/** A store whose writer `victim` loses the next `losses` races: another host commits first. */
function rigged(losses: number) {
  const mem = memoryS3();
  const victim = s3Store({ client: mem.client, bucket });
  const other = s3Store({ client: mem.client, bucket });
  let busy = false;
  let lost = 0;
  let logPuts = 0;
  s3Faults.hook = async (e) => {
    if (busy || e.phase !== 'before' || e.op !== 'put-if-absent' || !e.key.startsWith('log/')) return;
    logPuts++;
    if (lost >= losses) return;
    lost++;
    busy = true; // the other host's own log PUT is not rigged
    await transaction({ store: other }, (tx) => tx.write(`other/${lost}`, 'x'));
    busy = false;
  };
  return { mem, victim, other, logPuts: () => logPuts };
}

describe('txnfs/s3 lost races (in-memory S3)', () => {
  it('backoff: full jitter up to min(1 s, 10 ms × 2^attempt)', () => {
    expect([0, 1, 2, 3, 6, 7, 20, 1000].map((a) => backoffMs(a, 0.5))).toEqual([5, 10, 20, 40, 320, 500, 500, 500]);
    for (let a = 0; a < 100; a++) {
      expect(backoffMs(a, 0)).toBe(0);
      expect(backoffMs(a, 0.999_999)).toBeLessThan(1000);
    }
  });

  it('a writer that loses more races than the former default (20) still commits with the default maxRetries', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0); // no waiting: the count is what is tested
    const r = rigged(30);
    const tx = begin({ store: r.victim });
    tx.write('mine', 'v');
    const result = await tx.commit();
    expect(result).toMatchObject({ generation: 31, rebases: 30 });
    expect(r.logPuts()).toBe(31);
    expect(DEFAULT_MAX_RETRIES).toBeGreaterThanOrEqual(40);
  });

  it('losing more than maxRetries races fails with ELOCKED after exactly maxRetries + 1 log PUTs, nothing visible, its staged data gone', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const r = rigged(Infinity);
    const tx = begin({ store: r.victim, maxRetries: 3 });
    tx.write('mine', 'v');
    await expect(tx.commit()).rejects.toMatchObject({ code: 'ELOCKED', txnId: tx.id });
    expect(r.logPuts()).toBe(4);
    s3Faults.hook = undefined;
    const head = await s3Store({ client: r.mem.client, bucket }).current();
    expect(head.generation).toBe(4);
    expect(head.tree.get('mine')).toBeUndefined();
    expect([...r.mem.objects.keys()].filter((k) => k.startsWith(`b/data/${tx.id}/`))).toEqual([]);
  });
});
