// Checkpoints and request costs of txnfs/s3, on the in-memory S3 (test/s3/memory.ts): a reader
// that starts at the newest checkpoint sees exactly the tree that folding the whole log gives, a
// missing or unreadable checkpoint costs requests and never data, and the requests of a commit and
// of opening a snapshot do not grow with the number of files (1,000 vs 100,000). The same counts
// are measured on Ceph RGW by benchmarks/s3.mjs (docs/benchmarks.md).
import { afterEach, describe, expect, it } from 'vitest';
import { begin, openSnapshot, recover, s3Store, transaction, type S3Store } from '../../src/s3/index.js';
import { s3Faults } from '../../src/s3/faults.js';
import type { S3RequestCounts } from '../../src/s3/seam.js';
import { memoryS3 } from './memory.js';

afterEach(() => {
  s3Faults.hook = undefined;
  s3Faults.mutations.clear();
});

const bucket = 'b';

/** Requests `fn` sends through `store`'s seam, by kind (zero kinds left out). */
export async function counted(store: S3Store, fn: () => Promise<unknown>): Promise<Partial<S3RequestCounts>> {
  const before = { ...store.seam.requests };
  await fn();
  const out: Partial<S3RequestCounts> = {};
  for (const [k, v] of Object.entries(store.seam.requests) as [keyof S3RequestCounts, number][]) if (v - before[k] > 0) out[k] = v - before[k];
  return out;
}

/** A deterministic mix of writes and removals over 30 paths, one commit per generation. */
async function history(store: S3Store, generations: number): Promise<void> {
  let seed = 7;
  const rnd = (n: number): number => {
    seed ^= seed << 13; // xorshift32: deterministic and spread over every value
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  for (let g = 1; g <= generations; g++) {
    await transaction({ store }, (tx) => {
      for (let i = 0, n = 1 + rnd(4); i < n; i++) {
        const p = `d${rnd(3)}/f${rnd(10)}`;
        if (rnd(4) === 0) tx.remove(p);
        else tx.write(p, `g${g} ${p}`);
      }
    });
  }
}

function treeOf(t: { entries(): Iterable<[string, { key: string }]> }): Record<string, string> {
  return Object.fromEntries([...t.entries()].map(([p, f]) => [p, f.key]).sort());
}

describe('txnfs/s3 checkpoints (in-memory S3)', () => {
  it('a reader from the newest checkpoint sees, at every generation, exactly what folding the whole log gives', async () => {
    const mem = memoryS3();
    const store = s3Store({ client: mem.client, bucket, checkpointEvery: 5 });
    await history(store, 37);
    expect([...mem.objects.keys()].filter((k) => k.startsWith('b/checkpoint/'))).toHaveLength(7);
    expect((await store.at(37)).size).toBeGreaterThan(10);
    for (let g = 1; g <= 37; g++) {
      const viaCheckpoint = s3Store({ client: mem.client, bucket, checkpointEvery: 5 });
      const folded = s3Store({ client: mem.client, bucket, checkpointEvery: 0 });
      expect(treeOf(await viaCheckpoint.at(g)), `generation ${g}`).toEqual(treeOf(await folded.at(g)));
      // From a checkpoint: never more than checkpointEvery - 1 entries.
      expect(viaCheckpoint.seam.requests.get).toBeLessThanOrEqual(g < 5 ? g : 1 + 4);
    }
  });

  it('catches a checkpoint that lists the writer base instead of its commit (mutation s3-checkpoint-stale)', async () => {
    const mem = memoryS3();
    s3Faults.mutations.add('s3-checkpoint-stale');
    await history(s3Store({ client: mem.client, bucket, checkpointEvery: 5 }), 10);
    s3Faults.mutations.clear();
    const viaCheckpoint = s3Store({ client: mem.client, bucket, checkpointEvery: 5 });
    const folded = s3Store({ client: mem.client, bucket, checkpointEvery: 0 });
    const [bad, good] = [treeOf(await viaCheckpoint.at(10)), treeOf(await folded.at(10))];
    expect(Object.keys(good).length).toBeGreaterThan(5);
    expect(bad).not.toEqual(good);
  });

  it('a checkpoint that failed to be written, or that is unreadable, costs entry reads, never data; recover() writes the missing one', async () => {
    const mem = memoryS3();
    const store = s3Store({ client: mem.client, bucket, checkpointEvery: 5 });
    await history(store, 9);
    s3Faults.hook = (e) => {
      if (e.op === 'put-if-absent' && e.key.startsWith('checkpoint/') && e.phase === 'before') throw new Error('injected: checkpoint PUT fails');
    };
    const tx = begin({ store });
    tx.write('d0/f0', 'at 10');
    const r = await tx.commit();
    s3Faults.hook = undefined;
    expect(r.generation).toBe(10);
    expect(r.warnings.join()).toMatch(/checkpoint of generation 10 was not written/);
    await history(store, 3); // generations 11..13
    const folded = treeOf(await s3Store({ client: mem.client, bucket, checkpointEvery: 0 }).at(13));
    const fresh = s3Store({ client: mem.client, bucket, checkpointEvery: 5 });
    expect(treeOf(await fresh.at(13))).toEqual(folded);
    expect(fresh.seam.requests.get).toBe(1 + 8); // checkpoint 5, entries 6..13
    // Corrupt checkpoint 5 (someone rewrote it): the reader falls back to folding from entry 1.
    const ck5 = [...mem.objects.keys()].find((k) => k.includes('checkpoint/') && k.endsWith('-5.json'))!;
    mem.objects.get(ck5)!.body = Buffer.from('{"format":1,"generation":5,"files":"oops"}');
    expect(treeOf(await s3Store({ client: mem.client, bucket, checkpointEvery: 5 }).at(13))).toEqual(folded);
    // recover() finds the head 13 with no checkpoint in the last 5 generations and writes one.
    const report = await recover({ store: s3Store({ client: mem.client, bucket, checkpointEvery: 5 }) });
    expect(report.checkpoints.written).toBe(true);
    const after = s3Store({ client: mem.client, bucket, checkpointEvery: 5 });
    expect(treeOf(await after.at(13))).toEqual(folded);
    expect(after.seam.requests).toMatchObject({ get: 1, list: 1 });
  });

  it('a writer that crashes at its checkpoint (before the PUT, after it, or leaving a cut or edited body) leaves every reader with the folded tree; catches a reader that trusts a cut list (mutation s3-checkpoint-unchecked)', async () => {
    const mem = memoryS3();
    const store = s3Store({ client: mem.client, bucket, checkpointEvery: 5 });
    await history(store, 9);
    // The writer of generation 10 dies at its checkpoint PUT: before it is sent, then (a second
    // store) after the server stored it but before the writer heard. Either way the commit stands.
    for (const phase of ['before', 'after'] as const) {
      const m = memoryS3();
      const w = s3Store({ client: m.client, bucket, checkpointEvery: 5 });
      await history(w, 9);
      s3Faults.hook = (e) => {
        if (e.key.startsWith('checkpoint/') && e.op === 'put-if-absent' && e.phase === phase) throw new Error(`injected: killed ${phase} the checkpoint PUT`);
      };
      await transaction({ store: w }, (tx) => tx.write('d0/f0', 'at 10'));
      s3Faults.hook = undefined;
      const folded = treeOf(await s3Store({ client: m.client, bucket, checkpointEvery: 0 }).at(10));
      const reader = s3Store({ client: m.client, bucket, checkpointEvery: 5 });
      expect(treeOf(await reader.at(10)), phase).toEqual(folded);
      expect(folded['d0/f0']).toBeDefined();
    }
    await transaction({ store }, (tx) => tx.write('d0/f0', 'at 10')); // checkpoint 10 written
    await history(s3Store({ client: mem.client, bucket, checkpointEvery: 0 }), 2); // 11, 12: no checkpoint
    const ck10 = [...mem.objects.keys()].find((k) => k.includes('checkpoint/') && k.endsWith('-10.json'))!;
    const whole = mem.objects.get(ck10)!.body;
    const body = JSON.parse(whole.toString()) as { files: [string, string][]; count: number };
    expect(body.count).toBe(body.files.length);
    expect(body.files.length).toBeGreaterThan(5);
    const folded = treeOf(await s3Store({ client: mem.client, bucket, checkpointEvery: 0 }).at(12));
    // A file of checkpoint 10 that entries 11 and 12 do not touch: dropping it changes the tree.
    const victim = body.files.find(([p, key]) => folded[p] === key)!;
    // What a torn or tampered checkpoint could hold: cut anywhere, or valid JSON with a file less.
    const bodies: [string, Buffer][] = [1, 0.5, 0.9, whole.length - 1].map((n) => [`cut at ${n}`, whole.subarray(0, n < 1 ? Math.floor(whole.length * n) : n)]);
    bodies.push(['a file less', Buffer.from(JSON.stringify({ ...body, files: body.files.filter((f) => f !== victim) }))]);
    for (const [what, bad] of bodies) {
      mem.objects.get(ck10)!.body = bad;
      const reader = s3Store({ client: mem.client, bucket, checkpointEvery: 5 });
      expect(treeOf(await reader.at(12)), what).toEqual(folded);
      // It fell back to checkpoint 5 and the 7 entries after it.
      expect(reader.seam.requests.get, what).toBe(2 + 7);
      // A sweep does not take the unreadable checkpoint for a missing one, and does not replace it
      // (create-only); readers keep falling back until checkpoint 15.
      await recover({ store: s3Store({ client: mem.client, bucket, checkpointEvery: 5 }) });
      expect(mem.objects.get(ck10)!.body).toBe(bad);
    }
    // The check is what saves the reader: trusting the edited list reads a tree with a file missing.
    s3Faults.mutations.add('s3-checkpoint-unchecked');
    expect(treeOf(await s3Store({ client: mem.client, bucket, checkpointEvery: 5 }).at(12))).not.toEqual(folded);
  });

  it('a reader of any generation loads the newest checkpoint at or below it and the entries after it, never the whole log', async () => {
    const mem = memoryS3();
    const store = s3Store({ client: mem.client, bucket, checkpointEvery: 10 });
    await history(store, 95);
    // One checkpoint per 10 commits, written by the committing writer.
    expect([...mem.objects.keys()].filter((k) => k.startsWith('b/checkpoint/')).map((k) => Number(/-([0-9]+)\.json$/.exec(k)![1])).sort((a, b) => a - b)).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90]);
    for (const g of [9, 10, 11, 59, 95]) {
      const reader = s3Store({ client: mem.client, bucket, checkpointEvery: 10 });
      const got = await counted(reader, () => reader.at(g));
      const ck = Math.floor(g / 10) * 10;
      // One LIST finds the checkpoint, one GET reads it, one GET per entry after it.
      expect(got, `generation ${g}`).toEqual(ck === 0 ? { list: 1, get: g } : { list: 1, get: 1 + (g - ck) });
      expect(treeOf(await reader.at(g))).toEqual(treeOf(await s3Store({ client: mem.client, bucket, checkpointEvery: 0 }).at(g)));
    }
  });

  it('opening a snapshot costs the same requests after 25 and after 1,005 generations', async () => {
    const open = async (generations: number): Promise<Partial<S3RequestCounts>> => {
      const mem = memoryS3();
      const writer = s3Store({ client: mem.client, bucket, checkpointEvery: 10 });
      await history(writer, generations);
      const reader = s3Store({ client: mem.client, bucket, checkpointEvery: 10 });
      return await counted(reader, async () => {
        const snap = await openSnapshot({ store: reader });
        expect(snap.generation).toBe(generations);
        await snap.release();
      });
    };
    const [few, many] = [await open(25), await open(1005)];
    // Hint GET, lease PUT, one HEAD, checkpoint LIST + GET, 5 entries, lease DELETE.
    expect(few).toEqual({ get: 1 + 1 + 5, put: 1, head: 1, list: 1, delete: 1 });
    expect(many).toEqual(few);
  }, 60_000);
});

describe('txnfs/s3 request costs do not grow with the tree (in-memory S3)', () => {
  /** A store of `files` files at generation 10 (checkpoint at 10), written by the returned handle. */
  async function tree(files: number): Promise<{ mem: ReturnType<typeof memoryS3>; writer: S3Store }> {
    const mem = memoryS3();
    const writer = s3Store({ client: mem.client, bucket, checkpointEvery: 10 });
    const tx = begin({ store: writer, concurrency: 64 });
    for (let i = 0; i < files; i++) void tx.write(`dir${i % 100}/file${i}`, `v0 ${i}`);
    await tx.commit();
    for (let g = 2; g <= 10; g++) await transaction({ store: writer }, (t) => t.write(`batch/${g}`, 'x'));
    return { mem, writer };
  }

  /** The costs the issue names, measured on one store. */
  async function costs(files: number): Promise<Record<string, Partial<S3RequestCounts>>> {
    const { mem, writer } = await tree(files);
    const tenFiles = (store: S3Store, tag: string) => async () => {
      const tx = begin({ store });
      for (let i = 0; i < 10; i++) tx.write(`dir${i}/file${i}`, `${tag} ${i}`);
      await tx.commit();
    };
    const out: Record<string, Partial<S3RequestCounts>> = {};
    out.warmCommit = await counted(writer, tenFiles(writer, 'warm')); // generation 11
    const cold = s3Store({ client: mem.client, bucket, checkpointEvery: 10 });
    out.coldBlindCommit = await counted(cold, tenFiles(cold, 'cold')); // 12
    const rmw = s3Store({ client: mem.client, bucket, checkpointEvery: 10 });
    out.coldReadModifyWrite = await counted(rmw, async () => {
      const tx = begin({ store: rmw });
      const { data } = await tx.read('dir0/file0');
      tx.write('dir0/file0', `${data} +1`);
      for (let i = 1; i < 10; i++) tx.write(`dir${i}/file${i}`, `rmw ${i}`);
      await tx.commit(); // 13
    });
    const reader = s3Store({ client: mem.client, bucket, checkpointEvery: 10 });
    let listed = 0;
    out.coldOpenSnapshot = await counted(reader, async () => {
      const snap = await openSnapshot({ store: reader });
      listed = snap.list().length;
      await snap.release();
    });
    expect(listed).toBe(files + 9);
    return out;
  }

  it('a 10-file commit on 1,000 and on 100,000 files: the same requests; opening a snapshot: the same bounded requests', async () => {
    const small = await costs(1_000);
    const large = await costs(100_000);
    console.log(`s3 request costs (1,000 files | 100,000 files):\n${Object.keys(small).map((k) => `  ${k}: ${JSON.stringify(small[k])} | ${JSON.stringify(large[k])}`).join('\n')}`);
    expect(large).toEqual(small);
    // O(10): the 10 data PUTs, one HEAD (the head did not move), the log PUT, the hint PUT.
    expect(small.warmCommit).toEqual({ put: 12, head: 1 });
    // A new handle: the hint (GET) and one HEAD; a blind commit never loads the tree.
    expect(small.coldBlindCommit).toEqual({ put: 12, get: 1, head: 1 });
    // A read: the hint, a HEAD, the newest checkpoint (LIST + GET), the 2 entries after it, the
    // file; the commit looks at the head again (one HEAD).
    expect(small.coldReadModifyWrite).toEqual({ put: 12, get: 1 + 1 + 2 + 1, head: 2, list: 1 });
    // Bounded: hint GET, lease PUT, one HEAD, checkpoint LIST + GET, 3 entries, lease DELETE.
    expect(small.coldOpenSnapshot).toEqual({ get: 1 + 1 + 3, put: 1, head: 1, list: 1, delete: 1 });
  }, 120_000);
});
