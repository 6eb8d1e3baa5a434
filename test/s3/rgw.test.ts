// Conformance of the S3 server the S3 suite runs against: the two conditions the txnfs/s3 commit
// rests on. If the server ignored them (as s3rver does), every S3 test would pass vacuously.
import { CreateBucketCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rgwUnavailable, startRgw, type Rgw } from '../helpers/rgw.js';

const missing = rgwUnavailable();
let rgw: Rgw | undefined;
let client: S3Client;
const bucket = 'conformance';

beforeAll(async () => {
  if (missing !== undefined) return;
  rgw = startRgw();
  client = new S3Client({
    endpoint: rgw.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: rgw.accessKeyId, secretAccessKey: rgw.secretAccessKey },
  });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
}, 120_000);
// afterAll runs even when beforeAll or a test failed: no gateway outlives the file.
afterAll(() => {
  client?.destroy();
  rgw?.stop();
});

async function status(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 200;
  } catch (e) {
    if (e instanceof S3ServiceException) return e.$metadata.httpStatusCode ?? -1;
    throw e;
  }
}

describe.skipIf(missing !== undefined)(`Ceph RGW conditional writes${missing ? ` (skipped: ${missing})` : ''}`, () => {
  it('If-None-Match: * — of 8 concurrent PUTs of one new key exactly one gets 200, the rest 412', async () => {
    const codes = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        status(client.send(new PutObjectCommand({ Bucket: bucket, Key: 'race', Body: `writer ${i}`, IfNoneMatch: '*' }))),
      ),
    );
    expect(codes.filter((c) => c === 200)).toHaveLength(1);
    expect(codes.filter((c) => c === 412)).toHaveLength(7);
  });

  it('If-Match with a stale ETag gets 412; with the current (unquoted) ETag it replaces', async () => {
    const first = await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'cas', Body: 'v1' }));
    const second = await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'cas', Body: 'v2' }));
    // RGW 16.2 compares If-Match against the bare ETag: strip the quotes S3 puts around it.
    const stale = first.ETag!.replaceAll('"', '');
    const current = second.ETag!.replaceAll('"', '');
    expect(await status(client.send(new PutObjectCommand({ Bucket: bucket, Key: 'cas', Body: 'v3', IfMatch: stale })))).toBe(412);
    expect(await status(client.send(new PutObjectCommand({ Bucket: bucket, Key: 'cas', Body: 'v3', IfMatch: current })))).toBe(200);
  });
});
