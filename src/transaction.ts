/**
 * transaction.ts: the Transaction. Staging operations, and the commit/abort state machine.
 *
 *   open ──commit()──▶ committing ──▶ committed
 *     │                    └──────────▶ failed      (rejected; staging removed or left to recover())
 *     └──abort()/signal──▶ aborting ──▶ aborted
 *
 * Staging happens outside any lock, in parallel (at most `concurrency` files open at once): each
 * write creates `files/<n>` in the staging dir, writes every byte, fsyncs it. A write's failure is
 * recorded on the transaction and surfaces at commit(); the promise write() returns is always
 * handled internally, so ignoring it never produces an unhandled rejection.
 *
 * commit() then, under the root lock (DESIGN.md steps 2-9):
 *   2. recoverLocked(): roll forward any dead committed transaction first (invariant 7);
 *   3. resolve targets (Resolver), fix up modes/owners of staged files;
 *   4. hard-link originals that will be replaced or deleted into backup/;
 *   5. fsync files/, backup/, the staging dir and the home;
 *   6. verify both locks are still ours, write the journal durably ◀── commit point;
 *   7. rollForward() (the function recovery uses) — on failure, a durable rollback marker, then
 *      rollBack();
 *   8. (inside rollForward) fsync every changed directory once;
 *   9. remove the journal and the staging dir, fsync the home, release the locks.
 */
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { nanoid } from 'nanoid';
import * as fs from './fs.js';
import { badArgument, codes, errnoOf, isTxnError, TxnError } from './errors.js';
import { mutated, step } from './faults.js';
import { syncDir, syncDirs, writeAll } from './durable.js';
import { chunkBytes, toSource, type Source, type WriteData } from './data.js';
import { rollBack, rollForward } from './apply.js';
import { writeJournal, type Journal, type JournalEntry } from './journal.js';
import { backupDir, backupFile, filesDir, journalPath, rootLockPath, stagedFile } from './layout.js';
import { Limiter, mapLimit } from './limit.js';
import { withRootLock, type HeldLock } from './lock.js';
import { checkOptionsObject, commonKeys, resolveCommon, resolveDir, type CommonOptions, type ResolvedCommon } from './options.js';
import { checkTarget, Resolver, type ResolvedTarget, type TargetPath } from './paths.js';
import { recoverLocked } from './recover.js';
import { createStaging, ensureHome, removeStaging, writeRollbackMarker, type Home, type Staging } from './staging.js';

/** Options of {@link begin}. */
export interface BeginOptions extends CommonOptions {
  /**
   * The root: every target is a path inside it. It must exist.
   * @default process.cwd()
   */
  readonly dir?: string | undefined;
}

/** Options of `tx.write()`. */
export interface WriteOptions {
  /**
   * Permission bits of the file (e.g. `0o600`). By default an existing target's mode is kept,
   * and a new file gets `0o666` minus the umask.
   */
  readonly mode?: number | undefined;
}

/** Options of `tx.writeJson()`. */
export interface WriteJsonOptions extends WriteOptions {
  /** Indentation, as for `JSON.stringify`. @default undefined (compact) */
  readonly spaces?: number | string | undefined;
  /** Replacer, as for `JSON.stringify`. */
  readonly replacer?: ((this: unknown, key: string, value: unknown) => unknown) | (number | string)[] | null | undefined;
}

/** The state of a transaction. */
export type TransactionState = 'open' | 'committing' | 'committed' | 'aborting' | 'aborted' | 'failed';

/** What a commit applied. */
export interface CommitResult {
  /** The transaction id (also the name of its staging dir, `.txn-<id>`). */
  readonly id: string;
  /** Entries in the journal: files written plus files removed. */
  readonly entries: number;
  /** Files written (created or replaced). */
  readonly written: number;
  /** Files removed (a `remove()` of a file that did not exist is not counted). */
  readonly removed: number;
  /** Bytes written. */
  readonly bytes: number;
  /** Wall time of commit(), in milliseconds. */
  readonly durationMs: number;
  /** Ids of dead transactions this commit had to finish first (invariant 7). */
  readonly recovered: readonly string[];
  /**
   * Problems after the data was durably applied (e.g. the staging dir could not be removed). The
   * commit stands; `recover()` cleans what is left.
   */
  readonly warnings: readonly string[];
}

type Op =
  | { readonly kind: 'write'; readonly target: TargetPath; readonly staged: number; readonly mode: number | undefined }
  | { readonly kind: 'delete'; readonly target: TargetPath };

interface StagedInfo {
  readonly ino: bigint;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly bytes: number;
}

interface Setup {
  readonly root: string;
  readonly home: Home;
  readonly staging: Staging;
}

interface TrackedStream {
  readonly stream: Writable;
  readonly done: Promise<void>;
  readonly rel: string;
}

interface Planned {
  readonly journal: Journal;
  /** Staged files whose mode or owner must change before the commit point. */
  readonly fixups: { readonly staged: number; readonly mode: number | undefined; readonly owner: { uid: number; gid: number } | undefined }[];
  readonly bytes: number;
  readonly written: number;
  readonly removed: number;
}

const noop = (): void => undefined;

function checkMode(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0o7777) {
    throw badArgument('mode', 'an integer from 0 to 0o7777', value);
  }
  return value;
}

function isAbortError(err: unknown, signal: AbortSignal | undefined): boolean {
  return (signal?.aborted === true && err === signal.reason) || (err instanceof Error && err.name === 'AbortError');
}

/**
 * A set of file writes and removals that land together or not at all. Create one with
 * {@link begin}.
 *
 * @example
 * ```ts
 * const tx = begin({ dir: 'out' });
 * tx.write('a.json', JSON.stringify(a));
 * tx.write('b.csv', rows);
 * tx.remove('stale.csv');
 * await tx.commit(); // all three changes, or none
 * ```
 */
export class Transaction implements AsyncDisposable {
  /** Unique id; the staging dir is `<dir>/.txnfs/.txn-<id>`. */
  readonly id: string;
  /** The root, as an absolute path. */
  readonly dir: string;
  readonly #o: ResolvedCommon;
  #state: TransactionState = 'open';
  #abortedBySignal = false;
  readonly #ops = new Map<string, Op>();
  #nextStaged = 0;
  readonly #tasks = new Set<Promise<void>>();
  readonly #streams: TrackedStream[] = [];
  readonly #staged = new Map<number, StagedInfo>();
  #failure: TxnError | undefined;
  #setup: Promise<Setup> | undefined;
  readonly #limiter: Limiter;

  /** @internal Use {@link begin}. */
  constructor(dir: string, options: ResolvedCommon) {
    this.id = nanoid(12).replace(/^[-_]/, 'x');
    this.dir = dir;
    this.#o = options;
    this.#limiter = new Limiter(options.concurrency);
    const signal = options.signal;
    if (signal !== undefined) {
      const onAbort = (): void => {
        if (this.#state !== 'open') return;
        this.#abortedBySignal = true;
        this.abort().catch(noop);
      };
      if (signal.aborted) this.#abortedBySignal = true;
      else signal.addEventListener('abort', onAbort, { once: true });
    }
  }

  /** Where the transaction is in its life. */
  get state(): TransactionState {
    return this.#state;
  }

  #assertOpen(what: string): void {
    if (this.#abortedBySignal) {
      throw new TxnError(codes.EABORTED, `Cannot ${what}: transaction ${this.id} was aborted by its AbortSignal.`, { txnId: this.id, cause: this.#o.signal?.reason });
    }
    if (this.#state !== 'open') {
      throw new TxnError(codes.ESTATE, `Cannot ${what}: transaction ${this.id} is ${this.#state}. A transaction is used once; start a new one with begin().`, { txnId: this.id });
    }
  }

  #setupOnce(): Promise<Setup> {
    if (this.#setup === undefined) {
      this.#setup = this.#createSetup();
      this.#setup.catch(noop); // surfaces through the writes and commit(), never unhandled
    }
    return this.#setup;
  }

  async #createSetup(): Promise<Setup> {
    let root: string;
    try {
      root = await fs.realpath(this.dir);
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') {
        throw new TxnError(codes.EFS, `The root directory '${this.dir}' does not exist. Create it first: txnfs creates nothing outside the root.`, { cause: err, path: this.dir, txnId: this.id });
      }
      throw err;
    }
    const info = await fs.stat(root);
    if (info.kind !== 'dir') {
      throw new TxnError(codes.ETARGET, `The root '${this.dir}' is not a directory.`, { path: this.dir, txnId: this.id });
    }
    const home = await ensureHome(root, this.#o.durable);
    const staging = await createStaging(home.home, this.id, this.#o.timing);
    return { root, home, staging };
  }

  /** Record the first failure, wrapped; later ones add nothing. */
  #fail(err: unknown, rel: string): TxnError {
    const wrapped = isTxnError(err)
      ? err
      : new TxnError(codes.ESTAGE, `Staging '${rel}' failed: ${(err as Error)?.message ?? String(err)}. Nothing was committed.`, { cause: err, path: rel, txnId: this.id });
    this.#failure ??= wrapped;
    return wrapped;
  }

  #track(task: Promise<void>, rel: string): Promise<void> {
    const tracked = task.then(noop, (err: unknown) => {
      throw this.#fail(err, rel);
    });
    tracked.catch(noop); // the caller may ignore the promise (the documented use): never unhandled
    this.#tasks.add(tracked);
    return tracked;
  }

  #addOp(op: Op): void {
    // delete + set moves the target to the end: entries apply in the order of their last operation.
    this.#ops.delete(op.target.rel);
    this.#ops.set(op.target.rel, op);
  }

  #stillStaging(): void {
    if (this.#state !== 'open' && this.#state !== 'committing') {
      throw new TxnError(codes.ESTATE, `Transaction ${this.id} was ${this.#state} while staging.`, { txnId: this.id });
    }
  }

  async #stage(n: number, source: Source, mode: number | undefined): Promise<void> {
    const setup = await this.#setupOnce();
    await this.#limiter.run(async () => {
      this.#stillStaging();
      const handle = await fs.create(stagedFile(setup.staging.dir, n), 0o666);
      let bytes = 0;
      try {
        if (mode !== undefined) await handle.chmod(mode);
        if ('bytes' in source) {
          await writeAll(handle, source.bytes);
          bytes = source.bytes.length;
        } else {
          for await (const chunk of source.chunks) {
            this.#stillStaging();
            const data = chunkBytes(chunk);
            await writeAll(handle, data);
            bytes += data.length;
          }
        }
        // fsync each staged file before the commit point: the journal will promise these bytes.
        if (this.#o.durable && !mutated('skip-fsync-staged')) await handle.sync();
        const info = await handle.stat();
        this.#staged.set(n, { ino: info.ino, mode: info.mode, uid: info.uid, gid: info.gid, bytes });
      } catch (err) {
        await handle.close().catch(noop);
        throw err;
      }
      await handle.close();
    });
  }

  /**
   * Stage `data` as the new content of `path` (relative to the root, or absolute inside it). The
   * data is written to the staging dir at once, in the background; the target changes only at
   * commit(). The returned promise may be ignored: a failure surfaces at commit().
   *
   * Throws at once (nothing staged) for a bad path (TxnError `EBADPATH`), data of a wrong type
   * (TypeError) or a transaction that is no longer open (`ESTATE`).
   *
   * @example
   * ```ts
   * tx.write('report.json', JSON.stringify(report));
   * tx.write('big.csv', fs.createReadStream('/tmp/big.csv'));
   * tx.write('secret.key', key, { mode: 0o600 });
   * ```
   */
  write(path: string, data: WriteData, options?: WriteOptions): Promise<void> {
    this.#assertOpen('write');
    const target = checkTarget(this.dir, path);
    const source = toSource(data);
    const o = checkOptionsObject(options, 'options', ['mode']);
    const mode = checkMode(o.mode);
    const staged = this.#nextStaged++;
    this.#addOp({ kind: 'write', target, staged, mode });
    return this.#track(this.#stage(staged, source, mode), target.rel);
  }

  /**
   * Stage `value` as JSON (with a trailing newline).
   * @example
   * ```ts
   * tx.writeJson('manifest.json', { files, at: Date.now() }, { spaces: 2 });
   * ```
   */
  writeJson(path: string, value: unknown, options?: WriteJsonOptions): Promise<void> {
    this.#assertOpen('writeJson');
    const o = checkOptionsObject(options, 'options', ['mode', 'spaces', 'replacer']);
    const text = JSON.stringify(value, o.replacer as never, o.spaces as never) as string | undefined;
    if (text === undefined) throw badArgument('value', 'JSON-serialisable', value);
    return this.write(path, `${text}\n`, o.mode === undefined ? undefined : { mode: o.mode as number });
  }

  /**
   * Stage a file removal. Removing a file that does not exist at commit is not an error (like
   * `rm -f`); removing a directory is (`ETARGET`).
   */
  remove(path: string): void {
    this.#assertOpen('remove');
    const target = checkTarget(this.dir, path);
    this.#addOp({ kind: 'delete', target });
    this.#setupOnce(); // take the owner lock early, as for writes; errors surface at commit()
  }

  /**
   * A Writable whose bytes become the new content of `path` at commit. commit() waits for the
   * stream to finish; a stream that errored, or was never ended, fails the commit. Streams are not
   * counted against `concurrency`: each holds one descriptor from its first write to its end.
   *
   * @example
   * ```ts
   * await pipeline(source, tx.createWriteStream('export.ndjson'));
   * await tx.commit();
   * ```
   */
  createWriteStream(path: string, options?: WriteOptions): Writable {
    this.#assertOpen('createWriteStream');
    const target = checkTarget(this.dir, path);
    const o = checkOptionsObject(options, 'options', ['mode']);
    const mode = checkMode(o.mode);
    const n = this.#nextStaged++;
    this.#addOp({ kind: 'write', target, staged: n, mode });
    let handle: fs.Handle | undefined;
    let bytes = 0;
    const open = async (): Promise<fs.Handle> => {
      if (handle !== undefined) return handle;
      const setup = await this.#setupOnce();
      this.#stillStaging();
      handle = await fs.create(stagedFile(setup.staging.dir, n), 0o666);
      if (mode !== undefined) await handle.chmod(mode);
      return handle;
    };
    const stream = new Writable({
      write: (chunk: Uint8Array, _encoding, callback) => {
        (async () => {
          const h = await open();
          this.#stillStaging();
          await writeAll(h, chunk);
          bytes += chunk.length;
        })().then(() => callback(), callback);
      },
      final: (callback) => {
        (async () => {
          const h = await open();
          if (this.#o.durable && !mutated('skip-fsync-staged')) await h.sync();
          const info = await h.stat();
          handle = undefined;
          await h.close();
          this.#staged.set(n, { ino: info.ino, mode: info.mode, uid: info.uid, gid: info.gid, bytes });
        })().then(() => callback(), callback);
      },
      destroy: (err, callback) => {
        const h = handle;
        handle = undefined;
        if (h === undefined) callback(err);
        else h.close().then(() => callback(err), () => callback(err));
      },
    });
    // finished() listens for 'error', so an errored stream the caller does not watch cannot crash
    // the process; the error surfaces at commit() instead.
    const done = finished(stream);
    done.catch(noop);
    this.#streams.push({ stream, done, rel: target.rel });
    return stream;
  }

  /** Wait for every staging task and stream; throw the first failure. */
  async #settleStaging(): Promise<void> {
    for (const t of this.#streams) {
      if (t.stream.errored === null && !t.stream.writableEnded) {
        t.stream.destroy();
        this.#fail(new TxnError(codes.ESTAGE, `The stream for '${t.rel}' was never ended. Call end() (or finish the pipeline) before commit().`, { path: t.rel, txnId: this.id }), t.rel);
      }
      await t.done.catch((err: unknown) => this.#fail(err, t.rel));
    }
    await Promise.allSettled(this.#tasks);
    if (this.#failure !== undefined) throw this.#failure;
  }

  /** Wait for in-flight staging without failing (for abort and cleanup). */
  async #quiesce(): Promise<void> {
    for (const t of this.#streams) if (!t.stream.writableFinished) t.stream.destroy();
    await Promise.allSettled([...this.#tasks, ...this.#streams.map((t) => t.done)]);
  }

  /** Remove the staging dir (if any) and release the owner lock. Before the commit point only. */
  async #discard(): Promise<void> {
    if (this.#setup === undefined) return;
    let setup: Setup;
    try {
      setup = await this.#setup;
    } catch {
      return; // nothing was created
    }
    try {
      await removeStaging(setup.staging.dir, this.#o.durable);
      if (this.#o.durable) await syncDir(setup.home.home);
    } finally {
      await setup.staging.ownerLock.release();
    }
  }

  async #plan(setup: Setup): Promise<Planned> {
    const resolver = new Resolver(setup.root, setup.home.dev);
    const ops = [...this.#ops.values()];
    const resolved = await mapLimit(ops, this.#o.concurrency, (op) => resolver.target(op.target.rel));
    // Two paths may name one file (a symlinked parent inside the root): the later operation wins.
    const byReal = new Map<string, { op: Op; r: ResolvedTarget }>();
    ops.forEach((op, i) => {
      const r = resolved[i] as ResolvedTarget;
      byReal.delete(r.rel);
      byReal.set(r.rel, { op, r });
    });
    const dirs: string[] = [];
    const dirSet = new Set<string>();
    for (const { r } of byReal.values()) {
      for (const d of r.missingDirs) {
        if (!dirSet.has(d)) {
          dirSet.add(d);
          dirs.push(d);
        }
      }
    }
    const isRoot = process.getuid?.() === 0;
    const entries: JournalEntry[] = [];
    const fixups: Planned['fixups'] = [];
    let bytes = 0;
    let written = 0;
    let removed = 0;
    for (const { op, r } of byReal.values()) {
      if (dirSet.has(r.rel)) {
        throw new TxnError(codes.ETARGET, `'${r.rel}' is both a file and a parent directory of another target in this transaction.`, { path: r.rel, txnId: this.id });
      }
      const existing = r.existing;
      if (op.kind === 'delete') {
        if (existing === undefined) continue; // rm -f: nothing to remove
        entries.push({ op: 'delete', target: r.rel, staged: -1, existed: true, ino: String(existing.ino), stagedIno: null, mode: null });
        removed++;
        continue;
      }
      const s = this.#staged.get(op.staged);
      if (s === undefined) throw new TxnError(codes.ESTAGE, `'${op.target.rel}' was not staged.`, { path: op.target.rel, txnId: this.id });
      // Keep an existing file's mode unless one was given; as root, keep its owner too (like
      // write-file-atomic's chown), so replacing /etc-style files does not hand them to root.
      const mode = op.mode ?? existing?.mode ?? s.mode;
      const owner = isRoot && existing !== undefined && (existing.uid !== s.uid || existing.gid !== s.gid) ? { uid: existing.uid, gid: existing.gid } : undefined;
      if (mode !== s.mode || owner !== undefined) fixups.push({ staged: op.staged, mode: mode !== s.mode ? mode : undefined, owner });
      entries.push({
        op: 'write',
        target: r.rel,
        staged: op.staged,
        existed: existing !== undefined,
        ino: existing === undefined ? null : String(existing.ino),
        stagedIno: String(s.ino),
        mode,
      });
      bytes += s.bytes;
      written++;
    }
    return { journal: { id: this.id, created: Date.now(), dirs, entries }, fixups, bytes, written, removed };
  }

  async #prepare(setup: Setup, plan: Planned): Promise<void> {
    const dir = setup.staging.dir;
    const durable = this.#o.durable;
    await mapLimit(plan.fixups, this.#o.concurrency, async (f) => {
      const p = stagedFile(dir, f.staged);
      if (f.mode !== undefined) await fs.chmod(p, f.mode);
      if (f.owner !== undefined) await fs.chown(p, f.owner.uid, f.owner.gid);
      // The new mode or owner is inode metadata the journal relies on: a 0600 secret must not come
      // back 0644 after a power loss.
      if (durable) await fs.syncFile(p);
    });
    const withBackup = plan.journal.entries.map((e, i) => ({ e, i })).filter(({ e }) => e.existed);
    if (withBackup.length > 0) {
      await fs.mkdir(backupDir(dir));
      await mapLimit(withBackup, this.#o.concurrency, ({ e, i }) => fs.link(`${setup.root}/${e.target}`, backupFile(dir, i)));
    }
    if (durable) {
      // Everything the journal will point to must be durable before the journal is: the staged
      // files' names (files/), the backup links (backup/), those two directories' names and the
      // staging dir's own name in the home.
      const dirs = mutated('skip-fsync-home') ? [dir] : [dir, setup.home.home];
      if (plan.written > 0) dirs.push(filesDir(dir));
      if (withBackup.length > 0 && !mutated('skip-fsync-backup-dir')) dirs.push(backupDir(dir));
      await syncDirs(dirs, this.#o.concurrency);
    }
  }

  async #apply(setup: Setup, journal: Journal, rootLock: HeldLock): Promise<void> {
    const ctx = { root: setup.root, staging: setup.staging.dir, journal, durable: this.#o.durable, concurrency: this.#o.concurrency };
    try {
      if (mutated('cleanup-before-apply')) await fs.unlink(journalPath(setup.staging.dir));
      await rollForward(ctx);
    } catch (applyError) {
      // Undo only while the root is still ours: if another process took it over, it is rolling
      // this journal forward, and undoing under it would mix the two.
      const ours = await rootLock.verify().then(() => true, () => false);
      let undone = false;
      if (ours) {
        try {
          await writeRollbackMarker(setup.staging.dir, this.#o.durable);
          await rollBack(ctx);
          await removeStaging(setup.staging.dir, this.#o.durable);
          if (this.#o.durable) await syncDir(setup.home.home);
          await setup.staging.ownerLock.release();
          undone = true;
        } catch {
          // Fall through: the marker (if written) and the journal stay for recover().
        }
      }
      if (undone) {
        throw new TxnError(
          codes.EAPPLY,
          `Applying transaction ${this.id} failed after its commit point (${(applyError as Error).message}); it was rolled back and no target changed.`,
          { cause: applyError, txnId: this.id },
        );
      }
      // Leave the journal (and any marker) for recovery, and let go of the owner lock so that
      // recover() — in this process or another — may finish the job.
      await setup.staging.ownerLock.release().catch(noop);
      throw new TxnError(
        codes.EINCOMPLETE,
        `Applying transaction ${this.id} failed after its commit point (${(applyError as Error).message}) and could not be undone here. Its durable records remain in '${setup.staging.dir}'; run recover('${this.dir}') once the cause is fixed.`,
        { cause: applyError, path: setup.staging.dir, txnId: this.id },
      );
    }
  }

  /**
   * Make every staged change visible, all together, or none of them.
   *
   * Resolves once the changes are applied and (with durability 'full') durable. Rejects with a
   * TxnError: `ESTAGE` (a write failed), `EBADPATH`/`ETARGET`/`ECROSSDEV` (a target cannot be
   * applied), `ELOCKED`, `ECOMPROMISED`, `ECORRUPT` (a corrupt journal blocks this root), `EFS`
   * (before the commit point): in all of these, nothing changed. `EAPPLY`: failed after the commit
   * point and rolled back, nothing changed. `EINCOMPLETE`: failed after the commit point and
   * could not roll back; run recover().
   */
  async commit(): Promise<CommitResult> {
    this.#assertOpen('commit');
    this.#state = 'committing';
    const started = performance.now();
    let committed = false;
    try {
      this.#o.signal?.throwIfAborted();
      await this.#settleStaging();
      if (this.#ops.size === 0) {
        await this.#discard();
        this.#state = 'committed';
        return { id: this.id, entries: 0, written: 0, removed: 0, bytes: 0, durationMs: performance.now() - started, recovered: [], warnings: [] };
      }
      const setup = await this.#setupOnce();
      step('staged');
      const home = setup.home.home;
      const result = await withRootLock(rootLockPath(home), this.#o.timing, this.#o.signal, async (rootLock) => {
        const rec = await recoverLocked({
          root: setup.root,
          home,
          durable: this.#o.durable,
          timing: this.#o.timing,
          concurrency: this.#o.concurrency,
          dryRun: false,
        });
        const blocked = rec.corrupt[0] ?? rec.failed[0];
        if (blocked !== undefined) {
          throw new TxnError(
            rec.corrupt.length > 0 ? codes.ECORRUPT : codes.EINCOMPLETE,
            `Cannot commit in '${this.dir}': a dead transaction there could not be recovered (${blocked.reason}). Committing over it could let old data overwrite new. Inspect '${blocked.path}' (txnfs status), fix or remove it, then retry.`,
            { path: blocked.path, txnId: this.id, cause: rec.failed[0]?.error },
          );
        }
        // A transaction past its commit point holds the root lock while it is alive, and we hold
        // it now: if its owner lock still looks alive, that owner died (after a reboot only the
        // lock's age tells, and the owner lock can be younger than the root lock) or stalled past
        // lockStale. Applying now would let its journal be rolled forward after us, older data
        // over newer (invariant 7). Refuse; retrying after lockStale succeeds.
        const pending = rec.skipped.find((t) => t.state === 'committed' || t.state === 'rolling-back');
        if (pending !== undefined) {
          throw new TxnError(
            codes.ELOCKED,
            `Cannot commit in '${this.dir}' yet: transaction ${pending.id} passed its commit point and its owner still looks alive (its lock was refreshed less than lockStale = ${this.#o.timing.stale} ms ago). It must be finished before anything else applies; retry after lockStale.`,
            { txnId: this.id },
          );
        }
        step('locked');
        this.#o.signal?.throwIfAborted();
        const plan = await this.#plan(setup);
        await this.#prepare(setup, plan);
        this.#o.signal?.throwIfAborted(); // the last moment an abort can still win
        await setup.staging.ownerLock.verify();
        await rootLock.verify();
        await writeJournal(setup.staging.dir, plan.journal, this.#o.durable);
        committed = true;
        step('committed');
        await this.#apply(setup, plan.journal, rootLock);
        step('cleanup');
        const warnings: string[] = [];
        try {
          await removeStaging(setup.staging.dir, this.#o.durable);
          if (this.#o.durable) await syncDir(home);
        } catch (err) {
          warnings.push(`The staging dir '${setup.staging.dir}' could not be removed (${(err as Error).message}); recover() will remove it.`);
        }
        await setup.staging.ownerLock.release().catch((err: Error) => warnings.push(`The owner lock could not be released (${err.message}).`));
        step('done');
        return {
          id: this.id,
          entries: plan.journal.entries.length,
          written: plan.written,
          removed: plan.removed,
          bytes: plan.bytes,
          recovered: [...rec.rolledForward, ...rec.rolledBack].map((t) => t.id),
          warnings,
        };
      });
      this.#state = 'committed';
      return { ...result, durationMs: performance.now() - started };
    } catch (err) {
      this.#state = 'failed';
      if (!committed) {
        await this.#quiesce();
        await this.#discard().catch(noop);
      }
      throw this.#wrapCommitError(err);
    }
  }

  #wrapCommitError(err: unknown): TxnError {
    if (isTxnError(err)) return err;
    if (isAbortError(err, this.#o.signal)) {
      return new TxnError(codes.EABORTED, `Transaction ${this.id} was aborted by its AbortSignal before its commit point; nothing changed.`, { cause: err, txnId: this.id });
    }
    return new TxnError(
      codes.EFS,
      `Commit of transaction ${this.id} failed before its commit point: ${(err as Error)?.message ?? String(err)}. Nothing changed.`,
      { cause: err, txnId: this.id },
    );
  }

  /**
   * Discard everything staged. Idempotent once aborted; an error after commit() has started
   * (`ESTATE`).
   */
  async abort(): Promise<void> {
    if (this.#state === 'aborted' || this.#state === 'aborting' || this.#state === 'failed') return;
    if (this.#state !== 'open') {
      throw new TxnError(codes.ESTATE, `Cannot abort: transaction ${this.id} is ${this.#state}.`, { txnId: this.id });
    }
    this.#state = 'aborting';
    try {
      await this.#quiesce();
      await this.#discard();
    } catch (err) {
      throw new TxnError(codes.EFS, `Aborting transaction ${this.id} could not remove its staging dir (${(err as Error).message}); nothing was committed, and recover() will remove it.`, { cause: err, txnId: this.id });
    } finally {
      this.#state = 'aborted';
    }
  }

  /** `await using tx = begin(...)`: aborts the transaction if it was not committed. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#state === 'open') await this.abort();
  }
}

const beginKeys = ['dir', ...commonKeys] as const;

/**
 * Start a transaction in `options.dir` (default: the current directory). Synchronous: no I/O
 * happens until the first write.
 *
 * @example
 * ```ts
 * const tx = begin({ dir: 'out' });
 * for (const part of parts) tx.write(`${part.name}.json`, JSON.stringify(part));
 * await tx.commit();
 * ```
 */
export function begin(options?: BeginOptions): Transaction {
  const o = checkOptionsObject(options, 'options', beginKeys);
  const dir = resolveDir(o.dir, 'dir');
  return new Transaction(dir, resolveCommon(o));
}

/**
 * Run `fn` with a new transaction; commit when it returns, abort when it throws. Resolves with
 * what `fn` returned. If `fn` committed or aborted the transaction itself, that stands.
 *
 * @example
 * ```ts
 * await transaction({ dir: 'out' }, async (tx) => {
 *   tx.write('a.json', a);
 *   tx.write('b.json', b);
 * });
 * ```
 */
export async function transaction<T>(options: BeginOptions | undefined, fn: (tx: Transaction) => T | Promise<T>): Promise<T>;
export async function transaction<T>(fn: (tx: Transaction) => T | Promise<T>): Promise<T>;
export async function transaction<T>(
  a: BeginOptions | undefined | ((tx: Transaction) => T | Promise<T>),
  b?: (tx: Transaction) => T | Promise<T>,
): Promise<T> {
  const fn = typeof a === 'function' ? a : b;
  if (typeof fn !== 'function') throw badArgument('fn', 'a function', fn);
  const tx = begin(typeof a === 'function' ? undefined : a);
  let value: T;
  try {
    value = await fn(tx);
  } catch (err) {
    if (tx.state === 'open') await tx.abort().catch(noop);
    throw err;
  }
  if (tx.state === 'open') await tx.commit();
  return value;
}
