// Type tests of the public exports that test/index.test-d.ts does not cover: snapshots and the
// generations layout, doctor(), the parts of the recover() report, error details, and the
// single-file results. Checked by tsc in vitest's typecheck mode, like index.test-d.ts;
// test/typetests.test.ts fails when a public export or Transaction member has no type test.
import type { Readable } from 'node:stream';
import { describe, expectTypeOf, it } from 'vitest';
import {
  begin,
  doctor,
  openSnapshot,
  recover,
  TxnError,
  writeFile,
  type CommitResult,
  type DoctorAction,
  type DoctorCheck,
  type DoctorCheckId,
  type DoctorOptions,
  type DoctorReport,
  type FsLocality,
  type GenerationsRecovery,
  type Layout,
  type Owner,
  type PinRecord,
  type RecoveredTxn,
  type RecoverReport,
  type Snapshot,
  type SupersededTarget,
  type TxnErrorCode,
  type TxnErrorDetails,
  type TxnState,
  type UnresolvedTxn,
  type WriteFileOptions,
  type WriteFileResult,
} from '../src/index.js';

describe('the generations layout and snapshots', () => {
  it('begin() takes a Layout and keepGenerations; commit() reports the generation it published', () => {
    expectTypeOf<Layout>().toEqualTypeOf<'in-place' | 'generations'>();
    expectTypeOf(begin).toBeCallableWith({ dir: 'out', layout: 'generations', keepGenerations: 3 });
    expectTypeOf<CommitResult['generation']>().toEqualTypeOf<number | undefined>();
    // @ts-expect-error: a layout is one of two names
    begin({ layout: 'gens' });
    // @ts-expect-error: keepGenerations is a count
    begin({ layout: 'generations', keepGenerations: '3' });
  });

  it('openSnapshot(dir) resolves to a Snapshot that `await using` releases', async () => {
    expectTypeOf(openSnapshot).parameters.toEqualTypeOf<[dir: string]>();
    expectTypeOf(openSnapshot).returns.toEqualTypeOf<Promise<Snapshot>>();
    expectTypeOf<Snapshot>().toExtend<AsyncDisposable>();
    await using snap = await openSnapshot('out');
    expectTypeOf(snap.generation).toEqualTypeOf<number>();
    expectTypeOf(snap.dir).toEqualTypeOf<string>();
    expectTypeOf(snap.list).returns.toEqualTypeOf<Promise<string[]>>();
    expectTypeOf(snap.readFile).toEqualTypeOf<(rel: string) => Promise<Buffer>>();
    expectTypeOf(snap.createReadStream).returns.toEqualTypeOf<Readable>();
    expectTypeOf(snap.release).returns.toEqualTypeOf<Promise<void>>();
    // @ts-expect-error: a snapshot is read-only
    snap.generation = 2;
  });

  it('recover() reports a generations root: the pointer, what was collected and kept, the pins', () => {
    expectTypeOf<RecoverReport['generations']>().toEqualTypeOf<GenerationsRecovery | undefined>();
    expectTypeOf<GenerationsRecovery['current']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<GenerationsRecovery['repaired']>().toEqualTypeOf<boolean>();
    expectTypeOf<GenerationsRecovery['collected']>().toEqualTypeOf<number[]>();
    expectTypeOf<GenerationsRecovery['kept']>().toEqualTypeOf<number[]>();
    expectTypeOf<GenerationsRecovery['pins']>().toEqualTypeOf<PinRecord[]>();
    expectTypeOf<PinRecord>().toEqualTypeOf<{
      readonly id: string;
      readonly generation: number;
      readonly live: boolean;
      readonly pid: number | undefined;
      readonly ageMs: number;
    }>();
  });
});

describe('doctor()', () => {
  it('takes an optional dir and DoctorOptions and resolves to a DoctorReport', async () => {
    expectTypeOf(doctor).parameters.toEqualTypeOf<[dir?: string, options?: DoctorOptions]>();
    expectTypeOf(doctor).returns.toEqualTypeOf<Promise<DoctorReport>>();
    expectTypeOf(doctor).toBeCallableWith();
    expectTypeOf(doctor).toBeCallableWith('out', { lockStale: 20_000 });
    expectTypeOf<DoctorOptions>().toEqualTypeOf<Readonly<Partial<DoctorOptions>>>();
    // @ts-expect-error: a misspelt option
    void doctor('out', { stale: 1 });
    const report = await doctor('out');
    expectTypeOf(report.verdict).toEqualTypeOf<'holds' | 'conditional' | 'broken'>();
    expectTypeOf(report.locality).toEqualTypeOf<FsLocality>();
    expectTypeOf(report.mountPoint).toEqualTypeOf<string | undefined>();
    expectTypeOf(report.checks).toEqualTypeOf<readonly DoctorCheck[]>();
  });

  it('names every check, its answer and the filesystem kinds with closed unions (a switch is exhaustive)', () => {
    expectTypeOf<FsLocality>().toEqualTypeOf<'local' | 'fuse' | 'network' | 'unknown'>();
    expectTypeOf<DoctorAction>().toEqualTypeOf<'none' | 'fallback' | 'refusal' | 'warning' | 'unusable'>();
    expectTypeOf<DoctorCheck['id']>().toEqualTypeOf<DoctorCheckId>();
    expectTypeOf<DoctorCheck['action']>().toEqualTypeOf<DoctorAction>();
    expectTypeOf<'dir-fsync'>().toExtend<DoctorCheckId>();
    expectTypeOf<'hard-links'>().toExtend<DoctorCheckId>();
    // @ts-expect-error: not a check
    const bad: DoctorCheckId = 'fsync';
    void bad;
  });
});

describe('the parts of the recover() report', () => {
  it('types each list', () => {
    expectTypeOf<RecoverReport['rolledForward']>().toEqualTypeOf<RecoveredTxn[]>();
    expectTypeOf<RecoverReport['discarded']>().toEqualTypeOf<RecoveredTxn[]>();
    expectTypeOf<RecoverReport['corrupt']>().toEqualTypeOf<UnresolvedTxn[]>();
    expectTypeOf<RecoverReport['failed']>().toEqualTypeOf<UnresolvedTxn[]>();
    expectTypeOf<RecoverReport['superseded']>().toEqualTypeOf<SupersededTarget[]>();
    expectTypeOf<RecoverReport['skipped'][number]['state']>().toEqualTypeOf<TxnState>();
    expectTypeOf<RecoveredTxn['reason']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<UnresolvedTxn['error']>().toEqualTypeOf<TxnError | undefined>();
    expectTypeOf<SupersededTarget>().toEqualTypeOf<{ readonly id: string; readonly target: string }>();
    expectTypeOf<TxnState>().toEqualTypeOf<'staging' | 'committed' | 'rolling-back' | 'corrupt' | 'foreign' | 'orphan-lock'>();
    expectTypeOf(recover).returns.resolves.toHaveProperty('dryRun').toEqualTypeOf<boolean>();
  });
});

describe('errors and single-file results', () => {
  it('TxnError is constructed from a code, a message and optional TxnErrorDetails', () => {
    expectTypeOf(TxnError).constructorParameters.toEqualTypeOf<[code: TxnErrorCode, message: string, details?: TxnErrorDetails]>();
    expectTypeOf<TxnErrorDetails>().toEqualTypeOf<{ readonly cause?: unknown; readonly path?: string; readonly txnId?: string }>();
    expectTypeOf<TxnError['txnId']>().toEqualTypeOf<string | undefined>();
  });

  it('writeFile() resolves with what it wrote, and chown takes an Owner', () => {
    expectTypeOf<WriteFileResult>().toEqualTypeOf<{ readonly path: string; readonly bytes: number; readonly created: boolean; readonly dryRun: boolean }>();
    expectTypeOf<Owner>().toEqualTypeOf<{ readonly uid: number; readonly gid: number }>();
    expectTypeOf<WriteFileOptions['chown']>().toEqualTypeOf<boolean | Owner | undefined>();
    expectTypeOf(writeFile).toBeCallableWith('a.txt', 'x', { chown: { uid: 1000, gid: 1000 }, encoding: 'latin1' });
    // The encoding alone, as fs.writeFile and write-file-atomic accept it.
    expectTypeOf(writeFile).toBeCallableWith('a.txt', 'x', 'utf8');
    // @ts-expect-error: mode is a number, not an octal string
    void writeFile('a.txt', 'x', { mode: '644' });
  });
});

describe('directory operations (issue 18)', () => {
  it('tx.mkdir, tx.removeTree and tx.emptyDir take a path and stage synchronously', () => {
    const tx = begin();
    expectTypeOf(tx.mkdir).parameters.toEqualTypeOf<[path: string]>();
    expectTypeOf(tx.mkdir).returns.toEqualTypeOf<void>();
    expectTypeOf(tx.removeTree).parameters.toEqualTypeOf<[path: string]>();
    expectTypeOf(tx.removeTree).returns.toEqualTypeOf<void>();
    expectTypeOf(tx.emptyDir).parameters.toEqualTypeOf<[path: string]>();
    expectTypeOf(tx.emptyDir).returns.toEqualTypeOf<void>();
    // @ts-expect-error: no options (a recursive mkdir is the only kind)
    tx.mkdir('a', { recursive: true });
    // @ts-expect-error: a path, not a URL
    tx.removeTree(new URL('file:///tmp/x'));
  });
});
