/**
 * stream.ts: `tx.createWriteStream()`'s staging (docs/protocol.md, "Staging"): a Writable whose
 * bytes go to one staged file, opened at the first write, written by writev in batches, sealed at
 * its end (seal.ts); and commit()'s wait for such a stream to end (step 1, settle staging).
 */
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import * as fs from '../io/fs.js';
import { codes, TxnError } from '../errors.js';
import { writeAll, writeChunks } from '../io/durable.js';
import { stagedFile } from '../protocol/layout.js';
import type { Setup } from '../protocol/commit.js';
import { setMode } from '../platform/no-modes.js';
import { sealHandle } from './seal.js';
import type { StagedFacts } from './staged.js';

/** How much a stream buffers while a write is in flight (see `stagingStream`). */
const STREAM_BUFFER = 1024 * 1024;

const noop = (): void => undefined;

/** A stream of a transaction, as commit() watches it. */
export interface TrackedStream {
  readonly stream: Writable;
  readonly done: Promise<void>;
  readonly rel: string;
  /** Whether something is still writing into it (see #awaitStream). */
  readonly busy: () => boolean;
  /** Called when a write completes; commit() sets it while it waits for the stream. */
  onWritten: (() => void) | undefined;
}

/** What a stream needs of its transaction. */
export interface StreamHost {
  /** The root and staging dir, made on first use. */
  setup(): Promise<Setup>;
  /** Throws once the transaction stopped staging (aborted, committing, failed). */
  stillStaging(): void;
  readonly staged: StagedFacts;
  readonly durable: boolean;
}

/**
 * A Writable staging file `n` (for target `rel`, with `mode` when one was given; `encoding` turns
 * strings into bytes), tracked for commit().
 */
export function stagingStream(host: StreamHost, n: number, mode: number | undefined, encoding: BufferEncoding, rel: string): TrackedStream {
  let handle: fs.Handle | undefined;
  let bytes = 0;
  let inFlight = 0;
  let pipes = 0;
  const open = async (): Promise<fs.Handle> => {
    if (handle !== undefined) return handle;
    const setup = await host.setup();
    host.stillStaging();
    const h = await fs.create(stagedFile(setup.staging.dir, n), 0o666);
    handle = h;
    if (mode !== undefined) await setMode(setup.root, () => h.chmod(mode));
    return handle;
  };
  const written = (callback: (err?: Error | null) => void) => (err?: unknown): void => {
    inFlight--;
    callback(err as Error | null | undefined);
    tracked.onWritten?.();
  };
  const stream = new Writable({
    // Chunks that arrive while a write is in flight are buffered (up to this much before the
    // producer is told to wait) and then written together by one writev: a 1 GiB stream of
    // 64 KiB chunks makes a few thousand system calls, not 16,384 one-chunk round trips.
    highWaterMark: STREAM_BUFFER,
    defaultEncoding: encoding, // stream.write('text') is turned into bytes with it
    write: (chunk: Uint8Array, _encoding, callback) => {
      inFlight++;
      const done = written(callback);
      (async () => {
        const h = handle ?? (await open());
        host.stillStaging();
        await writeAll(h, chunk);
        bytes += chunk.length;
      })().then(() => done(), done);
    },
    writev: (chunks, callback) => {
      inFlight++;
      const done = written(callback);
      (async () => {
        const h = handle ?? (await open());
        host.stillStaging();
        const buffers = chunks.map((c) => c.chunk as Uint8Array);
        await writeChunks(h, buffers);
        for (const b of buffers) bytes += b.length;
      })().then(() => done(), done);
    },
    final: (callback) => {
      (async () => {
        const h = await open();
        handle = undefined;
        await sealHandle(host.staged, n, h, bytes, host.durable);
      })().then(() => callback(), callback);
    },
    destroy: (err, callback) => {
      const h = handle;
      handle = undefined;
      if (h === undefined) callback(err);
      else h.close().then(() => callback(err), () => callback(err));
    },
  });
  // finished() listens for 'error', so an errored stream the caller does not watch cannot crash
  // the process; the error surfaces at commit() instead.
  const done = finished(stream);
  done.catch(noop);
  // Who is still writing into it, for commit() (#awaitStream): a Readable piped into it ('pipe'
  // until 'unpipe'), a write in flight or buffered, or a pipeline()/finished() waiting for it to
  // finish (pipeline() from an async iterable writes between awaits, with no pipe and, between
  // chunks, no write in flight, but it always watches 'finish'). Our own finished() above is the
  // baseline.
  stream.on('pipe', () => pipes++);
  stream.on('unpipe', () => {
    pipes--;
    tracked.onWritten?.();
  });
  const ownFinishListeners = stream.listenerCount('finish');
  const tracked: TrackedStream = {
    stream,
    done,
    rel,
    busy: () => pipes > 0 || inFlight > 0 || stream.writableLength > 0 || stream.listenerCount('finish') > ownFinishListeners,
    onWritten: undefined,
  };
  return tracked;
}

/**
 * Wait until a stream from createWriteStream() has ended, as long as something is still writing
 * into it (TrackedStream.busy: piped into, a write in flight, a pipeline waiting for it). One
 * that is open with none of these will never end: it is destroyed and fails the commit with
 * ESTAGE. Idleness is judged a turn of the event loop later (setImmediate), because a source
 * that ends unpipes first and calls end() right after. The AbortSignal always cuts the wait.
 */
export async function awaitStream(t: TrackedStream, signal: AbortSignal | undefined, fail: (err: TxnError) => void, txnId: string): Promise<void> {
  const s = t.stream;
  const over = (): boolean => s.writableEnded || s.errored !== null || s.destroyed;
  if (over()) return;
  await new Promise<void>((resolve) => {
    let settled = false;
    const finish = (): void => {
      if (settled) return;
      settled = true;
      t.onWritten = undefined;
      signal?.removeEventListener('abort', onAbort);
      resolve();
    };
    const onAbort = (): void => {
      s.destroy();
      finish();
    };
    const check = (): void => {
      if (settled) return;
      if (over()) return finish();
      if (t.busy()) return;
      setImmediate(() => {
        if (settled) return;
        if (over()) return finish();
        if (t.busy()) return;
        s.destroy();
        fail(new TxnError(codes.ESTAGE, `The stream for '${t.rel}' was never ended: it is open, nothing is piped into it and no write is in flight. Call end() (or finish the pipeline) before commit().`, { path: t.rel, txnId }));
        finish();
      });
    };
    if (signal?.aborted === true) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    t.onWritten = check;
    t.done.then(finish, finish);
    check();
  });
  // The abort is the reason the stream stopped, not a staging failure: commit() reports EABORTED.
  signal?.throwIfAborted();
}
