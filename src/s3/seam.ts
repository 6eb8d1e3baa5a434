// The one door every S3 request of txnfs/s3 goes through: it counts requests (the cost figures in
// docs/s3.md are read from here) and is where a request-level fault layer will hook in. Only
// modules under src/s3/ import the AWS SDK, so a local-only user never loads it.
import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3ServiceException,
  type S3Client,
} from '@aws-sdk/client-s3';

/** Where a store lives and the counted door to it. */
export interface S3Seam {
  readonly client: S3Client;
  readonly bucket: string;
  /** Key prefix, '' or ending in '/'. */
  readonly prefix: string;
  /** Requests sent so far, by kind. */
  readonly requests: { get: number; head: number; put: number };
  /** PUT; `ifNoneMatch` makes it a create-only write (412 when the key exists). */
  put(key: string, body: string | Uint8Array, ifNoneMatch?: boolean): Promise<{ ok: true } | { ok: false; status: number }>;
  /** GET the whole object, or undefined when the key is absent. */
  get(key: string): Promise<Buffer | undefined>;
  /** Whether the key exists. */
  exists(key: string): Promise<boolean>;
}

function statusOf(e: unknown): number | undefined {
  return e instanceof S3ServiceException ? e.$metadata.httpStatusCode : undefined;
}

export function makeSeam(client: S3Client, bucket: string, prefix: string): S3Seam {
  const requests = { get: 0, head: 0, put: 0 };
  return {
    client,
    bucket,
    prefix,
    requests,
    async put(key, body, ifNoneMatch = false) {
      requests.put++;
      try {
        await client.send(
          new PutObjectCommand({ Bucket: bucket, Key: prefix + key, Body: body, ...(ifNoneMatch ? { IfNoneMatch: '*' } : {}) }),
        );
        return { ok: true };
      } catch (e) {
        // 412: the key exists (we lost the race); 409: a concurrent conditional write is in
        // flight on AWS. Both mean "not yours"; anything else is a real failure.
        const status = statusOf(e);
        if (ifNoneMatch && (status === 412 || status === 409)) return { ok: false, status };
        throw e;
      }
    },
    async get(key) {
      requests.get++;
      try {
        const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: prefix + key }));
        return Buffer.from(await r.Body!.transformToByteArray());
      } catch (e) {
        if (statusOf(e) === 404) return undefined;
        throw e;
      }
    },
    async exists(key) {
      requests.head++;
      try {
        await client.send(new HeadObjectCommand({ Bucket: bucket, Key: prefix + key }));
        return true;
      } catch (e) {
        if (statusOf(e) === 404) return false;
        throw e;
      }
    },
  };
}
