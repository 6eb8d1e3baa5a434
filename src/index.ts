/**
 * txnfs: make a set of file writes land together or not at all, and heal after a crash.
 *
 * Public exports only; each lives in the module named after its concern.
 */
export { begin, transaction, Transaction } from './transaction.js';
export type { BeginOptions, CommitResult, RemoveOptions, TransactionState, WriteJsonOptions, WriteOptions } from './transaction.js';
export type { FileVersion, ReadResult } from './preconditions.js';
export { recover, inspect } from './recover.js';
export type { FoundTxn, RecoveredTxn, RecoverOptions, RecoverProgress, RecoverReport, SupersededTarget, TxnState, UnresolvedTxn } from './recover.js';
export type { LockState } from './lock.js';
export { TxnError, codes, isTxnError } from './errors.js';
export type { TxnErrorCode, TxnErrorDetails } from './errors.js';
export { defaults } from './options.js';
export type { CommonOptions, Durability } from './options.js';
export type { WriteData } from './data.js';
export { writeFile, writeJson } from './file.js';
export type { WriteFileResult } from './file.js';
export { createWriteStream } from './stream.js';
export type { AtomicWriteStream } from './stream.js';
export { update } from './update.js';
export type { UpdateFn, UpdateResult } from './update.js';
export { fileDefaults } from './file-options.js';
export type { Owner, UpdateOptions, WriteFileOptions, WriteJsonFileOptions } from './file-options.js';
export { openSnapshot } from './generations/snapshot.js';
export type { Snapshot } from './generations/snapshot.js';
export type { Layout } from './generations/setup.js';
export type { GenerationsRecovery } from './generations/recover.js';
export type { PinRecord } from './generations/pins.js';
export { doctor } from './doctor.js';
export type { DoctorAction, DoctorCheck, DoctorCheckId, DoctorOptions, DoctorReport } from './doctor.js';
export type { FsLocality } from './fstype.js';
