// Leases and garbage collection of txnfs/s3 (recover()), on the in-memory S3 (test/s3/memory.ts).
// The guarantees: a snapshot keeps reading its generation while its lease is live, however many
// commits and sweeps follow; data that only generations older than the retention name, and that
// no live lease pins, is deleted; a transaction's staged data is never deleted while it may still
// commit (the grace), even by a sweep that runs in the middle of that commit. Each has a mutation
// that breaks it (a filter of the sweep's requests, test/s3/mutations.ts) and a test here that
// catches it. On Ceph RGW, the fault test
// in test/s3/transaction.test.ts sweeps with a pinned snapshot and retainGenerations 1.
import { afterEach, describe, expect, it } from 'vitest';
import { begin, openSnapshot, recover, s3Store, transaction, type S3Snapshot, type S3Store } from '../../src/s3/index.js';
import { s3Faults } from '../../src/s3/faults.js';
import { memoryS3, type MemoryS3 } from './memory.js';
import { mutatedClient } from './mutations.js';

afterEach(() => {
  s3Faults.hook = undefined;
});

const bucket = 'b';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const dataKeys = (mem: MemoryS3): string[] => [...mem.objects.keys()].filter((k) => k.startsWith('b/data/'));
const leaseKeys = (mem: MemoryS3): string[] => [...mem.objects.keys()].filter((k) => k.startsWith('b/lease/'));

async function commitAll(store: S3Store, value: string, files = ['a', 'b']): Promise<number> {
  const tx = begin({ store });
  for (const f of files) tx.write(f, value);
  return (await tx.commit()).generation;
}

async function readAll(snap: S3Snapshot): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const p of snap.list()) out[p] = (await snap.readFile(p)).toString();
  return out;
}

describe('txnfs/s3 leases and collection (in-memory S3)', () => {
  it('a pinned snapshot keeps reading its bytes across commits and sweeps; once released, its data is collected', async () => {
    const mem = memoryS3();
    const store = s3Store({ client: mem.client, bucket, retainGenerations: 1 });
    await commitAll(store, 'v1');
    const pin = await openSnapshot({ store, leaseMs: 1200 });
    expect(leaseKeys(mem)).toEqual([expect.stringMatching(/^b\/lease\/0{19}1\+\.1200\./)]);
    await commitAll(store, 'v2');
    await commitAll(store, 'v3');
    // Its first lease pins generation 1 and every later one: nothing is collected yet.
    expect(await recover({ store })).toMatchObject({ generation: 3, floor: 1, collected: 0, leases: { live: 1, oldest: 1 } });
    expect(dataKeys(mem)).toHaveLength(6);
    // The first renewal (after leaseMs/6) pins generation 1 alone: v2 goes, v1 and the head stay.
    for (let i = 0; i < 50 && leaseKeys(mem).some((k) => k.includes('+')); i++) await sleep(50);
    expect(leaseKeys(mem)).toEqual([expect.stringMatching(/^b\/lease\/0{19}1\.1200\./)]);
    expect(await recover({ store })).toMatchObject({ floor: 3, collected: 2, removed: [] });
    expect(dataKeys(mem)).toHaveLength(4);
    expect(await readAll(pin)).toEqual({ a: 'v1', b: 'v1' });
    await pin.release();
    expect(leaseKeys(mem)).toEqual([]);
    await expect(pin.readFile('a')).rejects.toMatchObject({ code: 'ESTATE' });
    expect(await recover({ store })).toMatchObject({ floor: 3, collected: 2, leases: { live: 0 } });
    expect(dataKeys(mem)).toHaveLength(2);
    await using head = await openSnapshot({ store });
    expect(await readAll(head)).toEqual({ a: 'v3', b: 'v3' });
  });

  it('catches a sweep that ignores leases (mutation s3-gc-ignores-leases): the pinned snapshot loses its data', async () => {
    for (const mutation of [undefined, 's3-gc-ignores-leases'] as const) {
      const mem = memoryS3();
      const store = s3Store({ client: mem.client, bucket, retainGenerations: 1 });
      await commitAll(store, 'v1');
      const pin = await openSnapshot({ store });
      await commitAll(store, 'v2');
      // The sweep runs from another handle; the mutation is a filter of its requests.
      await recover({ store: s3Store({ client: mutation === undefined ? mem.client : mutatedClient(mem.client, mutation), bucket, retainGenerations: 1 }) });
      if (mutation === undefined) expect(await readAll(pin)).toEqual({ a: 'v1', b: 'v1' });
      else await expect(readAll(pin)).rejects.toMatchObject({ code: 'ECORRUPT' });
      await pin.release();
    }
  });

  it('a lease that is not renewed (its holder died or stalled) expires: its data is collected, and the holder reads ECOMPROMISED, never wrong bytes', async () => {
    const mem = memoryS3();
    const store = s3Store({ client: mem.client, bucket, retainGenerations: 1 });
    await commitAll(store, 'v1');
    const pin = await openSnapshot({ store, leaseMs: 1000 });
    s3Faults.hook = (e) => {
      if (e.key.startsWith('lease/') && e.op === 'put' && e.phase === 'before') throw new Error('injected: renewal fails');
    };
    await commitAll(store, 'v2');
    expect(await recover({ store })).toMatchObject({ collected: 0, leases: { live: 1 } });
    await sleep(1100); // past the lease: the server's LastModified + 1000 ms
    await expect(pin.readFile('a')).rejects.toMatchObject({ code: 'ECOMPROMISED' });
    expect(await recover({ store })).toMatchObject({ floor: 2, collected: 2, leases: { live: 0, removed: 0 } });
    expect(dataKeys(mem)).toHaveLength(2);
    // Expired for a whole lease more: the lease object itself goes.
    expect(await recover({ store, now: Date.now() + 2000 })).toMatchObject({ leases: { live: 0, removed: 1 } });
    expect(leaseKeys(mem)).toEqual([]);
    await pin.release();
  });

  it('a commit that staged its data before a sweep read the head keeps its data (the grace); without the grace it is lost (mutation s3-gc-no-grace)', async () => {
    for (const mutation of [undefined, 's3-gc-no-grace'] as const) {
      const mem = memoryS3();
      const store = s3Store({ client: mem.client, bucket, retainGenerations: 1 });
      await commitAll(store, 'old', ['f']);
      const tx = begin({ store });
      await tx.write('f', 'new');
      await tx.write('g', 'new');
      // The sweep lists data/ (tx's keys, not in the log), reads the head, then lists leases:
      // right then, tx commits. The sweep's head does not name tx's keys.
      let committed: number | undefined;
      s3Faults.hook = async (e) => {
        if (e.op === 'list' && e.key === 'lease/' && e.phase === 'before' && committed === undefined) {
          committed = 0;
          committed = (await tx.commit()).generation;
        }
      };
      const report = await recover({ store: s3Store({ client: mutation === undefined ? mem.client : mutatedClient(mem.client, mutation), bucket, retainGenerations: 1 }) });
      s3Faults.hook = undefined;
      expect([report.generation, committed]).toEqual([1, 2]);
      const snap = await openSnapshot({ store: s3Store({ client: mem.client, bucket }) });
      if (mutation === undefined) {
        expect(report.young).toEqual([tx.id]);
        expect(await readAll(snap)).toEqual({ f: 'new', g: 'new' });
      } else {
        await expect(readAll(snap)).rejects.toMatchObject({ code: 'ECORRUPT' });
      }
      await snap.release();
    }
  });

  it('retention: the newest retainGenerations stay readable without a lease; a transaction whose base was collected fails with EPRECONDITION', async () => {
    const mem = memoryS3();
    const store = s3Store({ client: mem.client, bucket, retainGenerations: 3, checkpointEvery: 2 });
    await transaction({ store }, (tx) => tx.write('other', 'x'));
    const slow = begin({ store });
    await slow.read('other'); // pins its base: generation 1
    for (let g = 2; g <= 8; g++) await commitAll(store, `v${g}`, ['f']);
    const report = await recover({ store });
    expect(report).toMatchObject({ generation: 8, floor: 6, collected: 4 });
    // Checkpoints older than the one generation 6 is read from (6) are gone: 2 and 4.
    expect([...mem.objects.keys()].filter((k) => k.startsWith('b/checkpoint/')).map((k) => Number(/-([0-9]+)\.json$/.exec(k)![1])).sort()).toEqual([6, 8]);
    for (let g = 6; g <= 8; g++) {
      const fresh = s3Store({ client: mem.client, bucket });
      const ref = (await fresh.at(g)).get('f')!;
      expect(mem.objects.get(`b/${ref.key}`)?.body.toString(), `generation ${g}`).toBe(`v${g}`);
    }
    // 'f' did not exist at slow's base: it reads "absent", which is the truth at generation 1.
    expect((await slow.read('f')).data).toBeUndefined();
    slow.write('other', 'y');
    await expect(slow.commit()).rejects.toMatchObject({ code: 'EPRECONDITION', path: 'f' });
    // A transaction that read f at generation 2, after f's version of generation 2 was collected.
    const mem2 = memoryS3();
    const s2 = s3Store({ client: mem2.client, bucket, retainGenerations: 1 });
    await commitAll(s2, 'v1', ['f', 'other']);
    const late = begin({ store: s2 });
    await late.read('other');
    for (let g = 2; g <= 3; g++) await commitAll(s2, `v${g}`, ['f']);
    await recover({ store: s2 });
    await expect(late.read('f')).rejects.toMatchObject({ code: 'EPRECONDITION', path: 'f' });
  });

  it('sweeps from several hosts at once, during commits and snapshot readers: no reader ever fails, every snapshot is whole', async () => {
    const mem = memoryS3();
    const handle = (): S3Store => s3Store({ client: mem.client, bucket, retainGenerations: 1, checkpointEvery: 5 });
    await commitAll(handle(), 'w-1');
    let writing = true;
    const problems: string[] = [];
    let reads = 0;
    let sweeps = 0;
    const writers = Array.from({ length: 3 }, async (_, w) => {
      const store = handle();
      for (let i = 0; i < 30; i++) await commitAll(store, `w${w}-${i}`);
    });
    const sweepers = Array.from({ length: 2 }, async () => {
      const store = handle();
      while (writing) {
        await recover({ store, graceMs: 60_000 });
        sweeps++;
      }
    });
    const readers = Array.from({ length: 3 }, async () => {
      const store = handle();
      while (writing) {
        const snap = await openSnapshot({ store });
        try {
          const { a, b } = await readAll(snap);
          if (a !== b) problems.push(`generation ${snap.generation}: ${a} / ${b}`);
          reads++;
        } catch (e) {
          problems.push(`generation ${snap.generation}: ${(e as Error).message}`);
        }
        await snap.release();
      }
    });
    await Promise.all(writers);
    writing = false;
    await Promise.all([...sweepers, ...readers]);
    expect(problems).toEqual([]);
    expect(reads).toBeGreaterThan(10);
    expect(sweeps).toBeGreaterThan(3);
    // With the writers and readers gone, a sweep past the grace leaves exactly the head's data. (A
    // new handle reads only the entries of the retention window: data of a transaction committed
    // before it looks like data of one that never committed, and goes only past the grace.)
    await recover({ store: handle(), graceMs: 60_000, now: Date.now() + 61_000 });
    expect(dataKeys(mem)).toHaveLength(2);
    expect(leaseKeys(mem)).toEqual([]);
  });
});
