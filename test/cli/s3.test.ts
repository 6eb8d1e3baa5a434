/**
 * `txnfs status|recover|snapshot s3://bucket/prefix` against a real Ceph RGW (test/helpers/rgw.ts),
 * run as a user would: the built executable in a child process, with the store named by URL and
 * the credentials and endpoint in the standard AWS_* environment variables.
 */
import { describe, expect, it } from 'vitest';
import { begin, recover, s3Store, transaction } from '../../src/s3/index.js';
import { txnfs } from '../helpers/bin.js';
import { rgwUnavailable, useRgwBucket } from '../helpers/rgw.js';

const bucket = 'cli';
const s3 = useRgwBucket(bucket);
let n = 0;

function env(): NodeJS.ProcessEnv {
  const rgw = s3.rgw!;
  return { AWS_ENDPOINT_URL: rgw.endpoint, AWS_ACCESS_KEY_ID: rgw.accessKeyId, AWS_SECRET_ACCESS_KEY: rgw.secretAccessKey, AWS_REGION: 'us-east-1' };
}

describe.skipIf(rgwUnavailable() !== undefined)('txnfs CLI on s3:// (Ceph RGW)', () => {
  const fresh = () => {
    const prefix = `p${n++}`;
    return { prefix, url: `s3://${bucket}/${prefix}`, store: s3Store({ client: s3.client, bucket, prefix }) };
  };

  it('status of a fresh prefix is clean (exit 0); after commits it names the head generation and its files', async () => {
    const { url, store } = fresh();
    const empty = txnfs(['status', url], env());
    expect(empty.status, empty.stderr).toBe(0);
    expect(empty.stdout).toContain(`${url}: generation 0, 0 files; clean`);
    await transaction({ store }, (tx) => {
      tx.write('a.txt', 'alpha');
      tx.write('dir/b.txt', 'beta');
    });
    await transaction({ store }, (tx) => tx.write('a.txt', 'alpha 2'));
    const r = txnfs(['status', `${url}/`, '--json'], env()); // a trailing slash names the same prefix
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ target: `${url}/`, generation: 2, files: 2, health: 'clean', dead: [], young: [] });
  }, 60_000);

  it('snapshot --list prints the pinned generation and its paths; --get prints one file as of that generation', async () => {
    const { url, store } = fresh();
    await transaction({ store }, (tx) => {
      tx.write('x.csv', 'id\n1\n');
      tx.write('sub/y.bin', Buffer.from([0, 1, 2, 255]));
    });
    const list = txnfs(['snapshot', url, '--list'], env());
    expect(list.status, list.stderr).toBe(0);
    expect(list.stdout).toBe('# generation 1\nsub/y.bin\nx.csv\n');
    const get = txnfs(['snapshot', url, '--get', 'x.csv'], env());
    expect(get.status, get.stderr).toBe(0);
    expect(get.stdout).toBe('id\n1\n');
    const missing = txnfs(['snapshot', url, '--get', 'nope.csv'], env());
    expect(missing.status).toBe(125); // as every failure of txnfs itself under snapshot
    expect(missing.stderr).toContain('nope.csv');
  }, 60_000);

  it('status and recover --dry-run find an uncommitted writer\'s staged data, young (maybe live) or past --grace (dead, exit 3); recover removes only that', async () => {
    const { url, store } = fresh();
    await transaction({ store }, (tx) => tx.write('kept.txt', 'committed'));
    const dead = begin({ store });
    await dead.write('staged.txt', 'never committed'); // uploaded to its staging key, then the writer "dies"
    const young = txnfs(['status', url, '--json'], env());
    expect(young.status, young.stderr).toBe(0);
    expect(JSON.parse(young.stdout)).toMatchObject({ generation: 1, health: 'clean', dead: [], young: [dead.id] });
    const status = txnfs(['status', url, '--grace', '0'], env());
    expect(status.status, status.stdout).toBe(3);
    expect(status.stdout).toContain(`Run: txnfs recover ${url}`);
    const dry = txnfs(['recover', url, '--grace', '0', '--dry-run', '--json'], env());
    expect(dry.status, dry.stderr).toBe(3);
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, removed: [dead.id] });
    // The dry run removed nothing: the library still finds it.
    expect(await recover({ store, graceMs: 0, dryRun: true })).toMatchObject({ removed: [dead.id] });
    const real = txnfs(['recover', url, '--grace', '0'], env());
    expect(real.status, real.stderr).toBe(0);
    expect(real.stdout).toContain(`removed the staged data of 1 transaction`);
    expect(await recover({ store, graceMs: 0, dryRun: true })).toMatchObject({ removed: [], young: [] });
    const after = txnfs(['snapshot', url, '--get', 'kept.txt'], env());
    expect(after.stdout).toBe('committed');
  }, 60_000);

  it('bad targets and arguments: exit 2 with the reason; an unreachable endpoint: exit 1 naming the target, no stack trace', () => {
    const e = env();
    const cases: [string[], string][] = [
      [['status', 's3://'], 'names no bucket'],
      [['status', 's3://A_Bucket/x'], 'is not an S3 bucket name'],
      [['status', 'out', '--grace', '5'], '--grace is for s3:// targets'],
      [['status', `s3://${bucket}/x`, '--grace', 'soon'], '--grace takes milliseconds'],
      [['snapshot', `s3://${bucket}/x`], 'needs --list or --get'],
      [['snapshot', `s3://${bucket}/x`, '--', 'ls'], 'not a directory a command can run in'],
      [['snapshot', `s3://${bucket}/x`, '--list', '--get', 'a'], 'exclude each other'],
    ];
    for (const [args, message] of cases) {
      const r = txnfs(args, e);
      expect(r.status, args.join(' ')).toBe(args[0] === 'snapshot' ? 125 : 2);
      expect(r.stderr, args.join(' ')).toContain(message);
    }
    const down = txnfs(['status', `s3://${bucket}/x`], { ...e, AWS_ENDPOINT_URL: 'http://127.0.0.1:9', AWS_MAX_ATTEMPTS: '1' });
    expect(down.status).toBe(1);
    expect(down.stderr).toContain(`s3://${bucket}/x: `);
    expect(down.stderr).not.toContain('internal error');
  }, 60_000);
});
