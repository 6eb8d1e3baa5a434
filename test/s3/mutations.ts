// The harness's deliberate txnfs/s3 protocol bugs, as filters of the requests a store sends: a
// client that wraps a real one (Ceph RGW's or the in-memory S3's) and rewrites what goes out or
// what comes back, keyed on the command and the key. The library carries none of these; a test
// passes `mutatedClient(client, name)` to the s3Store() whose behaviour it breaks, and shows that
// its checks catch the result. (The two bugs a filter cannot express, a commit that does not wait
// for its uploads and a reader that skips a checkpoint's check, are in src/s3/faults.ts, which says
// why.)
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3ServiceException,
  type S3Client,
} from '@aws-sdk/client-s3';

export type S3Filter =
  /** The log entry is PUT without If-None-Match: two writers can both "win" a generation. */
  | 's3-log-unconditional'
  /** recover() sees no log, checkpoint or head hint: every staged key looks uncommitted. */
  | 's3-recover-ignores-log'
  /** recover() sees no leases: open snapshots pin nothing. */
  | 's3-gc-ignores-leases'
  /** recover() sees every staged key as old as the epoch: no grace for a commit under way. */
  | 's3-gc-no-grace';

/** Keys of the log and what summarises it, below any store prefix. */
const LOG = /(^|\/)(log\/|checkpoint\/|_head$)/;
const LEASES = /(^|\/)lease\/$/;
const DATA = /(^|\/)data\/$/;

function notFound(): S3ServiceException {
  return new S3ServiceException({ name: 'NoSuchKey', $fault: 'client', $metadata: { httpStatusCode: 404 }, message: 'NoSuchKey (hidden by the test harness)' });
}

const empty = { Contents: [], KeyCount: 0, IsTruncated: false, Uploads: [] };

/** `client`, with the deliberate bug `filter` in every request a store sends through it. */
export function mutatedClient(client: S3Client, filter: S3Filter): S3Client {
  type Sent = { input: object };
  const send = async (command: Sent, options?: unknown): Promise<unknown> => {
    const input = command.input as Record<string, unknown>;
    const key = typeof input.Key === 'string' ? input.Key : '';
    const prefix = typeof input.Prefix === 'string' ? input.Prefix : '';
    const pass = (c: Sent = command): Promise<unknown> => (client.send as (c: Sent, o?: unknown) => Promise<unknown>)(c, options);
    switch (filter) {
      case 's3-log-unconditional':
        if (command instanceof PutObjectCommand && /(^|\/)log\//.test(key)) {
          const { IfNoneMatch: _dropped, ...rest } = command.input as PutObjectCommand['input'];
          return pass(new PutObjectCommand(rest));
        }
        return pass();
      case 's3-recover-ignores-log':
        if ((command instanceof GetObjectCommand || command instanceof HeadObjectCommand) && LOG.test(key)) throw notFound();
        if (command instanceof ListObjectsV2Command && LOG.test(prefix)) return empty;
        return pass();
      case 's3-gc-ignores-leases':
        if (command instanceof ListObjectsV2Command && LEASES.test(prefix)) return empty;
        return pass();
      case 's3-gc-no-grace': {
        const out = (await pass()) as { Contents?: { LastModified?: Date }[]; Uploads?: { Initiated?: Date }[] };
        if (command instanceof ListObjectsV2Command && DATA.test(prefix)) return { ...out, Contents: out.Contents?.map((o) => ({ ...o, LastModified: new Date(0) })) };
        if (command instanceof ListMultipartUploadsCommand && DATA.test(prefix)) return { ...out, Uploads: out.Uploads?.map((u) => ({ ...u, Initiated: new Date(0) })) };
        return out;
      }
    }
  };
  return { send } as unknown as S3Client;
}
