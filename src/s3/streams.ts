// The streams of createWriteStream() on an S3 store: commit() waits for each one while something
// still writes into it, and fails one that nobody will ever end (ESTAGE) instead of hanging.
import type { PassThrough } from 'node:stream';
import { codes, TxnError } from '../errors.js';

/**
 * Wait until a stream has ended, as long as something still writes into it. Idleness is judged
 * a turn of the event loop later (setImmediate): a source that ends unpipes first and calls end()
 * right after.
 */
export async function awaitStream(t: { stream: PassThrough; rel: string; busy: () => boolean }, txnId: string): Promise<void> {
  const s = t.stream;
  const over = (): boolean => s.writableEnded || s.destroyed;
  while (!over()) {
    if (!t.busy()) {
      await new Promise((r) => setImmediate(r));
      if (over() || t.busy()) continue;
      s.destroy(new TxnError(codes.ESTAGE, `txnfs/s3: the stream for '${t.rel}' was never ended: it is open, nothing is piped into it and no write is buffered. Call end() (or finish the pipeline) before commit().`, { path: t.rel, txnId }));
      return;
    }
    // Something writes: look again when it may have stopped.
    await new Promise<void>((resolve) => {
      const again = (): void => {
        clearTimeout(timer);
        for (const e of ['finish', 'unpipe', 'drain', 'close', 'error']) s.off(e, again);
        resolve();
      };
      const timer = setTimeout(again, 20);
      for (const e of ['finish', 'unpipe', 'drain', 'close', 'error']) s.on(e, again);
    });
  }
}
