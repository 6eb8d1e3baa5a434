// Type tests of the public API (src/index.ts). Checked by tsc, not run: `npm test` runs them in
// vitest's typecheck mode (vitest.config.ts, `typecheck.include`), and `npm run typecheck` checks
// them too. A failed expectTypeOf or an unused @ts-expect-error fails the run.
import type { Writable } from 'node:stream';
import { describe, expectTypeOf, it } from 'vitest';
import {
  begin,
  codes,
  createWriteStream,
  defaults,
  fileDefaults,
  inspect,
  isTxnError,
  openRoot,
  recover,
  Root,
  transaction,
  Transaction,
  TxnError,
  update,
  writeFile,
  writeJson,
  type AtomicWriteStream,
  type BeginOptions,
  type CommitResult,
  type CommonOptions,
  type Durability,
  type FileVersion,
  type FoundTxn,
  type LockState,
  type ReadResult,
  type RecoverOptions,
  type RecoverProgress,
  type RecoverReport,
  type RemoveOptions,
  type RootOptions,
  type TransactionApi,
  type TransactionState,
  type TxnErrorCode,
  type UpdateFn,
  type UpdateOptions,
  type UpdateResult,
  type WriteData,
  type WriteFileOptions,
  type WriteFileResult,
  type WriteJsonFileOptions,
  type WriteJsonOptions,
  type WriteOptions,
} from '../src/index.js';

describe('begin() and Transaction', () => {
  it('begin() takes optional BeginOptions and returns a Transaction synchronously', () => {
    expectTypeOf(begin).parameters.toEqualTypeOf<[options?: BeginOptions]>();
    expectTypeOf(begin).returns.toEqualTypeOf<Transaction>();
    expectTypeOf(begin).toBeCallableWith();
    expectTypeOf(begin).toBeCallableWith({ dir: 'out', durability: 'none', lockStale: 5000, concurrency: 4, signal: AbortSignal.timeout(1000) });
  });

  it('rejects a misspelt option or a wrong value at compile time', () => {
    // @ts-expect-error: a typo must not be silently ignored (also a TypeError at run time)
    begin({ durabilty: 'none' });
    // @ts-expect-error: durability is 'full' | 'none'
    begin({ durability: 'fast' });
    // @ts-expect-error: lockStale is a number of milliseconds
    begin({ lockStale: '10s' });
  });

  it('stages with the documented return types', () => {
    const tx = begin();
    expectTypeOf(tx.write).returns.toEqualTypeOf<Promise<void>>();
    expectTypeOf(tx.writeJson).returns.toEqualTypeOf<Promise<void>>();
    expectTypeOf(tx.adopt).returns.toEqualTypeOf<Promise<void>>();
    expectTypeOf(tx.remove).returns.toEqualTypeOf<void>();
    expectTypeOf(tx.copy).returns.toEqualTypeOf<Promise<void>>();
    expectTypeOf(tx.rename).returns.toEqualTypeOf<Promise<void>>();
    expectTypeOf(tx.move).returns.toEqualTypeOf<Promise<void>>();
    expectTypeOf(tx.copy).toBeCallableWith('a.txt', 'b.txt', { mode: 0o644, exclusive: true });
    // @ts-expect-error: copy takes no data options (the bytes are the source's)
    void tx.copy('a.txt', 'b.txt', { encoding: 'latin1' });
    expectTypeOf(tx.expect).returns.toEqualTypeOf<void>();
    expectTypeOf(tx.createWriteStream).returns.toEqualTypeOf<Writable>();
    expectTypeOf(tx.tempDir).returns.toEqualTypeOf<Promise<string>>();
    expectTypeOf(tx.read).returns.toEqualTypeOf<Promise<ReadResult>>();
    expectTypeOf(tx.version).returns.toEqualTypeOf<Promise<FileVersion>>();
    expectTypeOf(tx.commit).returns.toEqualTypeOf<Promise<CommitResult>>();
    expectTypeOf(tx.abort).returns.toEqualTypeOf<Promise<void>>();
    expectTypeOf(tx.state).toEqualTypeOf<TransactionState>();
    expectTypeOf(tx.id).toEqualTypeOf<string>();
    expectTypeOf(tx.dir).toEqualTypeOf<string>();
  });

  it('accepts every kind of WriteData, and nothing else', async () => {
    const tx = begin();
    expectTypeOf(tx.write).parameter(1).toEqualTypeOf<WriteData>();
    tx.write('a', 'text');
    tx.write('a', Buffer.from('bytes'));
    tx.write('a', new Uint8Array(2));
    tx.write('a', new ArrayBuffer(2));
    tx.write('a', new DataView(new ArrayBuffer(2)));
    tx.write('a', ['chunk', Buffer.from('chunk')]);
    tx.write('a', (async function* () {
      yield 'chunk';
    })());
    tx.write('a', (await import('node:fs')).createReadStream('/dev/null'));
    // @ts-expect-error: a number is not data (also a TypeError at run time)
    tx.write('a', 42);
    // @ts-expect-error: neither is a plain object: use writeJson()
    tx.write('a', { a: 1 });
  });

  it('takes preconditions as FileVersion values', async () => {
    const tx = begin();
    const { data, version } = await tx.read('counter.json');
    expectTypeOf(data).toEqualTypeOf<Buffer | undefined>();
    tx.write('counter.json', 'x', { ifUnchanged: version });
    tx.write('new.json', 'x', { exclusive: true });
    tx.remove('old.json', { ifUnchanged: await tx.version('old.json') });
    tx.expect('input.json', { exists: false });
    // @ts-expect-error: a version is an object, not a hash string
    tx.write('counter.json', 'x', { ifUnchanged: 'abc' });
    // @ts-expect-error: remove() has no exclusive option
    tx.remove('old.json', { exclusive: true });
  });

  it('works with `await using` (aborts unless committed)', async () => {
    expectTypeOf<Transaction>().toExtend<AsyncDisposable>();
    // The calls and their TSDoc live on TransactionApi; a Transaction is one, and is no more than
    // it plus its identity and state.
    expectTypeOf<Transaction>().toExtend<TransactionApi>();
    expectTypeOf<TransactionApi>().toExtend<AsyncDisposable>();
    expectTypeOf<keyof TransactionApi>().toEqualTypeOf<Exclude<keyof Transaction, 'id' | 'dir' | 'state'>>();
    {
      await using tx = begin({ dir: 'out' });
      tx.writeJson('manifest.json', { ok: true }, { spaces: 2 });
      expectTypeOf(await tx.commit()).toEqualTypeOf<CommitResult>();
    }
  });
});

describe('transaction()', () => {
  it('has two overloads: (options, fn) and (fn); resolves with what fn returns', async () => {
    expectTypeOf(transaction).toBeCallableWith({ dir: 'out' }, (tx: Transaction) => tx.id);
    expectTypeOf(transaction).toBeCallableWith(undefined, (tx: Transaction) => tx.id);
    expectTypeOf(transaction).toBeCallableWith((tx: Transaction) => tx.id);
    expectTypeOf(await transaction({ dir: 'out' }, async (tx) => tx.write('a', 'b'))).toEqualTypeOf<void>();
    expectTypeOf(await transaction(() => 42)).toEqualTypeOf<number>();
    expectTypeOf(await transaction({}, async () => ({ files: ['a'] }))).toEqualTypeOf<{ files: string[] }>();
    await transaction((tx) => {
      expectTypeOf(tx).toEqualTypeOf<Transaction>();
    });
  });

  it('requires a function', () => {
    // @ts-expect-error: the callback is required
    void transaction({ dir: 'out' });
    // @ts-expect-error: options come first
    void transaction((tx: Transaction) => tx.id, { dir: 'out' });
  });
});

describe('openRoot() and Root', () => {
  it('opens with optional RootOptions and begins Transactions with the same options', () => {
    expectTypeOf(openRoot).toBeCallableWith();
    expectTypeOf(openRoot).toBeCallableWith(new URL('file:///tmp/state'), { durability: 'none', warnUnsafeFs: false });
    expectTypeOf(openRoot).returns.toEqualTypeOf<Promise<Root>>();
    expectTypeOf<Root['begin']>().parameters.toEqualTypeOf<[options?: RootOptions]>();
    expectTypeOf<Root['begin']>().returns.toEqualTypeOf<Transaction>();
    expectTypeOf<Root['recovered']>().toEqualTypeOf<RecoverReport>();
    expectTypeOf<Root['close']>().returns.toEqualTypeOf<Promise<void>>();
    expectTypeOf<RootOptions>().toExtend<CommonOptions>();
  });

  it('refuses what begin() takes but a root fixes: its directory and layout', async () => {
    const root = await openRoot('state');
    // @ts-expect-error: the handle's directory is fixed
    void root.begin({ dir: 'other' });
    // @ts-expect-error: the handle commits in place
    void root.begin({ layout: 'generations' });
    const n = await root.transaction(async (tx) => (await tx.commit()).entries);
    expectTypeOf(n).toEqualTypeOf<number>();
    {
      await using scoped = await openRoot('state');
      expectTypeOf(scoped.closed).toEqualTypeOf<boolean>();
    }
  });
});

describe('recover() and inspect()', () => {
  it('return their reports', () => {
    expectTypeOf(recover).toBeCallableWith();
    expectTypeOf(recover).toBeCallableWith('out', { dryRun: true, onProgress: (p: RecoverProgress) => void p.done });
    expectTypeOf(recover).returns.toEqualTypeOf<Promise<RecoverReport>>();
    expectTypeOf(inspect).returns.toEqualTypeOf<Promise<FoundTxn[]>>();
    expectTypeOf<RecoverReport['rolledForward'][number]>().toHaveProperty('changed').toEqualTypeOf<number>();
    expectTypeOf<RecoverReport['orphans']>().toEqualTypeOf<string[]>();
    expectTypeOf<RecoverReport['orphanBytes']>().toEqualTypeOf<number>();
    expectTypeOf<RecoverProgress['direction']>().toEqualTypeOf<'forward' | 'back'>();
    expectTypeOf<FoundTxn['owner']>().toEqualTypeOf<LockState>();
    expectTypeOf<LockState>().toEqualTypeOf<'held' | 'dead' | 'absent'>();
  });
});

describe('single-file writes', () => {
  it('take a path or URL and return their results', () => {
    expectTypeOf(writeFile).toBeCallableWith(new URL('file:///tmp/a'), 'x');
    expectTypeOf(writeFile).toBeCallableWith('a', 'x', 'latin1');
    expectTypeOf(writeJson).toBeCallableWith('a.json', { v: 1 }, 'utf8');
    expectTypeOf(createWriteStream).toBeCallableWith('a', 'utf8');
    expectTypeOf(writeFile).returns.toEqualTypeOf<Promise<WriteFileResult>>();
    expectTypeOf(writeJson).returns.toEqualTypeOf<Promise<WriteFileResult>>();
    expectTypeOf(createWriteStream).returns.toEqualTypeOf<AtomicWriteStream>();
    expectTypeOf<AtomicWriteStream>().toExtend<Writable>();
    expectTypeOf<AtomicWriteStream['result']>().toEqualTypeOf<WriteFileResult | undefined>();
    expectTypeOf(update).returns.toEqualTypeOf<Promise<UpdateResult>>();
    expectTypeOf<UpdateResult>().toExtend<WriteFileResult>();
  });

  it('update() passes the current bytes (or undefined) and takes data back, or undefined to keep the file', () => {
    expectTypeOf<Parameters<UpdateFn>>().toEqualTypeOf<[current: Buffer | undefined]>();
    expectTypeOf(update).toBeCallableWith('n.txt', (old: Buffer | undefined) => String(Number(old?.toString() ?? 0) + 1));
    expectTypeOf(update).toBeCallableWith('n.txt', async () => undefined);
    // @ts-expect-error: update() has no exclusive option
    void update('n.txt', () => 'x', { exclusive: true });
  });
});

describe('options types', () => {
  // STYLE.md: every field of a public options type is optional and readonly.
  it('have every field optional and readonly', () => {
    expectTypeOf<CommonOptions>().toEqualTypeOf<Readonly<Partial<CommonOptions>>>();
    expectTypeOf<BeginOptions>().toEqualTypeOf<Readonly<Partial<BeginOptions>>>();
    expectTypeOf<RecoverOptions>().toEqualTypeOf<Readonly<Partial<RecoverOptions>>>();
    expectTypeOf<WriteOptions>().toEqualTypeOf<Readonly<Partial<WriteOptions>>>();
    expectTypeOf<WriteJsonOptions>().toEqualTypeOf<Readonly<Partial<WriteJsonOptions>>>();
    expectTypeOf<RemoveOptions>().toEqualTypeOf<Readonly<Partial<RemoveOptions>>>();
    expectTypeOf<WriteFileOptions>().toEqualTypeOf<Readonly<Partial<WriteFileOptions>>>();
    expectTypeOf<WriteJsonFileOptions>().toEqualTypeOf<Readonly<Partial<WriteJsonFileOptions>>>();
    expectTypeOf<UpdateOptions>().toEqualTypeOf<Readonly<Partial<UpdateOptions>>>();
  });

  it('share the durability and lock options between transactions, recovery and update()', () => {
    expectTypeOf<BeginOptions>().toExtend<CommonOptions>();
    expectTypeOf<RecoverOptions>().toExtend<CommonOptions>();
    expectTypeOf<Durability>().toEqualTypeOf<'full' | 'none'>();
    expectTypeOf<WriteFileOptions['durability']>().toEqualTypeOf<Durability | undefined>();
    expectTypeOf<UpdateOptions['lockStale']>().toEqualTypeOf<number | undefined>();
  });

  it('have their defaults exported, frozen', () => {
    expectTypeOf<keyof typeof defaults>().toEqualTypeOf<'durability' | 'lockStale' | 'lockUpdate' | 'lockTimeout' | 'concurrency' | 'warnUnsafeFs'>();
    expectTypeOf(defaults.durability).toEqualTypeOf<Durability>();
    expectTypeOf(defaults.lockStale).toExtend<number>();
    expectTypeOf(defaults.lockUpdate).toEqualTypeOf<number | undefined>();
    expectTypeOf(fileDefaults.durability).toEqualTypeOf<Durability>();
    // @ts-expect-error: frozen
    defaults.lockStale = 1;
  });
});

describe('errors', () => {
  it('have a closed union of stable codes', () => {
    expectTypeOf<TxnErrorCode>().toEqualTypeOf<
      | 'EBADPATH'
      | 'ETARGET'
      | 'ECROSSDEV'
      | 'ESTATE'
      | 'ELOCKED'
      | 'ECOMPROMISED'
      | 'ECORRUPT'
      | 'EPRECONDITION'
      | 'ESTAGE'
      | 'EFS'
      | 'EAPPLY'
      | 'EINCOMPLETE'
      | 'EABORTED'
      | 'ENOTDURABLE'
    >();
    expectTypeOf(codes.ELOCKED).toEqualTypeOf<'ELOCKED'>();
    expectTypeOf<TxnError['code']>().toEqualTypeOf<TxnErrorCode>();
    expectTypeOf<TxnError['path']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<TxnError>().toExtend<Error>();
  });

  it('isTxnError() narrows unknown to TxnError, so a switch on code is exhaustive', () => {
    const err: unknown = new Error('x');
    if (isTxnError(err)) {
      expectTypeOf(err).toEqualTypeOf<TxnError>();
      // @ts-expect-error: not a code
      void (err.code === 'ENOENT');
    }
  });
});
