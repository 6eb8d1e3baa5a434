/**
 * file.ts: atomic single-file writes, `writeFile` and `writeJson`.
 *
 * A file is either its whole new content or untouched, never partial, and a crash leaves nothing
 * to clean by hand (recover(dir) removes a dead writer's temp file). Each call:
 *
 *   1. checks its arguments synchronously and takes its turn in the per-path queue (queue.ts), so
 *      concurrent calls for one path in this process land in call order;
 *   2. resolves the target, following symlinks (target.ts);
 *   3. writes the data to a temp file in `<dir>/.txnfs/` and renames it over the target
 *      (replace.ts: the algorithm, its durability and why it is not a one-entry Transaction).
 *
 * Cost: see replace.ts; with durability 'full', two fsyncs (the data, then the directory).
 */
import { codes, isTxnError, TxnError } from '../errors.js';
import { chunkBytes, toSource, type Source, type WriteData } from '../transaction/data.js';
import { jsonText, refuseCallback, resolveFileOptions, writeFileKeys, writeJsonKeys, type ResolvedFileOptions, type WriteFileOptions, type WriteJsonFileOptions } from '../options/file-options.js';
import { fileQueue } from './queue.js';
import { TempFile, type WriteFileResult } from './replace.js';
import { checkFilePath, resolveTarget } from './target.js';

/** `data` as bytes now or chunks later, with strings encoded as `encoding`. */
export function encodedSource(data: unknown, encoding: BufferEncoding): Source {
  if (typeof data === 'string') return { bytes: Buffer.from(data, encoding) };
  return toSource(data);
}

function chunkOf(chunk: unknown, encoding: BufferEncoding): Uint8Array {
  return typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunkBytes(chunk);
}

/** Write every byte of `source` into `temp`, checking `signal` between chunks. */
export async function fill(temp: TempFile, source: Source, o: ResolvedFileOptions, target: string): Promise<void> {
  const signal = o.common.signal;
  if ('bytes' in source) {
    await temp.write(source.bytes);
    return;
  }
  try {
    for await (const chunk of source.chunks) {
      signal?.throwIfAborted();
      await temp.write(chunkOf(chunk, o.encoding));
    }
  } catch (err) {
    if (isTxnError(err) || isAbort(err, signal)) throw err;
    throw new TxnError(codes.ESTAGE, `Reading the data for '${target}' failed: ${(err as Error)?.message ?? String(err)}. The file is untouched; fix the data source (see err.cause) and write again.`, { path: target, cause: err });
  }
}

function isAbort(err: unknown, signal: AbortSignal | undefined): boolean {
  return (signal?.aborted === true && err === signal.reason) || (err instanceof Error && err.name === 'AbortError');
}

/** The error a single-file call rejects with: TxnErrors as they are, aborts as `EABORTED`, fs errors as `EFS`. */
export function fileError(err: unknown, target: string, signal: AbortSignal | undefined): TxnError {
  if (isTxnError(err)) return err;
  if (isAbort(err, signal)) {
    return new TxnError(codes.EABORTED, `The write of '${target}' was aborted by its AbortSignal; the file is untouched. Write it again if it is still wanted.`, { path: target, cause: err });
  }
  return new TxnError(codes.EFS, `Writing '${target}' failed: ${(err as Error)?.message ?? String(err)}. The file is untouched; fix the cause (see err.cause) and retry.`, { path: target, cause: err });
}

/** Resolve, write, commit: one whole call, run in its turn. */
async function writeInTurn(abs: string, source: Source, o: ResolvedFileOptions): Promise<WriteFileResult> {
  const signal = o.common.signal;
  try {
    signal?.throwIfAborted();
    const target = await resolveTarget(abs);
    if (o.exclusive && target.existing !== undefined) {
      throw new TxnError(codes.EPRECONDITION, `'${target.path}' already exists and { exclusive: true } was given; it was not replaced. Remove it first, or write without exclusive to replace it.`, { path: target.path });
    }
    const temp = await TempFile.open(target, o);
    try {
      await fill(temp, source, o, target.path);
    } catch (err) {
      await temp.discard();
      throw err;
    }
    return await temp.commit(target.existing);
  } catch (err) {
    throw fileError(err, abs, signal);
  }
}

/**
 * Replace the content of the file at `path` atomically: afterwards it holds all of `data` or,
 * if the call fails, exactly what it held before. Resolves once the new content is durable (with
 * the default `durability: 'full'`). Concurrent calls for the same path in this process land in
 * call order; across processes the last to finish wins, and the file is always one writer's whole
 * data.
 *
 * `data` is what `tx.write()` takes: a string, a Buffer or other Uint8Array/ArrayBufferView, an
 * ArrayBuffer, an iterable or async iterable of chunks, or a Readable stream. A symlink is written
 * through: the file it names is replaced (created, for a dangling link) and the link stays.
 *
 * Rejects with a TxnError: `EBADPATH` (empty path, NUL, a `.txnfs` component, name too long, symlink
 * loop), `ETARGET` (a directory, a special file, a parent that is a file), `EPRECONDITION`
 * (`exclusive` and the file exists), `EABORTED`, `ESTAGE` (writing the data failed, e.g. ENOSPC),
 * `EFS` (another fs call failed, e.g. EACCES at the rename, or a missing directory without
 * `mkdirs`), `ECROSSDEV`: in all of these the file is untouched. `ENOTDURABLE`: the file was
 * replaced but the directory fsync failed. Bad arguments reject with a TypeError or RangeError.
 *
 * `options` may be an encoding name alone, as for `fs.writeFile`: `writeFile(p, text, 'latin1')`
 * is `writeFile(p, text, { encoding: 'latin1' })`.
 *
 * @example
 * ```ts
 * await writeFile('config.json', JSON.stringify(config));
 * await writeFile('/etc/app/secret.key', key, { mode: 0o600 });
 * await writeFile('out/report.csv', rows, { mkdirs: true });
 * ```
 */
export async function writeFile(path: string | URL, data: WriteData, options?: WriteFileOptions | BufferEncoding): Promise<WriteFileResult> {
  refuseCallback('writeFile', arguments, 3);
  const abs = checkFilePath(path);
  const { resolved } = resolveFileOptions(options, writeFileKeys);
  const source = encodedSource(data, resolved.encoding);
  return fileQueue.run(abs, () => writeInTurn(abs, source, resolved));
}

/**
 * Write `value` as JSON (with a trailing newline), atomically, as {@link writeFile} does.
 * Rejects with a TypeError for a value JSON cannot represent (`undefined`, a function, a BigInt,
 * a cycle), before anything is written.
 *
 * @example
 * ```ts
 * await writeJson('state.json', { version: 3, items }, { spaces: 2 });
 * ```
 */
export async function writeJson(path: string | URL, value: unknown, options?: WriteJsonFileOptions | BufferEncoding): Promise<WriteFileResult> {
  refuseCallback('writeJson', arguments, 3);
  const abs = checkFilePath(path);
  const { o, resolved } = resolveFileOptions(options, writeJsonKeys);
  const text = jsonText(value, o);
  const source = { bytes: Buffer.from(text, resolved.encoding) };
  return fileQueue.run(abs, () => writeInTurn(abs, source, resolved));
}

export type { WriteFileResult };
