/**
 * data.ts: the kinds of data a write accepts, checked up front and read as byte chunks.
 *
 * Accepted: a string (UTF-8), a Buffer or any Uint8Array (or other ArrayBufferView), an ArrayBuffer,
 * an iterable or async iterable of string/Uint8Array chunks, and a Node Readable (which is an
 * async iterable). Anything else is a TypeError at the call, before any I/O.
 */
import { badArgument } from '../errors.js';

/**
 * Data accepted by `tx.write()` and `writeFile()`. A number or a plain object is a `TypeError`
 * (use `String(n)`, or `writeJson()`); so is `undefined` (write `''` for an empty file).
 *
 * @example
 * ```ts
 * tx.write('a.txt', 'text, encoded as UTF-8 (or as the encoding option says)');
 * tx.write('b.bin', Buffer.from([0xca, 0xfe]));
 * tx.write('c.csv', rows.map((r: string[]) => `${r.join(',')}\n`)); // an iterable of chunks
 * tx.write('d.ndjson', fs.createReadStream('in.ndjson')); // a Readable
 * ```
 */
export type WriteData =
  | string
  | Uint8Array
  | ArrayBuffer
  | ArrayBufferView
  | Iterable<string | Uint8Array>
  | AsyncIterable<string | Uint8Array>
  | NodeJS.ReadableStream;

/** Normalised data: bytes now, or chunks later. */
export type Source = { readonly bytes: Uint8Array } | { readonly chunks: AsyncIterable<unknown> | Iterable<unknown> };

/** Check `data` and normalise it. Throws TypeError for an unsupported type. */
export function toSource(data: unknown, argName = 'data'): Source {
  if (typeof data === 'string') return { bytes: Buffer.from(data, 'utf8') };
  if (data instanceof Uint8Array) return { bytes: data };
  if (ArrayBuffer.isView(data)) return { bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  if (data instanceof ArrayBuffer) return { bytes: new Uint8Array(data) };
  if (typeof data === 'object' && data !== null) {
    if (typeof (data as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') {
      guardErrors(data);
      return { chunks: data as AsyncIterable<unknown> };
    }
    if (typeof (data as Iterable<unknown>)[Symbol.iterator] === 'function') return { chunks: data as Iterable<unknown> };
  }
  throw badArgument(argName, 'a string, Buffer, Uint8Array, ArrayBuffer, an (async) iterable of chunks, or a Readable stream', data);
}

/**
 * `toSource` with strings encoded as `encoding`: string data at once, and string chunks of an
 * iterable or stream as they are read (the default, UTF-8, is what `toSource` does already).
 */
export function toEncodedSource(data: unknown, encoding: BufferEncoding): Source {
  if (typeof data === 'string') return { bytes: Buffer.from(data, encoding) };
  const source = toSource(data);
  if ('bytes' in source || encoding === 'utf8' || encoding === 'utf-8') return source;
  return { chunks: encodeChunks(source.chunks, encoding) };
}

async function* encodeChunks(chunks: AsyncIterable<unknown> | Iterable<unknown>, encoding: BufferEncoding): AsyncGenerator<unknown> {
  for await (const chunk of chunks) yield typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk;
}

/**
 * A stream may emit 'error' before txnfs starts reading it (createReadStream of a missing file
 * fails on its first tick; a transaction reads its data later, at staging or commit). An 'error'
 * event with no listener ends the process, so one is attached the moment the stream is accepted.
 * Nothing is lost by it: a Readable keeps the error (`errored`) and its async iterator throws it
 * when txnfs reads, which the caller gets as ESTAGE; a stream never read (the transaction was
 * aborted) is the caller's, and its error needs no second report.
 */
function guardErrors(data: object): void {
  const emitter = data as { on?: unknown };
  if (typeof emitter.on !== 'function') return;
  (data as NodeJS.EventEmitter).on('error', ignoreHere);
}

function ignoreHere(): void {
  // Reported by the read that follows (see guardErrors), not here.
}

/** Convert one chunk of an iterable to bytes; throws TypeError for a chunk of the wrong type. */
export function chunkBytes(chunk: unknown): Uint8Array {
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  if (chunk instanceof Uint8Array) return chunk;
  if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw badArgument('chunk', 'a string or Uint8Array', chunk);
}
