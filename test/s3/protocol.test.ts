// The txnfs/s3 commit protocol against a real S3 server (Ceph RGW, scripts/rgw.sh): several
// processes, each with its own client, race read-modify-write commits while a reader loops over
// snapshots. The mutation that makes the log PUT unconditional (src/s3/log.ts, putEntry) lets two
// writers both "win" generation N; whether a race here hits it depends on timing, so
// test/s3/contention.test.ts forces that race and shows both checks (unique generations, no lost
// commit) catch it.
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { begin, openSnapshot, s3Store } from '../../src/s3/index.js';
import { rgwUnavailable, useRgwBucket } from '../helpers/rgw.js';

const missing = rgwUnavailable();
const run = promisify(execFile);
const writer = path.join(import.meta.dirname, 'fixtures/writer.mjs');
const bucket = 'protocol';
const s3 = useRgwBucket(bucket);

describe.skipIf(missing !== undefined)(`txnfs/s3 on Ceph RGW${missing ? ` (skipped: ${missing})` : ''}`, () => {
  it('commit returns generation 1, then one more; a snapshot sees exactly its generation', async () => {
    const store = s3Store({ client: s3.client, bucket, prefix: 'basic' });
    const t1 = begin({ store });
    t1.write('a.txt', 'one');
    t1.write('b.txt', Buffer.from('two'));
    expect(await t1.commit()).toMatchObject({ generation: 1 });
    const snap1 = await openSnapshot({ store });
    const t2 = begin({ store });
    t2.remove('a.txt');
    t2.write('b.txt', 'three');
    expect(await t2.commit()).toMatchObject({ generation: 2 });
    // A fresh store (another host) discovers the head by probing.
    const snap2 = await openSnapshot({ store: s3Store({ client: s3.client, bucket, prefix: 'basic/' }) });
    expect([snap1.generation, snap1.list(), (await snap1.readFile('b.txt')).toString()]).toEqual([1, ['a.txt', 'b.txt'], 'two']);
    expect([snap2.generation, snap2.list(), (await snap2.readFile('b.txt')).toString()]).toEqual([2, ['b.txt'], 'three']);
    snap1.release();
    snap2.release();
  });

  it('a commit whose read went stale fails with EPRECONDITION and leaves nothing visible; a blind write rebases', async () => {
    const store = s3Store({ client: s3.client, bucket, prefix: 'stale' });
    const seed = begin({ store });
    seed.write('n', '0');
    await seed.commit();
    const slow = begin({ store });
    await slow.read('n');
    slow.write('n', 'slow');
    const blind = begin({ store });
    blind.write('other', 'x');
    const fast = begin({ store });
    fast.write('n', 'fast');
    await fast.commit();
    await expect(slow.commit()).rejects.toMatchObject({ code: 'EPRECONDITION' });
    expect(await blind.commit()).toMatchObject({ generation: 3 });
    const snap = await openSnapshot({ store });
    expect((await snap.readFile('n')).toString()).toBe('fast');
  });

  it('4 processes x (8 read-modify-write + 8 disjoint blind) commits: generations unique and contiguous, no lost update, no lost blind write, no mixed snapshot', async () => {
    const prefix = 'race';
    const n = 4;
    const m = 8;
    const store = s3Store({ client: s3.client, bucket, prefix });
    let stop = false;
    let snapshots = 0;
    const mixed: string[] = [];
    const reader = (async () => {
      while (!stop) {
        const snap = await openSnapshot({ store: s3Store({ client: s3.client, bucket, prefix }) });
        if (snap.generation > 0) {
          const [a, b] = await Promise.all([snap.readFile('pair/a'), snap.readFile('pair/b')]);
          if (!a.equals(b)) mixed.push(`${snap.generation}: ${a} / ${b}`);
          snapshots++;
        }
        snap.release();
      }
    })();
    const outs = await Promise.all(
      Array.from({ length: n }, (_, id) =>
        run(process.execPath, [writer, s3.rgw!.endpoint, s3.rgw!.accessKeyId, s3.rgw!.secretAccessKey, bucket, prefix, String(id), String(m)]),
      ),
    );
    stop = true;
    await reader;
    const results = outs.map((o) => JSON.parse(o.stdout) as { generations: number[]; conflicts: number });
    const all = results.flatMap((r) => r.generations).sort((x, y) => x - y);
    expect(all).toEqual(Array.from({ length: 2 * n * m }, (_, i) => i + 1));
    const final = await openSnapshot({ store });
    expect(final.generation).toBe(2 * n * m);
    expect((await final.readFile('counter')).toString()).toBe(String(n * m));
    // Every blind write of every host is there with its bytes: a rebase never drops a change.
    const own = final.list().filter((f) => f.startsWith('own/'));
    expect(own.sort()).toEqual(Array.from({ length: n }, (_, id) => Array.from({ length: m }, (_, i) => `own/${id}/${i}`)).flat().sort());
    for (const f of own) expect((await final.readFile(f)).toString()).toBe(`${f.split('/')[1]}-${f.split('/')[2]}`);
    final.release();
    expect(mixed).toEqual([]);
    expect(snapshots).toBeGreaterThan(0);
    console.log(`s3 race: ${n}x${2 * m} commits, ${results.reduce((s, r) => s + r.conflicts, 0)} EPRECONDITION retries, ${snapshots} snapshots`);
  }, 120_000);
});
