// Staging one file's bytes to its immutable key, in bounded memory. Bytes already in memory (a
// string, a Buffer) go up as one PUT, or as parts sliced without copying when they exceed a part.
// Chunks (an iterable, a Readable) are gathered up to one part: a source that ends within one part
// is one PUT; a longer one becomes a multipart upload whose parts are sent one at a time, so a
// 10 GiB Readable holds at most one part plus one chunk in memory, and the source is read only as
// fast as parts are accepted (backpressure through the async iterator). The digest is computed on
// the way: it goes into the log entry, so a content version never needs the data read back.
import { createHash } from 'node:crypto';
import { chunkBytes, type Source } from '../transaction/data.js';
import type { Staged } from './log.js';
import type { S3Seam } from './seam.js';

/** S3's floor for every part but the last (RGW enforces it too). */
export const MIN_PART_SIZE = 5 * 1024 * 1024;
export const DEFAULT_PART_SIZE = 8 * 1024 * 1024;
/** S3's ceiling on parts per upload: with 8 MiB parts, files up to 78 GiB. */
const MAX_PARTS = 10_000;

export async function stage(seam: S3Seam, key: string, source: Source, partSize: number, signal?: AbortSignal): Promise<Staged> {
  const hash = createHash('sha256');
  let size = 0;
  let upload: { id: string; parts: { PartNumber: number; ETag: string }[] } | undefined;
  const sendPart = async (body: Uint8Array): Promise<void> => {
    if (upload === undefined) upload = { id: await seam.createMultipart(key, signal), parts: [] };
    const PartNumber = upload.parts.length + 1;
    if (PartNumber > MAX_PARTS) throw new RangeError(`txnfs/s3: more than ${MAX_PARTS} parts of ${partSize} bytes; raise partSize`);
    upload.parts.push({ PartNumber, ETag: await seam.uploadPart(key, upload.id, PartNumber, body, signal) });
  };
  try {
    if ('bytes' in source) {
      const b = source.bytes;
      hash.update(b);
      size = b.byteLength;
      if (size <= partSize) await seam.put(key, b, { signal });
      else for (let at = 0; at < size; at += partSize) await sendPart(b.subarray(at, Math.min(size, at + partSize)));
    } else {
      let held: Uint8Array[] = [];
      let heldBytes = 0;
      for await (const chunk of source.chunks) {
        signal?.throwIfAborted();
        const b = chunkBytes(chunk);
        hash.update(b);
        size += b.byteLength;
        held.push(b);
        heldBytes += b.byteLength;
        while (heldBytes >= partSize) {
          const all = Buffer.concat(held, heldBytes);
          await sendPart(all.subarray(0, partSize));
          const rest = all.subarray(partSize);
          held = rest.byteLength === 0 ? [] : [rest];
          heldBytes = rest.byteLength;
        }
      }
      const tail = Buffer.concat(held, heldBytes);
      if (upload === undefined) await seam.put(key, tail, { signal });
      else if (heldBytes > 0) await sendPart(tail);
    }
    if (upload !== undefined) await seam.completeMultipart(key, upload.id, upload.parts, signal);
  } catch (err) {
    // An unfinished upload holds storage until aborted; recover() also aborts it after the grace.
    if (upload !== undefined) await seam.abortMultipart(key, upload.id).catch(() => undefined);
    throw err;
  }
  return { key, size, sha256: hash.digest('hex') };
}
