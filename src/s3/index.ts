/**
 * txnfs/s3: transactions on an S3-compatible bucket, committed by one conditional PUT. Foundation
 * only; docs/s3.md lists what is built and what is not.
 * @packageDocumentation
 */
export { s3Store, type S3Store, type S3StoreOptions } from './store.js';
export { begin, S3Transaction, type S3BeginOptions } from './transaction.js';
export { openSnapshot, type S3Snapshot } from './snapshot.js';
