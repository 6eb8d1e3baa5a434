// What a failure before the commit point of a transaction on an S3 store is reported as: the
// caller's own mistakes as they are, an abort through the AbortSignal as EABORTED, a failed upload
// as ESTAGE naming its path, any other failed request as EFS. Every one says that nothing is
// visible, which holds before the log PUT (docs/s3.md, "The protocol").
import { codes, isTxnError, TxnError } from '../errors.js';

/** Who failed, for the messages. */
export interface Failing {
  readonly txnId: string;
  /** `s3://bucket/prefix`. */
  readonly where: string;
  /** Whether the transaction's AbortSignal has fired. */
  readonly aborted: boolean;
}

/** A failed upload of `path`. */
export function stageError(err: unknown, path: string, f: Failing): Error {
  if (isTxnError(err)) return err;
  if (f.aborted) return requestError(err, f);
  return new TxnError(codes.ESTAGE, `txnfs/s3: staging '${path}' failed: ${(err as Error)?.message ?? String(err)}. Nothing is visible; fix the cause (see err.cause) and retry.`, { cause: err, path, txnId: f.txnId });
}

/** A failed request (`what`, on `path`), before the commit point. */
export function requestError(err: unknown, f: Failing, what = 'An S3 request failed', path = f.where): Error {
  // A TypeError is a caller's mistake (a bad chunk type), reported as it is.
  if (isTxnError(err) || err instanceof TypeError) return err as Error;
  if (f.aborted) {
    return new TxnError(codes.EABORTED, `txnfs/s3: transaction ${f.txnId} was aborted through its AbortSignal; nothing is visible. Start a new transaction to try again.`, { cause: err, path: f.where, txnId: f.txnId });
  }
  return new TxnError(codes.EFS, `txnfs/s3: ${what} (${(err as Error)?.message ?? String(err)}) before the commit point; nothing is visible. Fix the cause (see err.cause) and retry.`, { cause: err, path, txnId: f.txnId });
}
