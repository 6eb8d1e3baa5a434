// An in-memory S3 for unit tests of txnfs/s3: an object with the `send()` of an S3Client that
// understands the eleven commands the seam (src/s3/seam.ts) sends, with the semantics txnfs relies
// on: PUT with If-None-Match: * answers 412 when the key exists, GET/HEAD of a missing key 404,
// LIST in key order with StartAfter/MaxKeys/continuation, multipart uploads that appear only when
// completed, LastModified stamped by the "server" clock. It runs 100,000-file trees in seconds;
// it does not replace the Ceph RGW suite (test/s3/*.test.ts on a real server), which checks that
// a real server behaves like this.
import { Readable } from 'node:stream';
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
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';

interface Obj {
  body: Buffer;
  lastModified: Date;
}

function fail(status: number, name: string): S3ServiceException {
  return new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message: `${name} (in-memory S3)` });
}

function bytes(body: unknown): Buffer {
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  throw new TypeError(`in-memory S3: unsupported body ${typeof body}`);
}

/** The fields of the commands' inputs that the seam sets. */
interface Input {
  Bucket: string;
  Key: string;
  Body?: unknown;
  IfNoneMatch?: string;
  Prefix?: string;
  StartAfter?: string;
  MaxKeys?: number;
  ContinuationToken?: string;
  UploadId: string;
  PartNumber: number;
  MultipartUpload?: { Parts: { PartNumber: number }[] };
}

export interface MemoryS3 {
  /** Pass as `client` to s3Store (typed as an S3Client; only send() is used). */
  readonly client: S3Client;
  /** Every object, by bucket/key (read or change it to play an outside actor). */
  readonly objects: Map<string, Obj>;
  /** The "server" clock for LastModified; tests may move it. */
  now: () => number;
}

export function memoryS3(): MemoryS3 {
  const objects = new Map<string, Obj>();
  const uploads = new Map<string, { key: string; parts: Map<number, Buffer>; initiated: Date }>();
  let ids = 0;
  const state: MemoryS3 = { client: undefined as unknown as S3Client, objects, now: () => Date.now() };
  const id = (bucket: string, key: string): string => `${bucket}/${key}`;
  async function send(command: { input: Record<string, unknown> }, options?: { abortSignal?: AbortSignal }): Promise<unknown> {
    // Answer on a later turn of the event loop, as a server does: a loop of requests never starves
    // timers (a writer's backoff, a lease renewal).
    await new Promise((r) => setImmediate(r));
    options?.abortSignal?.throwIfAborted();
    const i = command.input as unknown as Input;
    const bucket = i.Bucket;
    if (command instanceof PutObjectCommand) {
      const k = id(bucket, i.Key);
      if (i.IfNoneMatch === '*' && objects.has(k)) throw fail(412, 'PreconditionFailed');
      objects.set(k, { body: bytes(i.Body), lastModified: new Date(state.now()) });
      return {};
    }
    if (command instanceof GetObjectCommand || command instanceof HeadObjectCommand) {
      const o = objects.get(id(bucket, i.Key));
      if (o === undefined) throw fail(404, 'NoSuchKey');
      if (command instanceof HeadObjectCommand) return { ContentLength: o.body.length, LastModified: o.lastModified };
      const body = Object.assign(Readable.from([o.body]), { transformToByteArray: async () => new Uint8Array(o.body) });
      return { Body: body, ContentLength: o.body.length, LastModified: o.lastModified };
    }
    if (command instanceof DeleteObjectCommand) {
      objects.delete(id(bucket, i.Key));
      return {};
    }
    if (command instanceof ListObjectsV2Command) {
      const prefix = i.Prefix ?? '';
      const after = i.ContinuationToken ?? i.StartAfter ?? '';
      const max = i.MaxKeys ?? 1000;
      const keys = [...objects.keys()]
        .filter((k) => k.startsWith(`${bucket}/`))
        .map((k) => k.slice(bucket.length + 1))
        .filter((k) => k.startsWith(prefix) && k > after)
        .sort();
      const page = keys.slice(0, max);
      const truncated = keys.length > max;
      return {
        Contents: page.map((k) => ({ Key: k, Size: objects.get(id(bucket, k))!.body.length, LastModified: objects.get(id(bucket, k))!.lastModified })),
        KeyCount: page.length,
        IsTruncated: truncated,
        ...(truncated ? { NextContinuationToken: page.at(-1) } : {}),
      };
    }
    if (command instanceof CreateMultipartUploadCommand) {
      const uploadId = `u${++ids}`;
      uploads.set(uploadId, { key: id(bucket, i.Key), parts: new Map(), initiated: new Date(state.now()) });
      return { UploadId: uploadId };
    }
    if (command instanceof UploadPartCommand) {
      const u = uploads.get(i.UploadId);
      if (u === undefined) throw fail(404, 'NoSuchUpload');
      u.parts.set(i.PartNumber, Buffer.from(bytes(i.Body)));
      return { ETag: `"p${i.PartNumber}"` };
    }
    if (command instanceof CompleteMultipartUploadCommand) {
      const u = uploads.get(i.UploadId);
      if (u === undefined) throw fail(404, 'NoSuchUpload');
      const parts = i.MultipartUpload!.Parts.map((p) => u.parts.get(p.PartNumber));
      if (parts.some((p) => p === undefined)) throw fail(400, 'InvalidPart');
      uploads.delete(i.UploadId);
      objects.set(u.key, { body: Buffer.concat(parts as Buffer[]), lastModified: u.initiated });
      return {};
    }
    if (command instanceof AbortMultipartUploadCommand) {
      if (!uploads.delete(i.UploadId)) throw fail(404, 'NoSuchUpload');
      return {};
    }
    if (command instanceof ListMultipartUploadsCommand) {
      const prefix = i.Prefix ?? '';
      const found = [...uploads].filter(([, u]) => u.key.startsWith(`${bucket}/${prefix}`));
      return { Uploads: found.map(([uploadId, u]) => ({ Key: u.key.slice(bucket.length + 1), UploadId: uploadId, Initiated: u.initiated })), IsTruncated: false };
    }
    throw new Error(`in-memory S3: ${command.constructor.name} is not supported`);
  }
  (state as { client: unknown }).client = { send, destroy() {} };
  return state;
}
