/**
 * methods.ts: the ways of writing N files that the benchmark compares.
 *
 * Each method gets a fresh, empty directory and the same list of files, and resolves once every
 * file is written the way that method promises:
 *
 *   txnfs            one transaction of all N files, default durability ('full'): all or nothing,
 *                    survives power loss once resolved
 *   write-file-atomic / atomically, one after another (seq) and all at once (par): each file atomic
 *                    on its own, fsynced, but no directory fsync (a power loss can lose the rename)
 *                    and no all-or-nothing across files
 *   fs.writeFile     all at once: no durability, no atomicity (the speed of doing nothing safe)
 *   durable floor    all at once: open, write, fsync, close each file, then one fsync of the
 *                    directory: the least work any method that is durable must do (still not
 *                    atomic: a crash leaves partial files)
 *   staged floor     the part of txnfs's work no staging protocol can skip: 16 files at a time
 *                    open, write, fsync, fstat (a journal must name the staged inode), close, in a
 *                    staging directory; fsync it; rename each file into place; fsync both
 *                    directories. No journal, no locks, no checks: not atomic either. It shows
 *                    how much of txnfs's distance to the durable floor the protocol itself costs.
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import * as atomically from 'atomically';
import { begin } from './txnfs.js';

export interface FileSpec {
  readonly name: string;
  readonly data: Uint8Array;
}

export type MethodId = 'txnfs' | 'wfa-seq' | 'wfa-par' | 'atomically-seq' | 'atomically-par' | 'fs-writeFile' | 'durable-floor' | 'staged-floor';

export interface Method {
  readonly id: MethodId;
  readonly label: string;
  readonly run: (dir: string, files: readonly FileSpec[]) => Promise<void>;
}

async function durableFloor(dir: string, files: readonly FileSpec[]): Promise<void> {
  await Promise.all(
    files.map(async (f) => {
      const fh = await fsp.open(path.join(dir, f.name), 'wx');
      try {
        let off = 0;
        while (off < f.data.length) off += (await fh.write(f.data, off, f.data.length - off, null)).bytesWritten;
        await fh.sync();
      } finally {
        await fh.close();
      }
    }),
  );
  const d = await fsp.open(dir, fs.constants.O_RDONLY);
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

/** Directory fsync, as the floors do it. */
async function syncDir(dir: string): Promise<void> {
  const d = await fsp.open(dir, fs.constants.O_RDONLY);
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

/** `fn` over 0..n-1, at most `width` at a time. */
async function bounded(n: number, width: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(width, n) }, async () => {
    while (next < n) await fn(next++);
  }));
}

async function stagedFloor(dir: string, files: readonly FileSpec[]): Promise<void> {
  const stage = path.join(dir, '.stage');
  await fsp.mkdir(stage);
  await bounded(files.length, 16, async (i) => {
    const f = files[i] as FileSpec;
    const fh = await fsp.open(path.join(stage, String(i)), 'wx');
    try {
      let off = 0;
      while (off < f.data.length) off += (await fh.write(f.data, off, f.data.length - off, null)).bytesWritten;
      await fh.sync();
      await fh.stat({ bigint: true });
    } finally {
      await fh.close();
    }
  });
  await syncDir(stage);
  await bounded(files.length, 16, (i) => fsp.rename(path.join(stage, String(i)), path.join(dir, (files[i] as FileSpec).name)));
  await Promise.all([syncDir(dir), syncDir(stage)]);
  await fsp.rmdir(stage);
}

export const methods: readonly Method[] = [
  {
    id: 'txnfs',
    label: 'txnfs (one transaction)',
    run: async (dir, files) => {
      const tx = begin({ dir });
      for (const f of files) void tx.write(f.name, f.data);
      await tx.commit();
    },
  },
  {
    id: 'wfa-seq',
    label: 'write-file-atomic, one after another',
    run: async (dir, files) => {
      for (const f of files) await writeFileAtomic(path.join(dir, f.name), f.data);
    },
  },
  {
    id: 'wfa-par',
    label: 'write-file-atomic, all in parallel',
    run: async (dir, files) => {
      await Promise.all(files.map((f) => writeFileAtomic(path.join(dir, f.name), f.data)));
    },
  },
  {
    id: 'atomically-seq',
    label: 'atomically, one after another',
    run: async (dir, files) => {
      for (const f of files) await atomically.writeFile(path.join(dir, f.name), f.data);
    },
  },
  {
    id: 'atomically-par',
    label: 'atomically, all in parallel',
    run: async (dir, files) => {
      await Promise.all(files.map((f) => atomically.writeFile(path.join(dir, f.name), f.data)));
    },
  },
  {
    id: 'fs-writeFile',
    label: 'fs.writeFile in parallel (no durability)',
    run: async (dir, files) => {
      await Promise.all(files.map((f) => fsp.writeFile(path.join(dir, f.name), f.data)));
    },
  },
  {
    id: 'durable-floor',
    label: 'durable floor: parallel open/write/fsync/close + dir fsync',
    run: durableFloor,
  },
  {
    id: 'staged-floor',
    label: 'staged floor: stage 16 at a time (+fstat), rename each, dir fsyncs; no journal',
    run: stagedFloor,
  },
];

/** N files of 4 KiB named f0..f(N-1). The bytes are shared: the data costs no memory per file. */
export function uniformFiles(n: number, size = 4096): FileSpec[] {
  const data = Buffer.alloc(size, 0x61);
  return Array.from({ length: n }, (_, i) => ({ name: `f${i}`, data }));
}

/** `n` files with sizes log-uniform in [1 KiB, 1 MiB], from a fixed seed. */
export function mixedFiles(n: number, random: () => number): FileSpec[] {
  const max = 1024 * 1024;
  const pool = Buffer.alloc(max, 0x62);
  return Array.from({ length: n }, (_, i) => {
    const size = Math.round(1024 * Math.pow(1024, random()));
    return { name: `m${i}`, data: pool.subarray(0, Math.min(max, size)) };
  });
}
