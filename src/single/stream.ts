/**
 * stream.ts: `createWriteStream`, a Writable whose target changes only when it ends successfully.
 *
 * The stream resolves its target and creates its temp file when it is constructed (so a bad
 * directory fails early, before the producer runs), writes each chunk through to the temp file
 * (`writeAll`: never a short write), and commits in `final()`: its turn in the per-path queue is
 * taken then, when end() is called, so a stream held open for an hour does not block other writes
 * of the same path (and a stream that is never ended cannot block them forever). 'finish' is
 * emitted once the new content is in place and durable; `pipeline()` resolves then.
 *
 * `destroy(err)`, an error, or the AbortSignal before the commit point leave the target untouched
 * and remove the temp file. destroy() during the commit wins if the rename has not started yet;
 * after it, the new content has landed and stays ('finish' tells which).
 *
 * Cost: as writeFile, plus one lstat at the commit to read the current mode and owner.
 */
import { Writable } from 'node:stream';
import { codes, TxnError } from '../errors.js';
import { resolveFileOptions, writeFileKeys, type WriteFileOptions } from '../options/file-options.js';
import { fileError } from './file.js';
import { fileQueue } from './queue.js';
import { TempFile, type WriteFileResult } from './replace.js';
import { checkFilePath, resolveTarget, type Target } from './target.js';

/** A Writable from {@link createWriteStream}; `result` is set once it has finished. */
export interface AtomicWriteStream extends Writable {
  /** What the write did, once 'finish' has been emitted; undefined before. */
  readonly result: WriteFileResult | undefined;
}

/**
 * A Writable whose bytes become the new content of `path` when the stream ends successfully, all
 * at once (a temp file renamed into place, as {@link writeFile} does). Until then the file is
 * untouched; `destroy(err)`, a write error or an abort leave it untouched for good and remove the
 * temp file. Works with `stream/promises` `pipeline()`, which resolves once the content is durable.
 * End or destroy every stream: an abandoned one keeps its temp file (and descriptor) until exit.
 *
 * Throws at once for a bad path or options; errors of the filesystem are emitted as TxnErrors
 * (codes as for writeFile).
 *
 * @example
 * ```ts
 * await pipeline(source, createWriteStream('export.ndjson'));
 * ```
 */
export function createWriteStream(path: string | URL, options?: WriteFileOptions | BufferEncoding): AtomicWriteStream {
  const abs = checkFilePath(path);
  const { resolved: o } = resolveFileOptions(options, writeFileKeys);
  const signal = o.common.signal;
  let target: Target | undefined;
  let temp: TempFile | undefined;
  let committing: Promise<WriteFileResult> | undefined;
  let destroying = false;
  let result: WriteFileResult | undefined;

  const stream = new Writable({
    defaultEncoding: o.encoding,
    construct(callback) {
      (async () => {
        signal?.throwIfAborted();
        target = await resolveTarget(abs);
        if (o.exclusive && target.existing !== undefined) {
          throw new TxnError(codes.EPRECONDITION, `'${target.path}' already exists and { exclusive: true } was given; it was not replaced. Remove it first, or write without exclusive to replace it.`, { path: target.path });
        }
        temp = await TempFile.open(target, o);
      })().then(() => callback(), (err: unknown) => callback(fileError(err, abs, signal)));
    },
    write(chunk: Uint8Array, _encoding, callback) {
      (async () => {
        signal?.throwIfAborted();
        await (temp as TempFile).write(chunk);
      })().then(() => callback(), (err: unknown) => callback(fileError(err, abs, signal)));
    },
    final(callback) {
      const t = temp as TempFile;
      const first = target as Target;
      committing = fileQueue.run(abs, async () => {
        signal?.throwIfAborted();
        // Read the target as it is now: its mode and owner are kept, and it may have appeared.
        const now = await resolveTarget(first.path);
        if (now.path !== first.path) {
          throw new TxnError(codes.ETARGET, `'${first.path}' became a symlink while the stream was open; it was not replaced. Check what replaced it, then write again.`, { path: first.path });
        }
        if (o.exclusive && now.existing !== undefined) {
          throw new TxnError(codes.EPRECONDITION, `'${now.path}' already exists and { exclusive: true } was given; it was not replaced. Remove it first, or write without exclusive to replace it.`, { path: now.path });
        }
        return t.commit(now.existing, async () => {
          if (destroying) throw new TxnError(codes.EABORTED, `The stream for '${now.path}' was destroyed before its content was renamed into place; the file is untouched. Write it again if it is still wanted.`, { path: now.path });
        });
      });
      committing.then(
        (r) => {
          result = r;
          callback();
        },
        async (err: unknown) => {
          await t.discard();
          callback(fileError(err, abs, signal));
        },
      );
    },
    destroy(err, callback) {
      destroying = true;
      (async () => {
        // A commit under way finishes first: either its rename has happened (the content landed),
        // or the `destroying` check before it fails the commit and the temp is removed.
        if (committing !== undefined) await committing.catch(() => undefined);
        await temp?.discard();
      })().then(() => callback(err), () => callback(err));
    },
  });

  if (signal !== undefined) {
    // Already aborted: construct() fails with EABORTED. Aborted after 'finish': too late, nothing to undo.
    const onAbort = (): void => {
      if (stream.writableFinished) return;
      stream.destroy(new TxnError(codes.EABORTED, `The write of '${abs}' was aborted by its AbortSignal; the file is untouched. Write it again if it is still wanted.`, { path: abs, cause: signal.reason }));
    };
    if (!signal.aborted) {
      signal.addEventListener('abort', onAbort, { once: true });
      stream.once('close', () => signal.removeEventListener('abort', onAbort));
    }
  }
  Object.defineProperty(stream, 'result', { get: () => result, enumerable: true });
  return stream as AtomicWriteStream;
}
