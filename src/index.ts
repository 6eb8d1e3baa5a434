/**
 * txnfs: make a set of file writes land together or not at all, and heal after a crash.
 *
 * Public exports only; each lives in the module named after its concern.
 */
export { begin, transaction } from './transaction/begin.js';
export { Transaction } from './transaction/transaction.js';
export type { TransactionApi } from './transaction/api.js';
export type { BeginOptions, CommitResult, RemoveOptions, TransactionState, WriteJsonOptions, WriteOptions } from './transaction/transaction.js';
export type { FileVersion, ReadResult } from './transaction/preconditions.js';
export { openRoot, Root } from './transaction/root.js';
export type { RootOptions } from './transaction/root.js';
export { recover, inspect } from './protocol/recover.js';
export type { FoundTxn, RecoveredTxn, RecoverOptions, RecoverProgress, RecoverReport, SupersededTarget, TxnState, UnresolvedTxn } from './protocol/recover.js';
export type { LockState } from './protocol/lock.js';
export { TxnError, codes, isTxnError } from './errors.js';
export type { TxnErrorCode, TxnErrorDetails } from './errors.js';
export { defaults } from './options/options.js';
export type { CommonOptions, Durability } from './options/options.js';
export type { WriteData } from './transaction/data.js';
export { writeFile, writeJson } from './single/file.js';
export type { WriteFileResult } from './single/file.js';
export { createWriteStream } from './single/stream.js';
export type { AtomicWriteStream } from './single/stream.js';
export { update } from './single/update.js';
export type { UpdateFn, UpdateResult } from './single/update.js';
export { fileDefaults } from './options/file-options.js';
export type { Owner, UpdateOptions, WriteFileOptions, WriteJsonFileOptions } from './options/file-options.js';
export { openSnapshot } from './generations/snapshot.js';
export type { Snapshot } from './generations/snapshot.js';
export type { Layout } from './generations/setup.js';
export type { GenerationsRecovery } from './generations/recover.js';
export type { PinRecord } from './generations/pins.js';
export { doctor } from './platform/doctor.js';
export type { DoctorAction, DoctorCheck, DoctorCheckId, DoctorOptions, DoctorReport } from './platform/doctor.js';
export type { FsLocality } from './platform/fstype.js';
