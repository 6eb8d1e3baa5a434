// The kill loop: a child process (its own S3Client: a stand-in for another host) is SIGKILLed at
// every mutating request of a commit (test/s3/fixtures/killer.mjs), before the request is sent and after it is answered; after each kill,
// recover() runs and a fresh reader opens a snapshot. Every snapshot must be all-old or all-new,
// every file it lists must be readable, and no staged data of an uncommitted transaction may stay
// (after one more sweep for what the killed writer had in flight: see the loop).
// Mutation check: with 's3-log-before-staged' (commit creates the log entry without waiting for its
// uploads) a kill after the log PUT leaves a generation naming a key that was never completed, and
// the same loop reports it. A third loop runs with checkpointEvery 1, so every commit ends with a
// checkpoint PUT (a kill point like any other) and every reader starts from a checkpoint.
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSnapshot, recover, s3Store, transaction } from '../../src/s3/index.js';
import { rgwUnavailable, useRgwBucket } from '../helpers/rgw.js';

const missing = rgwUnavailable();
const bucket = 'kill';
const s3 = useRgwBucket(bucket);
const killer = path.join(import.meta.dirname, 'fixtures/killer.mjs');
const files = ['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'big'];

function child(prefix: string, phase: string, k: number, value: string, mutation?: string, checkpointEvery?: number): Promise<{ signal: NodeJS.Signals | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, ...(mutation === undefined ? {} : { TXNFS_S3_MUTATION: mutation }), ...(checkpointEvery === undefined ? {} : { TXNFS_S3_CHECKPOINT_EVERY: String(checkpointEvery) }) };
    const p = spawn(process.execPath, [killer, s3.rgw!.endpoint, s3.rgw!.accessKeyId, s3.rgw!.secretAccessKey, bucket, prefix, phase, String(k), value], { env, stdio: ['ignore', 'pipe', 'ignore'] });
    let stdout = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.on('error', reject);
    p.on('close', (_code, signal) => resolve({ signal, stdout }));
  });
}

/** What of an uncommitted transaction is in the store: staged data, unfinished uploads (`uploads`). */
async function strayAfterSweep(store: ReturnType<typeof s3Store>, uploads: boolean): Promise<string[]> {
  const ids = new Set((await store.seam.list('data/')).map((x) => x.key.split('/')[1]!));
  const stray = [...ids].filter((id) => store.generationOf(id) === undefined);
  const out = stray.length > 0 ? [`staged data of uncommitted ${stray.join(', ')}`] : [];
  if (uploads && (await store.seam.listMultipart('data/')).length > 0) out.push('an unfinished upload');
  return out;
}

/** Kill at request k = 1, 2, ... of `phase` until a child commits unharmed; returns what readers saw wrong. */
async function killLoop(prefix: string, phases: readonly ('before' | 'after')[], mutation?: string, stopAtFirst = false, checkpointEvery?: number): Promise<{ violations: string[]; kills: number }> {
  const handle = () => s3Store({ client: s3.client, bucket, prefix, ...(checkpointEvery === undefined ? {} : { checkpointEvery }) });
  const seed = handle();
  await transaction({ store: seed }, (tx) => {
    for (const f of files) tx.write(f, 'v0\n');
  });
  let current = 'v0';
  const violations: string[] = [];
  let kills = 0;
  for (const phase of phases) {
    let committed = false;
    for (let k = 1; k <= 30 && !committed; k++) {
      const value = `${phase}-${k}`;
      const r = await child(prefix, phase, k, value, mutation, checkpointEvery);
      const store = handle();
      await recover({ store, graceMs: 0 }); // the writer is dead: no grace needed
      const snap = await openSnapshot({ store: handle() });
      const seen = new Set<string>();
      for (const f of files) {
        try {
          seen.add((await snap.readFile(f)).toString('utf8', 0, 32).split('\n')[0]!);
        } catch (e) {
          seen.add(`unreadable (${(e as { code?: string }).code})`);
        }
      }
      const ok = seen.size === 1 && (seen.has(current) || seen.has(value));
      if (!ok) violations.push(`${phase} ${k}: generation ${snap.generation} shows ${[...seen].join(', ')}`);
      if (seen.has(value)) current = value;
      // Nothing of an uncommitted transaction stays after the sweep. But a request the writer had in
      // flight when it was killed (it uploads 4 at a time) can land after the sweep listed the
      // store: the server finishes a PUT or a multipart completion whose body it has (seen once in
      // CI, under load: 'before 7: staged data of uncommitted ... left'). No sweep can take what
      // is not there yet; the next one must. So what one sweep leaves, a second must remove.
      let left = await strayAfterSweep(store, mutation === undefined);
      if (left.length > 0) {
        await recover({ store, graceMs: 0 });
        left = await strayAfterSweep(store, mutation === undefined);
      }
      for (const what of left) violations.push(`${phase} ${k}: ${what} left by two sweeps`);
      if (stopAtFirst && violations.length > 0) return { violations, kills };
      if (r.signal !== 'SIGKILL') {
        expect(r.stdout).toMatch(/^committed \d+/);
        committed = true;
      } else kills++;
    }
    // Every request of the commit was a kill point: the last run got through them all.
    if (!stopAtFirst) expect(committed, `${phase}: no run got past the kill point`).toBe(true);
  }
  return { violations, kills };
}

describe.skipIf(missing !== undefined)(`txnfs/s3 kill loop on Ceph RGW${missing ? ` (skipped: ${missing})` : ''}`, () => {
  it('a writer SIGKILLed at every request of a commit: after recover() every snapshot is all-old or all-new', async () => {
    const { violations, kills } = await killLoop('loop', ['before', 'after']);
    console.log(`s3 kill loop: ${kills} kills`);
    expect(kills).toBeGreaterThan(20);
    expect(violations).toEqual([]);
  }, 600_000);

  it('with a checkpoint at every commit (checkpointEvery 1): a writer SIGKILLed at every request, the checkpoint PUT included, leaves readers, who start from the newest checkpoint, all-old or all-new', async () => {
    const { violations, kills } = await killLoop('ckpt', ['before', 'after'], undefined, false, 1);
    console.log(`s3 kill loop with checkpoints: ${kills} kills`);
    // One kill point more per phase than without checkpoints: the checkpoint PUT.
    expect(kills).toBeGreaterThan(22);
    expect(violations).toEqual([]);
  }, 600_000);

  it('catches a commit that does not wait for its uploads (mutation s3-log-before-staged)', async () => {
    const { violations } = await killLoop('mutant', ['after'], 's3-log-before-staged', true);
    console.log(`s3 kill loop, mutant: ${violations[0]}`);
    expect(violations.length).toBeGreaterThan(0);
  }, 600_000);
});
