/**
 * txnfs/s3: transactions on an S3-compatible bucket, committed by one conditional PUT of log entry
 * N+1. docs/s3.md lists what is built and what is not.
 * @packageDocumentation
 */
export { s3Store, type S3Store, type S3StoreOptions } from './store.js';
export { begin, transaction, S3Transaction, type S3BeginOptions, type S3CommitResult, type S3WriteJsonOptions, type S3WriteOptions } from './transaction.js';
export { recover, type S3RecoverOptions, type S3RecoverReport } from './recover.js';
export { openSnapshot, type S3Snapshot } from './snapshot.js';
