// The one door every S3 request of txnfs/s3 goes through: it counts requests (the cost figures in
// docs/s3.md are read from here) and reports each request to the test-only fault hook
// (src/s3/faults.ts) before it is sent and after it is answered. Only modules under src/s3/ import
// the AWS SDK, so a local-only user never loads it.
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3ServiceException,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { s3Faults } from './faults.js';

/** Requests sent so far, by kind. */
export interface S3RequestCounts {
  get: number;
  head: number;
  put: number;
  delete: number;
  list: number;
  /** Multipart requests: create, part, complete, abort, list. */
  multipart: number;
}

/** An object seen by a listing. */
export interface Listed {
  /** The key under the prefix. */
  readonly key: string;
  readonly size: number;
  readonly lastModified: Date;
}

/** An unfinished multipart upload seen by a listing. */
export interface ListedUpload {
  readonly key: string;
  readonly uploadId: string;
  readonly initiated: Date;
}

/** Where a store lives and the counted door to it. */
export interface S3Seam {
  readonly client: S3Client;
  readonly bucket: string;
  /** Key prefix, '' or ending in '/'. */
  readonly prefix: string;
  readonly requests: S3RequestCounts;
  /** PUT; `ifNoneMatch` makes it a create-only write (`{ ok: false }` on 412/409). */
  put(key: string, body: string | Uint8Array, options?: { ifNoneMatch?: boolean; signal?: AbortSignal | undefined }): Promise<{ ok: true } | { ok: false; status: number }>;
  /** GET the whole object, or undefined when the key is absent. */
  get(key: string, signal?: AbortSignal): Promise<Buffer | undefined>;
  /** GET as a stream of bytes (undefined when absent). */
  getStream(key: string, signal?: AbortSignal): Promise<AsyncIterable<Uint8Array> | undefined>;
  /** Whether the key exists. */
  exists(key: string): Promise<boolean>;
  /** DELETE (a missing key is not an error in S3). */
  delete(key: string): Promise<void>;
  /** Every object under `under` (a key prefix below the store's prefix), all pages. */
  list(under: string): Promise<Listed[]>;
  /** One LIST request: at most `maxKeys` objects under `under` whose keys sort after `startAfter` (a key below the prefix). */
  listAfter(under: string, startAfter: string, maxKeys: number): Promise<Listed[]>;
  createMultipart(key: string, signal?: AbortSignal): Promise<string>;
  uploadPart(key: string, uploadId: string, partNumber: number, body: Uint8Array, signal?: AbortSignal): Promise<string>;
  completeMultipart(key: string, uploadId: string, parts: { PartNumber: number; ETag: string }[], signal?: AbortSignal): Promise<void>;
  abortMultipart(key: string, uploadId: string): Promise<void>;
  /** Unfinished multipart uploads under `under`, all pages. */
  listMultipart(under: string): Promise<ListedUpload[]>;
}

function statusOf(e: unknown): number | undefined {
  return e instanceof S3ServiceException ? e.$metadata.httpStatusCode : undefined;
}

export function makeSeam(client: S3Client, bucket: string, prefix: string): S3Seam {
  const requests: S3RequestCounts = { get: 0, head: 0, put: 0, delete: 0, list: 0, multipart: 0 };
  /** Count, report 'before', send, report 'after' (also for an HTTP error: the server answered). */
  async function send<T>(kind: keyof S3RequestCounts, op: string, key: string, fn: () => Promise<T>): Promise<T> {
    requests[kind]++;
    const hook = s3Faults.hook;
    if (hook !== undefined) await hook({ op, key, phase: 'before' });
    let out: T;
    try {
      out = await fn();
    } catch (e) {
      if (hook !== undefined && statusOf(e) !== undefined) await hook({ op, key, phase: 'after' });
      throw e;
    }
    if (hook !== undefined) await hook({ op, key, phase: 'after' });
    return out;
  }
  const Bucket = bucket;
  return {
    client,
    bucket,
    prefix,
    requests,
    async put(key, body, options = {}) {
      const ifNoneMatch = options.ifNoneMatch === true;
      try {
        await send('put', ifNoneMatch ? 'put-if-absent' : 'put', key, () =>
          client.send(new PutObjectCommand({ Bucket, Key: prefix + key, Body: body, ...(ifNoneMatch ? { IfNoneMatch: '*' } : {}) }), { abortSignal: options.signal }),
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
    async get(key, signal) {
      try {
        return await send('get', 'get', key, async () => {
          const r = await client.send(new GetObjectCommand({ Bucket, Key: prefix + key }), { abortSignal: signal });
          return Buffer.from(await r.Body!.transformToByteArray());
        });
      } catch (e) {
        if (statusOf(e) === 404) return undefined;
        throw e;
      }
    },
    async getStream(key, signal) {
      try {
        return await send('get', 'get', key, async () => {
          const r = await client.send(new GetObjectCommand({ Bucket, Key: prefix + key }), { abortSignal: signal });
          return r.Body as unknown as AsyncIterable<Uint8Array>;
        });
      } catch (e) {
        if (statusOf(e) === 404) return undefined;
        throw e;
      }
    },
    async exists(key) {
      try {
        await send('head', 'head', key, () => client.send(new HeadObjectCommand({ Bucket, Key: prefix + key })));
        return true;
      } catch (e) {
        if (statusOf(e) === 404) return false;
        throw e;
      }
    },
    async delete(key) {
      await send('delete', 'delete', key, () => client.send(new DeleteObjectCommand({ Bucket, Key: prefix + key })));
    },
    async list(under) {
      const out: Listed[] = [];
      let token: string | undefined;
      do {
        const r = await send('list', 'list', under, () =>
          client.send(new ListObjectsV2Command({ Bucket, Prefix: prefix + under, ...(token === undefined ? {} : { ContinuationToken: token }) })),
        );
        for (const o of r.Contents ?? []) {
          out.push({ key: o.Key!.slice(prefix.length), size: o.Size ?? 0, lastModified: o.LastModified ?? new Date(0) });
        }
        token = r.IsTruncated === true ? r.NextContinuationToken : undefined;
      } while (token !== undefined);
      return out;
    },
    async listAfter(under, startAfter, maxKeys) {
      const r = await send('list', 'list', under, () =>
        client.send(new ListObjectsV2Command({ Bucket, Prefix: prefix + under, StartAfter: prefix + startAfter, MaxKeys: maxKeys })),
      );
      return (r.Contents ?? []).map((o) => ({ key: o.Key!.slice(prefix.length), size: o.Size ?? 0, lastModified: o.LastModified ?? new Date(0) }));
    },
    async createMultipart(key, signal) {
      const r = await send('multipart', 'mpu-create', key, () => client.send(new CreateMultipartUploadCommand({ Bucket, Key: prefix + key }), { abortSignal: signal }));
      return r.UploadId!;
    },
    async uploadPart(key, uploadId, partNumber, body, signal) {
      const r = await send('multipart', 'mpu-part', key, () =>
        client.send(new UploadPartCommand({ Bucket, Key: prefix + key, UploadId: uploadId, PartNumber: partNumber, Body: body }), { abortSignal: signal }),
      );
      return r.ETag!;
    },
    async completeMultipart(key, uploadId, parts, signal) {
      await send('multipart', 'mpu-complete', key, () =>
        client.send(new CompleteMultipartUploadCommand({ Bucket, Key: prefix + key, UploadId: uploadId, MultipartUpload: { Parts: parts } }), { abortSignal: signal }),
      );
    },
    async abortMultipart(key, uploadId) {
      try {
        await send('multipart', 'mpu-abort', key, () => client.send(new AbortMultipartUploadCommand({ Bucket, Key: prefix + key, UploadId: uploadId })));
      } catch (e) {
        // 404 NoSuchUpload: it was completed or aborted already, which is what we wanted.
        if (statusOf(e) !== 404) throw e;
      }
    },
    async listMultipart(under) {
      const out: ListedUpload[] = [];
      let keyMarker: string | undefined;
      let idMarker: string | undefined;
      for (;;) {
        const r = await send('multipart', 'mpu-list', under, () =>
          client.send(
            new ListMultipartUploadsCommand({
              Bucket,
              Prefix: prefix + under,
              ...(keyMarker === undefined ? {} : { KeyMarker: keyMarker }),
              ...(idMarker === undefined ? {} : { UploadIdMarker: idMarker }),
            }),
          ),
        );
        for (const u of r.Uploads ?? []) out.push({ key: u.Key!.slice(prefix.length), uploadId: u.UploadId!, initiated: u.Initiated ?? new Date(0) });
        if (r.IsTruncated !== true) return out;
        keyMarker = r.NextKeyMarker;
        idMarker = r.NextUploadIdMarker;
      }
    },
  };
}
