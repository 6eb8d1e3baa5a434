// Starts/stops a throw-away Ceph RGW through scripts/rgw.sh (see its header for the settings).
// Never s3rver: it ignores If-None-Match and If-Match, so a conformance test against it proves nothing.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll } from 'vitest';

const script = path.resolve(import.meta.dirname, '../../scripts/rgw.sh');

export interface Rgw {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  dir: string;
  stop(): void;
}

/** Why RGW cannot run here (a missing binary), or undefined when it can. */
export function rgwUnavailable(): string | undefined {
  for (const bin of ['ceph-mon', 'ceph-osd', 'radosgw', 'radosgw-admin', 'uuidgen']) {
    if (spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0) return `${bin} not installed`;
  }
  return undefined;
}

export function startRgw(): Rgw {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'txnfs-rgw-'));
  const stop = (): void => {
    spawnSync(script, ['stop', dir], { stdio: 'ignore' });
    fs.rmSync(dir, { recursive: true, force: true });
  };
  let out: string;
  try {
    out = execFileSync(script, ['start', dir], { encoding: 'utf8', timeout: 90_000 });
  } catch (e) {
    stop();
    throw e;
  }
  const m = /endpoint=(\S+) access=(\S+) secret=(\S+)/.exec(out);
  if (m === null) {
    stop();
    throw new Error(`rgw.sh start printed no endpoint: ${out}`);
  }
  return { endpoint: m[1]!, accessKeyId: m[2]!, secretAccessKey: m[3]!, dir, stop };
}

/**
 * For an S3 test file: start a gateway before its tests (unless `rgwUnavailable()`), create
 * `bucket`, and stop the gateway after them, also when a hook or a test failed. The returned
 * object's fields are set once `beforeAll` has run.
 */
export function useRgwBucket(bucket: string): { rgw: Rgw | undefined; client: S3Client } {
  const fixture = { rgw: undefined as Rgw | undefined, client: undefined as unknown as S3Client };
  beforeAll(async () => {
    if (rgwUnavailable() !== undefined) return;
    const rgw = startRgw();
    fixture.rgw = rgw;
    fixture.client = new S3Client({
      endpoint: rgw.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: rgw.accessKeyId, secretAccessKey: rgw.secretAccessKey },
    });
    await fixture.client.send(new CreateBucketCommand({ Bucket: bucket }));
  }, 120_000);
  // afterAll runs even when beforeAll or a test failed: no gateway outlives the file.
  afterAll(() => {
    fixture.client?.destroy();
    fixture.rgw?.stop();
  });
  return fixture;
}
