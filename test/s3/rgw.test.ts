// Conformance of the S3 server the S3 suite runs against: the two conditions the txnfs/s3 commit
// rests on. If the server ignored them (as s3rver does), every S3 test would pass vacuously.
import { PutObjectCommand, S3ServiceException } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { rgwUnavailable, useRgwBucket } from '../helpers/rgw.js';

const missing = rgwUnavailable();
const bucket = 'conformance';
const s3 = useRgwBucket(bucket);

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
        status(s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: 'race', Body: `writer ${i}`, IfNoneMatch: '*' }))),
      ),
    );
    expect(codes.filter((c) => c === 200)).toHaveLength(1);
    expect(codes.filter((c) => c === 412)).toHaveLength(7);
  });

  it('If-Match with a stale ETag gets 412; with the current (unquoted) ETag it replaces', async () => {
    const first = await s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: 'cas', Body: 'v1' }));
    const second = await s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: 'cas', Body: 'v2' }));
    // RGW 16.2 compares If-Match against the bare ETag: strip the quotes S3 puts around it.
    const stale = first.ETag!.replaceAll('"', '');
    const current = second.ETag!.replaceAll('"', '');
    expect(await status(s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: 'cas', Body: 'v3', IfMatch: stale })))).toBe(412);
    expect(await status(s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: 'cas', Body: 'v3', IfMatch: current })))).toBe(200);
  });
});
