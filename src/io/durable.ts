/**
 * durable.ts: writing bytes so they are whole, and making them and their names durable.
 *
 * `writeAll` (and `writeChunks`, its writev form) loops until every byte is written: a short write
 * (full disk, signal, NFS) is never mistaken for success (atomically once shipped 4,096-byte
 * truncations this way). `syncDirs` fsyncs
 * each directory once, with bounded parallelism, because a rename or create is only durable once
 * its directory is (POSIX; ext4 and XFS in practice too).
 */
import * as fs from './fs.js';
import type { Handle } from './fs.js';
import { errnoOf } from '../errors.js';
import { eachLimit } from './limit.js';

/** Write all of `data` through `handle`, looping over short writes. */
export async function writeAll(handle: Handle, data: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < data.length) {
    const n = await handle.write(data, offset, data.length - offset);
    if (n <= 0) {
      // A write that makes no progress would loop forever; report it as the I/O error it is.
      const err = new Error(`EIO: write made no progress at byte ${offset} of ${data.length}`) as NodeJS.ErrnoException;
      err.code = 'EIO';
      throw err;
    }
    offset += n;
  }
}

/** Buffers per writev(2): IOV_MAX on Linux and macOS. */
const IOV_MAX = 1024;

/**
 * Write all of `chunks`, in order, through as few writev calls as the kernel takes, looping over
 * short writes (a partial chunk is resumed where it stopped).
 */
export async function writeChunks(handle: Handle, chunks: readonly Uint8Array[]): Promise<void> {
  let rest = chunks.filter((c) => c.length > 0);
  while (rest.length > 0) {
    const batch = rest.length > IOV_MAX ? rest.slice(0, IOV_MAX) : rest;
    const first = batch[0] as Uint8Array;
    let n = handle.writev !== undefined ? await handle.writev(batch) : await handle.write(first, 0, first.length);
    if (n <= 0) {
      const err = new Error(`EIO: write made no progress with ${rest.length} chunks left`) as NodeJS.ErrnoException;
      err.code = 'EIO';
      throw err;
    }
    let done = 0;
    while (done < rest.length && n >= (rest[done] as Uint8Array).length) n -= (rest[done++] as Uint8Array).length;
    rest = rest.slice(done);
    if (n > 0) rest[0] = (rest[0] as Uint8Array).subarray(n);
  }
}

/**
 * fsync a directory so the entries created, renamed or removed in it survive power loss.
 *
 * Errors ignored on purpose: EINVAL and ENOTSUP come from filesystems that cannot fsync a directory
 * at all (some FUSE and CIFS mounts); there is nothing stronger to do there, and SQLite's os_unix.c
 * ignores them the same way. On Windows a directory cannot be opened for fsync (EPERM/EISDIR) and
 * NTFS journals its metadata itself. Every other error (EIO above all) is thrown.
 */
export async function syncDir(path: string): Promise<void> {
  try {
    await fs.syncDir(path);
  } catch (err) {
    const code = errnoOf(err);
    if (code === 'EINVAL' || code === 'ENOTSUP') return;
    if (process.platform === 'win32' && (code === 'EPERM' || code === 'EISDIR' || code === 'EACCES')) return;
    throw err;
  }
}

/**
 * fsync each distinct directory once, at most `concurrency` at a time. With `ignoreMissing`, a
 * directory that no longer exists is skipped (its removal is made durable by its parent's fsync).
 */
export async function syncDirs(paths: Iterable<string>, concurrency: number, ignoreMissing = false): Promise<void> {
  const unique = [...new Set(paths)];
  await eachLimit(unique, concurrency, async (p) => {
    try {
      await syncDir(p);
    } catch (err) {
      if (!ignoreMissing || errnoOf(err) !== 'ENOENT') throw err;
    }
  });
}

/**
 * Create `path` exclusively, write all of `data`, fsync it when `sync`, close it. For the small
 * files of the protocol (journal, rollback marker, lock owner). The file is closed on every path.
 */
export async function writeSmallFile(path: string, data: string | Uint8Array, sync: boolean): Promise<void> {
  const file = await startSmallFile(path, data);
  try {
    if (sync) await file.sync();
  } catch (err) {
    await file.close().catch(() => undefined);
    throw err;
  }
  await file.close();
}

/** A small file written and still open (`startSmallFile`): its fsync and its close. */
export interface WrittenFile {
  sync(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The first half of `writeSmallFile`: create `path` exclusively and write all of `data` (closed
 * again if that fails). The caller fsyncs it (or not) and closes it. Split for a caller that writes
 * a file before it starts a round of fsyncs that the file's own fsync joins: the create and write
 * are small calls (inline, src/io/inline.ts) only while no fsync is in the thread pool, and queued
 * behind the round they would wait for all of it.
 */
export async function startSmallFile(path: string, data: string | Uint8Array): Promise<WrittenFile> {
  const handle = await fs.create(path, 0o666);
  try {
    await writeAll(handle, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
  } catch (err) {
    await handle.close().catch(() => undefined);
    throw err;
  }
  return { sync: () => handle.sync(), close: () => handle.close() };
}
