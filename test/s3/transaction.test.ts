// The Transaction API on an S3 store, against a real server (Ceph RGW, scripts/rgw.sh): every
// kind of data, multipart uploads in bounded memory, content versions and conditions, abort and
// its three spellings, typed errors, the grace, and recover(). One gateway for the whole file.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { begin, openSnapshot, recover, s3Store, transaction, type S3Store } from '../../src/s3/index.js';
import { s3Faults, type S3RequestEvent } from '../../src/s3/faults.js';
import { rgwUnavailable, useRgwBucket } from '../helpers/rgw.js';
import { mutatedClient } from './mutations.js';

const missing = rgwUnavailable();
const bucket = 'txn';
const s3 = useRgwBucket(bucket);
const MiB = 1024 * 1024;

let n = 0;
function fresh(graceMs?: number): S3Store {
  return s3Store({ client: s3.client, bucket, prefix: `t${n++}`, ...(graceMs === undefined ? {} : { graceMs }) });
}

async function staged(store: S3Store, txnId?: string): Promise<string[]> {
  const keys = (await store.seam.list('data/')).map((x) => x.key);
  return txnId === undefined ? keys : keys.filter((k) => k.startsWith(`data/${txnId}/`));
}

async function contents(store: S3Store): Promise<Record<string, string>> {
  await using snap = await openSnapshot({ store: s3Store({ client: store.seam.client, bucket, prefix: store.seam.prefix }) });
  const out: Record<string, string> = {};
  for (const p of snap.list()) out[p] = (await snap.readFile(p)).toString();
  return out;
}

afterEach(() => {
  s3Faults.hook = undefined;
});

describe.skipIf(missing !== undefined)(`txnfs/s3 Transaction API on Ceph RGW${missing ? ` (skipped: ${missing})` : ''}`, () => {
  it('writes strings, buffers, ArrayBuffers, iterables, async iterables, Readables and JSON; remove; generation 1, 2', async () => {
    const store = fresh();
    const tx = begin({ store });
    tx.write('s.txt', 'string');
    tx.write('b.bin', Buffer.from('buffer'));
    tx.write('u.bin', new TextEncoder().encode('uint8'));
    tx.write('ab.bin', new TextEncoder().encode('arraybuffer').buffer);
    tx.write('it.txt', ['it', 'er', Buffer.from('able')]);
    tx.write(
      'ait.txt',
      (async function* () {
        yield 'async ';
        yield 'iterable';
      })(),
    );
    tx.write('r.txt', Readable.from(['read', 'able']));
    tx.writeJson('j.json', { a: 1 });
    tx.write('gone', 'x');
    tx.remove('gone'); // the last operation on a path wins
    const r = await tx.commit();
    expect(r).toMatchObject({ generation: 1, entries: 9, written: 8, removed: 1 });
    expect(await contents(store)).toEqual({
      's.txt': 'string',
      'b.bin': 'buffer',
      'u.bin': 'uint8',
      'ab.bin': 'arraybuffer',
      'it.txt': 'iterable',
      'ait.txt': 'async iterable',
      'r.txt': 'readable',
      'j.json': '{"a":1}\n',
    });
    // The superseded upload of 'gone' is deleted: only the 8 named keys remain.
    expect(await staged(store, r.id)).toHaveLength(8);
    const t2 = begin({ store });
    t2.remove('s.txt');
    expect(await t2.commit()).toMatchObject({ generation: 2, removed: 1 });
    expect(Object.keys(await contents(store))).not.toContain('s.txt');
  });

  it('a 17 MiB Readable goes up as 4 parts of 5 MiB, read lazily: never more than one part ahead of the uploads', async () => {
    const store = fresh();
    const chunk = Buffer.alloc(64 * 1024, 7);
    const total = 17 * MiB;
    let produced = 0;
    let uploaded = 0;
    let maxAhead = 0;
    const hash = createHash('sha256');
    const source = Readable.from(
      (function* () {
        for (let at = 0; at < total; at += chunk.length) {
          const c = Buffer.from(chunk);
          c.writeUInt32BE(at, 0); // distinct chunks, so a reordered part would change the digest
          hash.update(c);
          produced += c.length;
          maxAhead = Math.max(maxAhead, produced - uploaded);
          yield c;
        }
      })(),
    );
    const parts: S3RequestEvent[] = [];
    s3Faults.hook = (e) => {
      if (e.op === 'mpu-part' && e.phase === 'after') {
        parts.push(e);
        uploaded = Math.min(total, parts.length * 5 * MiB);
      }
    };
    const tx = begin({ store, partSize: 5 * MiB });
    tx.write('big.bin', source);
    await tx.commit();
    s3Faults.hook = undefined;
    expect(parts).toHaveLength(4);
    // Memory: at most one part being gathered plus the one in flight, plus a chunk (and the
    // stream's own 16-object readahead of 64 KiB chunks).
    expect(maxAhead).toBeLessThanOrEqual(2 * 5 * MiB + 17 * chunk.length);
    const snap = await openSnapshot({ store });
    const back = createHash('sha256');
    for await (const c of snap.createReadStream('big.bin')) back.update(c as Buffer);
    expect(back.digest('hex')).toBe(hash.digest('hex'));
  }, 60_000);

  it('createWriteStream: piped, written and ended streams are committed; one never ended fails the commit with ESTAGE', async () => {
    const store = fresh();
    const tx = begin({ store });
    const piped = tx.createWriteStream('piped.txt');
    const direct = tx.createWriteStream('direct.txt');
    const flowing = pipeline(
      (async function* () {
        for (let i = 0; i < 5; i++) {
          await new Promise((r) => setTimeout(r, 20));
          yield `line ${i}\n`;
        }
      })(),
      piped,
    );
    direct.write('a');
    direct.end('b');
    const r = await tx.commit(); // waits for the pipeline, which writes between awaits
    await flowing;
    expect(r).toMatchObject({ generation: 1, written: 2 });
    expect(await contents(store)).toEqual({ 'piped.txt': 'line 0\nline 1\nline 2\nline 3\nline 4\n', 'direct.txt': 'ab' });
    const t2 = begin({ store });
    t2.createWriteStream('open.txt').write('never ended');
    await expect(t2.commit()).rejects.toMatchObject({ code: 'ESTAGE', path: 'open.txt' });
    expect(await contents(store)).toEqual({ 'piped.txt': 'line 0\nline 1\nline 2\nline 3\nline 4\n', 'direct.txt': 'ab' });
    expect(await staged(store, t2.id)).toEqual([]);
  });

  it('read/version give content versions; ifUnchanged, exclusive and expect are checked at the commit point (same bytes count as unchanged)', async () => {
    const store = fresh();
    await transaction({ store }, (tx) => {
      tx.write('n', '1');
      tx.write('cfg', 'A');
    });
    const tx = begin({ store });
    const { data, version } = await tx.read('n');
    expect(data?.toString()).toBe('1');
    expect(version).toEqual({ exists: true, size: 1, sha256: createHash('sha256').update('1').digest('hex') });
    expect(await tx.version('n')).toEqual(version);
    expect(await tx.version('absent')).toEqual({ exists: false });
    // Another host rewrites n with the same bytes: unchanged by content.
    await transaction({ store }, (t) => t.write('n', '1'));
    tx.write('n', '2', { ifUnchanged: version });
    expect(await tx.commit()).toMatchObject({ generation: 3 });

    const stale = begin({ store });
    stale.write('n', 'x', { ifUnchanged: version }); // n is '2' now
    await expect(stale.commit()).rejects.toMatchObject({ code: 'EPRECONDITION', path: 'n' });
    const excl = begin({ store });
    excl.write('cfg', 'B', { exclusive: true });
    await expect(excl.commit()).rejects.toMatchObject({ code: 'EPRECONDITION', path: 'cfg' });
    const derived = begin({ store });
    derived.expect('cfg', { exists: true, sha256: createHash('sha256').update('old').digest('hex') });
    derived.write('out', 'derived');
    await expect(derived.commit()).rejects.toMatchObject({ code: 'EPRECONDITION', path: 'cfg' });
    expect(await contents(store)).toEqual({ n: '2', cfg: 'A' });
    // Failed commits deleted their staged data.
    expect(await staged(store, stale.id)).toEqual([]);
    // A local identity version means nothing on S3: refused at the call.
    expect(() => begin({ store }).write('n', 'y', { ifUnchanged: { exists: true, ino: '12', size: 1 } })).toThrow(TypeError);
  });

  it('abort, await using, transaction() that throws, and an AbortSignal leave nothing visible and no staged data', async () => {
    const store = fresh();
    const a = begin({ store });
    a.write('a', 'x');
    await a.abort();
    const ids = [a.id];
    {
      await using b = begin({ store });
      b.write('b', 'x');
      ids.push(b.id);
    }
    await expect(
      transaction({ store }, (tx) => {
        tx.write('c', 'x');
        ids.push(tx.id);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const ctl = new AbortController();
    const d = begin({ store, signal: ctl.signal });
    ids.push(d.id);
    d.write('d', 'x');
    ctl.abort();
    await expect(d.commit()).rejects.toMatchObject({ code: 'ESTATE' });
    const ctl2 = new AbortController();
    const e = begin({ store, signal: ctl2.signal });
    ids.push(e.id);
    e.write('e', 'x');
    const committing = e.commit();
    ctl2.abort();
    await expect(committing).rejects.toMatchObject({ code: 'EABORTED' });
    expect(await contents(store)).toEqual({});
    for (const id of ids) expect(await staged(store, id)).toEqual([]);
  });

  it('typed errors: EBADPATH, ESTATE, ESTAGE for a failing source (nothing visible), TypeError for bad data', async () => {
    const store = fresh();
    const tx = begin({ store });
    expect(() => tx.write('../x', 'x')).toThrow(expect.objectContaining({ code: 'EBADPATH' }));
    expect(() => tx.write('/x', 'x')).toThrow(expect.objectContaining({ code: 'EBADPATH' }));
    expect(() => tx.write('x', 42 as never)).toThrow(TypeError);
    const p = tx.write(
      'bad',
      (async function* () {
        yield 'a';
        throw new Error('source broke');
      })(),
    );
    tx.write('good', 'fine');
    await expect(p).rejects.toMatchObject({ code: 'ESTAGE', path: 'bad' });
    await expect(tx.commit()).rejects.toMatchObject({ code: 'ESTAGE', path: 'bad' });
    expect(() => tx.write('x', 'x')).toThrow(expect.objectContaining({ code: 'ESTATE' }));
    expect(await contents(store)).toEqual({});
    expect(await staged(store, tx.id)).toEqual([]);
  });

  it('a log PUT whose answer is lost still commits exactly once (the log is read back)', async () => {
    const store = fresh();
    let lost = 0;
    s3Faults.hook = (e) => {
      if (e.op === 'put-if-absent' && e.phase === 'after' && lost++ === 0) throw new Error('connection reset after the PUT landed');
    };
    const tx = begin({ store });
    tx.write('f', 'v1');
    expect(await tx.commit()).toMatchObject({ generation: 1 });
    s3Faults.hook = undefined;
    const t2 = begin({ store });
    t2.write('f', 'v2');
    expect(await t2.commit()).toMatchObject({ generation: 2 });
    expect(await contents(store)).toEqual({ f: 'v2' });
  });

  it('a writer refuses to commit once its first upload is half the grace old (ESTAGE), so a sweep cannot race it', async () => {
    const store = fresh(400);
    const tx = begin({ store });
    tx.write('f', 'x');
    await new Promise((r) => setTimeout(r, 300));
    await expect(tx.commit()).rejects.toMatchObject({ code: 'ESTAGE' });
    expect(await contents(store)).toEqual({});
  });

  it('recover() keeps young and committed data, removes old uncommitted data and unfinished uploads', async () => {
    const store = fresh();
    await transaction({ store }, (tx) => tx.write('kept', 'committed'));
    // A "crashed" writer: staged data and an unfinished multipart upload, never committed.
    const dead = begin({ store, partSize: 5 * MiB });
    await dead.write('small', 'x');
    const big = Readable.from(
      (async function* () {
        yield Buffer.alloc(6 * MiB);
        await new Promise(() => undefined); // hangs after the first part: the upload stays unfinished
      })(),
    );
    void dead.write('big', big);
    for (let i = 0; i < 100 && (await store.seam.listMultipart('data/')).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 500)); // let the first part land
    expect(await store.seam.listMultipart('data/')).toHaveLength(1);
    const young = await recover({ store });
    expect(young).toMatchObject({ generation: 1, removed: [], young: [dead.id] });
    const later = await recover({ store, now: Date.now() + store.graceMs + 60_000 });
    expect(later).toMatchObject({ generation: 1, removed: [dead.id], abortedUploads: 1, young: [] });
    expect(await staged(store, dead.id)).toEqual([]);
    expect(await store.seam.listMultipart('data/')).toEqual([]);
    expect(await contents(store)).toEqual({ kept: 'committed' });
    // Idempotent: a second sweep finds nothing.
    expect(await recover({ store, graceMs: 0 })).toMatchObject({ removed: [], abortedUploads: 0 });
    // The check can fail: a sweep that does not consult the log deletes a committed generation's data.
    await recover({ store: s3Store({ client: mutatedClient(s3.client, 's3-recover-ignores-log'), bucket, prefix: store.seam.prefix }), graceMs: 0 });
    await expect(contents(store)).rejects.toMatchObject({ code: 'ECORRUPT' });
  }, 60_000);

  it('a fault at every request of a commit (warm and new store handles), then of recover() with collection and a pin: every snapshot is all-old or all-new, nothing uncommitted stays', async () => {
    const store = fresh();
    await transaction({ store }, (tx) => {
      for (const f of ['a', 'b', 'c']) tx.write(f, 'old');
    });
    const outcomes: string[] = [];
    const faulted = new Set<string>();
    for (const [phase, handle] of [['before', 'warm'], ['after', 'warm'], ['before', 'new'], ['after', 'new']] as const) {
      // A new handle (another host) reads the hint; a warm one knows the head and only HEADs the next entry.
      const writer = handle === 'warm' ? store : s3Store({ client: s3.client, bucket, prefix: store.seam.prefix });
      // Bounded: a failed hint PUT makes every later commit probe one HEAD more, so with the fault
      // always on the last request (the hint PUT again) the count would grow for ever.
      for (let k = 1; k <= 14; k++) {
        let seen = 0;
        s3Faults.hook = (e) => {
          if (e.phase === phase && ++seen === k) {
            faulted.add(`${e.op} ${phase}`);
            throw new Error(`injected fault at request ${k} (${e.op} ${e.key}, ${phase})`);
          }
        };
        const value = `${phase}${handle}${k}`;
        const tx = begin({ store: writer });
        for (const f of ['a', 'b', 'c']) tx.write(f, value);
        const outcome = await tx.commit().then(
          () => 'committed',
          (e: { code?: string }) => e.code ?? 'untyped',
        );
        s3Faults.hook = undefined;
        outcomes.push(outcome);
        const files = await contents(store);
        const values = new Set(Object.values(files));
        expect(values.size, `${phase} ${k}: ${JSON.stringify(files)}`).toBe(1);
        if (outcome === 'committed') expect(values).toEqual(new Set([value]));
        else expect(['EFS', 'ESTAGE', 'EINCOMPLETE']).toContain(outcome);
        if (seen < k) break; // the fault was never reached: every request of the commit was covered
      }
    }
    // Every kind of request of a commit was failed, before it was sent and after it landed.
    for (const op of ['put', 'get', 'head', 'put-if-absent']) for (const phase of ['before', 'after']) expect(faulted).toContain(`${op} ${phase}`);
    // After a sweep with no grace, only committed transactions have data left.
    await recover({ store, graceMs: 0 });
    const left = new Set((await store.seam.list('data/')).map((x) => x.key.split('/')[1]!));
    await store.current();
    expect([...left].filter((id) => store.generationOf(id) === undefined)).toEqual([]);
    // recover() under a fault at each of its requests, collecting (retainGenerations 1) with a
    // snapshot pinned: it fails or not, and never harms the head or the pinned generation.
    const pinned = await contents(store);
    // A short lease, renewed every 500 ms: its first renewal replaces the onward lease (which
    // pins every later generation too) by one on its own generation; wait for that.
    const pin = await openSnapshot({ store, leaseMs: 3000 });
    for (let i = 0; i < 100 && (await store.seam.list('lease/')).some((l) => l.key.includes('+')); i++) await new Promise((r) => setTimeout(r, 100));
    expect((await store.seam.list('lease/')).map((l) => l.key)).toEqual([expect.stringMatching(new RegExp(`^lease/0*${pin.generation}\\.3000\\.`))]);
    for (let i = 1; i <= 3; i++) await transaction({ store }, (tx) => ['a', 'b', 'c'].forEach((f) => tx.write(f, `later${i}`)));
    const before = await contents(store);
    const junk = begin({ store });
    await junk.write('junk', 'x');
    let sweeps = 0;
    // Each sweep from a new handle (another host): it reads the hint, the log and the pinned tree
    // (GETs a warm handle has cached), so every kind of request of recover() is a fault point.
    for (let k = 1; k <= 150; k++) {
      let seen = 0;
      s3Faults.hook = (e) => {
        // The pin's renewals (PUTs of its lease) are not the sweep's requests.
        if (e.phase === 'before' && !(e.op === 'put' && e.key.startsWith('lease/')) && ++seen === k) {
          faulted.add(`recover ${e.op}`);
          throw new Error('injected');
        }
      };
      const sweeper = s3Store({ client: s3.client, bucket, prefix: store.seam.prefix });
      await recover({ store: sweeper, graceMs: 0, retainGenerations: 1 }).catch(() => undefined);
      s3Faults.hook = undefined;
      sweeps++;
      expect(await contents(store)).toEqual(before);
      for (const f of ['a', 'b', 'c']) expect((await pin.readFile(f)).toString(), `after a fault at request ${k} of recover()`).toBe(pinned[f]);
      if (seen < k) break;
    }
    expect(await staged(store, junk.id)).toEqual([]);
    for (const op of ['list', 'mpu-list', 'head', 'get', 'delete']) expect(faulted).toContain(`recover ${op}`);
    // Collected: only the keys of the head and of the pinned generation are left.
    const named = async (g: number) => [...(await store.at(g)).entries()].map(([, f]) => f.key);
    expect((await staged(store)).sort()).toEqual([...new Set([...(await named(pin.generation)), ...(await named((await store.current()).generation))])].sort());
    await pin.release();
    console.log(`s3 faults: ${sweeps} faulted sweeps`);
    console.log(`s3 faults: ${outcomes.length} faulted commits: ${outcomes.join(' ')}`);
  }, 120_000);
});
