/**
 * seal.ts: the last step of staging one file (docs/protocol.md, "Staging"), shared by every way a
 * file is staged: `write` and `writeJson` (`writeStaged` in jobs.ts), streams (`createWriteStream`'s
 * final), `adopt` and `copy`/`rename`. Sealed, a staged file is durable (durability 'full': the
 * journal, or a one-file commit's rename, will promise these bytes) and its facts are recorded
 * (the inode the journal names, the mode and owner a replaced target's are compared with, the
 * size). One place makes the fsync, so the mutation `skip-fsync-staged` is checked at one place.
 *
 * A staging job (stager.ts) passes `known`: its facts are then recorded, and `known` called, as
 * soon as they are read, while the fsync still runs. commit() may plan from them (take the root
 * lock, look at the targets, write journal.tmp) meanwhile, and waits for the job to end before
 * any commit point (committer.ts, `sealed`): the fsync's wait overlaps the work that needs no
 * durable file, instead of coming before it. Without `known` (a stream, whose end commit() awaits
 * whole) the facts are recorded only once the file is closed.
 */
import * as fs from '../io/fs.js';
import type { StagedFacts } from './staged.js';

const noop = (): void => undefined;

/**
 * Seal staged file `n`, written through `handle`: fsync it (when `durable`) and fstat it at once,
 * then close it, closed whatever happened. Records it in `facts` once closed, or, with `known`,
 * as soon as the fstat is back (then calls `known`); resolves only once the fsync is done and the
 * file closed either way.
 */
export async function sealHandle(facts: StagedFacts, n: number, handle: fs.Handle, bytes: number, durable: boolean, known?: () => void): Promise<void> {
  // With `known`, the fstat is made before the fsync is issued: in the thread pool it would
  // otherwise queue behind this and the other files' fsyncs (four threads), and the facts commit()
  // plans with would come back only with them. Without it, both at once.
  const stat = handle.stat();
  if (known !== undefined) await stat.catch(noop);
  const synced = durable ? handle.sync() : Promise.resolve();
  let info: fs.Info;
  try {
    info = await stat;
    if (known !== undefined) {
      facts.set(n, { ino: info.ino, mode: info.mode, uid: info.uid, gid: info.gid, bytes });
      known();
    }
  } catch (err) {
    // The fsync may still run when the fstat failed: closed once it has settled.
    await closeAfter(handle, synced).catch(noop);
    throw err;
  }
  // Returned, not awaited: the fsync is the long wait of a staging job, and while it runs this
  // function's frame (and its caller's) would stay alive for each of `concurrency` jobs, data
  // that V8's young generation copies at every collection (docs/performance.md, item 30).
  if (known !== undefined) return closeAfter(handle, synced);
  await closeAfter(handle, synced);
  facts.set(n, { ino: info.ino, mode: info.mode, uid: info.uid, gid: info.gid, bytes });
}

/** Close `handle` once `synced` settles; reject with the fsync's error, else with the close's. */
function closeAfter(handle: fs.Handle, synced: Promise<void>): Promise<void> {
  return synced.then(
    () => handle.close(),
    (err: unknown) =>
      handle.close().then(
        () => Promise.reject(err),
        () => Promise.reject(err),
      ),
  );
}

/**
 * Seal staged file `n`, put in place by name (`adopt` renamed it there, `copy` cloned it): fsync it
 * (when `durable`; the program that wrote an adopted file may never have fsynced it, and a clone
 * shares blocks until either side is written), then record `info` (taken of it under that name),
 * with `mode` when one was set after. With `known`, recorded (and `known` called) before the fsync.
 */
export async function sealPath(facts: StagedFacts, n: number, path: string, info: fs.Info, mode: number | undefined, durable: boolean, known?: () => void): Promise<void> {
  const record = (): void => facts.set(n, { ino: info.ino, mode: mode ?? info.mode, uid: info.uid, gid: info.gid, bytes: info.size });
  if (known !== undefined) {
    record();
    known();
  }
  if (durable) await fs.syncFile(path);
  if (known === undefined) record();
}
