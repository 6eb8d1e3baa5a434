/**
 * jobs.ts: what one staging job does (docs/protocol.md, "Staging"), run by a worker of the stager
 * (stager.ts): write bytes or chunks into `files/<n>` (write, writeJson), move a file in (adopt),
 * or clone a file of the root (copy, rename). Each ends in seal.ts, the one place a staged file is
 * fsynced and recorded; streams (stream.ts) end there too.
 */
import * as fs from '../io/fs.js';
import { codes, errnoOf, TxnError } from '../errors.js';
import { writeAll } from '../io/durable.js';
import { stagedFile } from '../protocol/layout.js';
import { setMode } from '../platform/no-modes.js';
import { adoptable, crossDev } from './adopt.js';
import { look } from './conditions.js';
import { cloneInto } from './copy.js';
import { chunkBytes } from './data.js';
import type { TargetPath } from './paths.js';
import { identityVersion } from './preconditions.js';
import { sealHandle, sealPath } from './seal.js';
import { createLone, loneJob, type Lone } from './lone.js';
import { rootFailure } from './setup.js';
import { placeOnce, setupOnce, stillStaging, type TxState } from './state.js';
import type { Setup } from '../protocol/commit.js';

/**
 * What a staging job stages: bytes to write (the caller's own Uint8Array, not wrapped), chunks to
 * write, or an existing file to move in (adopt()).
 */
export type JobSource = Uint8Array | { readonly chunks: AsyncIterable<unknown> | Iterable<unknown> } | { readonly adopt: string } | CloneJob;
/** tx.copy()/tx.rename() (copy.ts): clone `from` of the root; `rename` also conditions the commit on it. */
export interface CloneJob {
  readonly clone: TargetPath;
  readonly rename: boolean;
}

const noop = (): void => undefined;

/**
 * Stage job `n` for target `rel` (run by a worker of the stager); `known` once its facts are
 * recorded, while its fsync may still run (seal.ts). A plain function, not an async one: a
 * suspended frame here would live through the job's fsync, for each job in flight
 * (docs/performance.md, item 30).
 */
export function stageJob(tx: TxState, n: number, source: JobSource, rel: string, known: () => void): Promise<void> {
  if ('adopt' in source) return adoptStaged(tx, n, source.adopt, rel, tx.modes.get(n), known);
  if ('clone' in source) return cloneStaged(tx, n, source, rel, tx.modes.get(n), known);
  return writeStaged(tx, n, source, tx.modes.get(n), known);
}

/** write(), writeJson(): create `files/<n>`, write every byte, seal it. */
async function writeStaged(tx: TxState, n: number, source: Exclude<JobSource, { readonly adopt: string } | CloneJob>, mode: number | undefined, known: () => void): Promise<void> {
  // The first file of a transaction that may stay its only one goes into the home (lone.ts).
  const lone = loneJob(tx, n);
  const loneHandle = lone === undefined ? undefined : await startLone(tx, lone);
  const place = await (loneHandle === undefined ? setupOnce(tx) : placeOnce(tx));
  stillStaging(tx);
  const handle = loneHandle ?? (await fs.create(stagedFile((place as Setup).staging.dir, n), 0o666));
  let bytes = 0;
  try {
    if (mode !== undefined) await setMode(place.root, () => handle.chmod(mode));
    if (source instanceof Uint8Array) {
      await writeAll(handle, source);
      bytes = source.length;
    } else {
      for await (const chunk of source.chunks) {
        stillStaging(tx);
        const data = chunkBytes(chunk);
        await writeAll(handle, data);
        bytes += data.length;
      }
    }
  } catch (err) {
    await handle.close().catch(noop);
    throw err;
  }
  // Returned, not awaited, for the same reason: this frame ends here, before the fsync's wait.
  return sealHandle(tx.staged, n, handle, bytes, tx.o.durable, known);
}

/**
 * Create the lone file. Failing there is failing to start the transaction, reported as the setup
 * reports it (EFS naming the root: read-only, permission, full), except running out of
 * descriptors, which is about opening this file (ESTAGE, as a file in files/ would report it).
 */
async function startLone(tx: TxState, lone: Lone): Promise<fs.Handle | undefined> {
  try {
    return await createLone(tx, lone);
  } catch (err) {
    const code = errnoOf(err);
    if (code === 'EMFILE' || code === 'ENFILE') throw err;
    throw rootFailure(tx, err);
  }
}

/** adopt(): rename `file` (checked by adopt.ts) to `files/<n>`, check it again there, seal it. */
async function adoptStaged(tx: TxState, n: number, file: string, rel: string, mode: number | undefined, known: () => void): Promise<void> {
  const setup = await setupOnce(tx);
  stillStaging(tx);
  const source = await adoptable(setup, file, rel, tx.id);
  const staged = stagedFile(setup.staging.dir, n);
  try {
    await fs.rename(source, staged, 0);
  } catch (err) {
    // Same st_dev is not enough on Linux: a bind mount of the same filesystem still gives EXDEV.
    if (errnoOf(err) === 'EXDEV') throw crossDev(file, rel, tx.id, err);
    throw err;
  }
  // Checked again under the moved name, which only this transaction can reach: between the
  // check and the rename the source could have been swapped for a symlink, or gained a link.
  const info = await fs.lstat(staged);
  if (info.kind !== 'file' || info.nlink !== 1) {
    throw new TxnError(codes.ESTAGE, `'${file}' changed while it was being adopted for '${rel}' (it is no longer a regular file with one link). Make sure nothing else writes it, then retry.`, { path: file, txnId: tx.id });
  }
  if (mode !== undefined) await setMode(setup.root, () => fs.chmod(staged, mode));
  await sealPath(tx.staged, n, staged, info, mode, tx.o.durable, known);
}

/** copy(), rename(): clone the source (copy.ts) to `files/<n>`, seal it; a rename conditions the commit on it. */
async function cloneStaged(tx: TxState, n: number, job: CloneJob, rel: string, mode: number | undefined, known: () => void): Promise<void> {
  // Resolved as commit resolves targets (real parents inside the root, same device).
  const { abs } = await look(tx, job.clone);
  const setup = await setupOnce(tx);
  stillStaging(tx);
  const staged = stagedFile(setup.staging.dir, n);
  const cloned = await cloneInto(abs, staged, rel, job.clone.rel);
  if (mode !== undefined) await fs.chmod(staged, mode);
  // Pushed before this job settles, so before commit() reads the conditions.
  if (job.rename) tx.conditions.push({ target: job.clone, expected: identityVersion(cloned.source), via: 'ifUnchanged' });
  await sealPath(tx.staged, n, staged, cloned.staged, mode, tx.o.durable, known);
}
