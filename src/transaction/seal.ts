/**
 * seal.ts: the last step of staging one file (docs/protocol.md, "Staging"), shared by every way a
 * file is staged: `write` and `writeJson` (`writeStaged` in jobs.ts), streams (`createWriteStream`'s
 * final), `adopt` and `copy`/`rename`. Sealed, a staged file is durable (durability 'full': the
 * journal, or a one-file commit's rename, will promise these bytes) and its facts are recorded
 * (the inode the journal names, the mode and owner a replaced target's are compared with, the
 * size). One place makes the fsync, so the mutation `skip-fsync-staged` is checked at one place.
 */
import * as fs from '../io/fs.js';
import type { StagedFacts } from './staged.js';

/**
 * Seal staged file `n`, written through `handle`: fsync it (when `durable`) and fstat it at once,
 * then close it, closed whatever happened. Records it in `facts` only once closed: a write counts
 * as staged (its promise resolves) once its file is closed.
 */
export async function sealHandle(facts: StagedFacts, n: number, handle: fs.Handle, bytes: number, durable: boolean): Promise<void> {
  let info: fs.Info;
  try {
    // One descriptor, two requests: neither waits for the other.
    [, info] = await Promise.all([durable ? handle.sync() : undefined, handle.stat()]);
  } catch (err) {
    await handle.close().catch(() => undefined);
    throw err;
  }
  await handle.close();
  facts.set(n, { ino: info.ino, mode: info.mode, uid: info.uid, gid: info.gid, bytes });
}

/**
 * Seal staged file `n`, put in place by name (`adopt` renamed it there, `copy` cloned it): fsync it
 * (when `durable`; the program that wrote an adopted file may never have fsynced it, and a clone
 * shares blocks until either side is written), then record `info` (taken of it under that name),
 * with `mode` when one was set after.
 */
export async function sealPath(facts: StagedFacts, n: number, path: string, info: fs.Info, mode: number | undefined, durable: boolean): Promise<void> {
  if (durable) await fs.syncFile(path);
  facts.set(n, { ino: info.ino, mode: mode ?? info.mode, uid: info.uid, gid: info.gid, bytes: info.size });
}
