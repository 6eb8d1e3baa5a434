/**
 * s3.ts (cli): `s3://bucket/prefix` for `status`, `recover` and `snapshot`. Parsing and output
 * only; the work is txnfs/s3 (src/s3/).
 *
 * The client is the AWS SDK v3's, an optional peer dependency: loaded only when an `s3://` target
 * is named, so the command works without it for local roots. Credentials, region and endpoint come
 * from the standard `AWS_*` environment (the SDK's own chain). With an endpoint of its own
 * (`AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL`: Ceph RGW, MinIO, ...) requests are path-style, as
 * those servers expect without wildcard DNS; region defaults to us-east-1 when none is set, as
 * such servers ignore it.
 *
 * Everything of src/s3/ is imported when first needed (`await import`), never statically: those
 * modules load the SDK, and the command must start (for local roots, `--version`, `--help`)
 * where it is not installed. Type imports are erased at build.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { isTxnError } from '../errors.js';
import type { S3RecoverReport } from '../s3/recover.js';
import type { S3Store } from '../s3/store.js';
import { exitCodes, UsageError, type Exit } from './command.js';
import { plural, toJson } from './format.js';

/** An error of the store (an S3 request, or the SDK missing): printed as is, exit 1. */
class S3CliError extends Error {
  readonly code = 'ES3';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'S3CliError';
  }
}

export function isS3Url(arg: string): boolean {
  return arg.startsWith('s3://');
}

/** `s3://bucket/some/prefix/` → bucket and prefix (no leading or trailing slash; '' for the bucket's root). */
function parseS3Url(command: string, url: string): { bucket: string; prefix: string } {
  const rest = url.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  const prefix = slash === -1 ? '' : rest.slice(slash + 1).replace(/^\/+|\/+$/g, '');
  if (bucket === '') throw new UsageError(command, `'${url}' names no bucket: write s3://<bucket>[/<prefix>]`);
  // S3 bucket names: 3 to 63 of a-z, 0-9, '.', '-'. Said here, not as a 400 from the server.
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw new UsageError(command, `'${bucket}' is not an S3 bucket name (3 to 63 of a-z, 0-9, '.' and '-')`);
  return { bucket, prefix };
}

/** The store named by `url`, with a client from the environment; `close()` ends its connections. */
async function openS3(command: string, url: string, env: NodeJS.ProcessEnv = process.env): Promise<{ store: S3Store; close: () => void }> {
  const { bucket, prefix } = parseS3Url(command, url);
  let sdk: typeof import('@aws-sdk/client-s3');
  try {
    sdk = await import('@aws-sdk/client-s3');
  } catch (err) {
    throw new S3CliError(`${url}: s3:// targets need the AWS SDK v3 S3 client, an optional peer dependency of txnfs that is not installed. Install it: npm install @aws-sdk/client-s3`, { cause: err });
  }
  const { s3Store } = await import('../s3/store.js');
  const endpoint = env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  const client: S3Client = new sdk.S3Client({
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    ...(endpoint === undefined || endpoint === '' ? {} : { endpoint, forcePathStyle: true }),
  });
  return { store: s3Store({ client, bucket, prefix }), close: () => client.destroy() };
}

/** Run `fn` on the store; an SDK error becomes one line naming the target, not a stack trace. */
async function withStore<T>(command: string, url: string, fn: (store: S3Store) => Promise<T>): Promise<T> {
  const { store, close } = await openS3(command, url);
  try {
    return await fn(store);
  } catch (err) {
    if (isTxnError(err) || err instanceof UsageError) throw err;
    const e = err as { name?: string; message?: string };
    throw new S3CliError(`${url}: ${e.name ?? 'Error'}: ${e.message ?? String(err)}`, { cause: err });
  } finally {
    close();
  }
}

function formatS3Recover(url: string, r: S3RecoverReport, dryRun: boolean): string {
  const lines = [`${url}: generation ${r.generation}.`];
  if (r.removed.length === 0 && r.abortedUploads === 0) lines.push(dryRun ? 'nothing to recover.' : 'nothing was left to remove.');
  else {
    const verb = dryRun ? 'would remove' : 'removed';
    lines.push(`${verb} the staged data of ${plural(r.removed.length, 'transaction')} that never committed (older than the grace)${r.abortedUploads > 0 ? ` and ${plural(r.abortedUploads, 'unfinished upload')}` : ''}${dryRun ? ' (dry run, nothing changed)' : ''}:`);
    for (const id of r.removed) lines.push(`  ${id}`);
  }
  if (r.young.length > 0) lines.push(`left ${plural(r.young.length, 'uncommitted transaction')} younger than the grace (maybe still writing): ${r.young.join(', ')}`);
  return `${lines.join('\n')}\n`;
}

/**
 * `--grace <ms>`: how old uncommitted staged data must be to count as dead. Only for s3:// (a
 * local root judges its owners by process, not by age); lower only when no writer can be live.
 */
export function graceOption(command: string, target: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!isS3Url(target)) throw new UsageError(command, '--grace is for s3:// targets (a local root judges its transactions by their owner process, not by age)');
  if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(Number(value))) throw new UsageError(command, `--grace takes milliseconds (a whole number), not '${value}'`);
  return Number(value);
}

/** `txnfs status s3://…`: exit 3 when staged data of dead transactions waits for `txnfs recover`. */
export async function s3Status(url: string, json: boolean, out: NodeJS.WritableStream, graceMs?: number): Promise<Exit> {
  return withStore('status', url, async (store) => {
    const { recover } = await import('../s3/recover.js');
    const r = await recover({ store, dryRun: true, graceMs });
    // The tree of the generation recover() read (cached by the store: no request, and no newer head
    // mixed into the line).
    const tree = await store.at(r.generation);
    const health = r.removed.length > 0 || r.abortedUploads > 0 ? 'needs-recovery' : 'clean';
    if (json) out.write(toJson({ target: url, generation: r.generation, files: tree.size, health, dead: r.removed, abortedUploads: r.abortedUploads, young: r.young }));
    else {
      let text = `${url}: generation ${r.generation}, ${plural(tree.size, 'file')}; ${health === 'clean' ? 'clean, nothing to recover.' : `staged data of ${plural(r.removed.length, 'dead transaction')} to remove. Run: txnfs recover ${url}`}\n`;
      if (r.young.length > 0) text += `${plural(r.young.length, 'uncommitted transaction')} younger than the grace (maybe still writing): ${r.young.join(', ')}\n`;
      out.write(text);
    }
    return { code: health === 'clean' ? exitCodes.ok : exitCodes.needsRecovery };
  });
}

/** `txnfs recover s3://… [--dry-run]`. */
export async function s3Recover(url: string, dryRun: boolean, json: boolean, out: NodeJS.WritableStream, graceMs?: number): Promise<Exit> {
  return withStore('recover', url, async (store) => {
    const { recover } = await import('../s3/recover.js');
    const r = await recover({ store, dryRun, graceMs });
    out.write(json ? toJson({ target: url, dryRun, ...r }) : formatS3Recover(url, r, dryRun));
    return { code: dryRun && (r.removed.length > 0 || r.abortedUploads > 0) ? exitCodes.needsRecovery : exitCodes.ok };
  });
}

/** `txnfs snapshot s3://… (--list | --get <path>)`: one pinned generation, listed or one file to stdout. */
export async function s3Snapshot(url: string, what: { list: true } | { get: string }, out: NodeJS.WritableStream): Promise<Exit> {
  return withStore('snapshot', url, async (store) => {
    const { openSnapshot } = await import('../s3/snapshot.js');
    const snap = await openSnapshot({ store });
    try {
      if ('list' in what) {
        out.write(`# generation ${snap.generation}\n`);
        for (const p of snap.list()) out.write(`${p}\n`);
      } else {
        const data = await snap.readFile(what.get);
        await new Promise<void>((resolve, reject) => out.write(data, (err) => (err == null ? resolve() : reject(err))));
      }
    } finally {
      snap.release();
    }
    return { code: exitCodes.ok };
  });
}
