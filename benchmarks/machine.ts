/**
 * machine.ts: what the numbers were measured on, and what the disk can physically do.
 *
 * The benchmark must run on the real disk: tmpfs makes fsync free and every durable method look
 * like fs.writeFile. `filesystemOf` finds the mount that holds the benchmark directory (longest
 * mount-point prefix in /proc/mounts) and its statfs type; `run.ts` refuses tmpfs and ramfs.
 *
 * `probeFsync` measures the latency of one fsync of a fresh 4 KiB file, one at a time, and the
 * per-file cost of open/write/fsync/close at several concurrencies: the physical bound that every
 * durable method's time per file sits on.
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { quantile } from './stats.js';

export interface FsInfo {
  readonly mountPoint: string;
  readonly device: string;
  readonly type: string;
  readonly options: string;
  /** statfs f_type, hex. */
  readonly magic: string;
}

export interface FsyncProbe {
  /** One fsync at a time, ms: p10, p50, p90, p99, max. */
  readonly latencyMs: { readonly p10: number; readonly p50: number; readonly p90: number; readonly p99: number; readonly max: number };
  readonly samples: number;
  /** ms per file of open/write 4 KiB/fsync/close with this many files in flight. */
  readonly perFileMsAtConcurrency: Readonly<Record<string, number>>;
}

export interface MachineInfo {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly os: string;
  readonly node: string;
  readonly uvThreadpoolSize: string;
  readonly fs: FsInfo;
  readonly commit: string;
  readonly date: string;
}

const MAGIC_NAMES: Record<number, string> = {
  0xef53: 'ext2/3/4',
  0x01021994: 'tmpfs',
  0x858458f6: 'ramfs',
  0x58465342: 'xfs',
  0x9123683e: 'btrfs',
  0x794c7630: 'overlayfs',
  0x6969: 'nfs',
};

/** The mount holding `dir`, from /proc/mounts (Linux), plus its statfs magic. */
export function filesystemOf(dir: string): FsInfo {
  const magic = fs.statfsSync(dir).type;
  const real = fs.realpathSync(dir);
  let best: FsInfo = { mountPoint: '?', device: '?', type: MAGIC_NAMES[magic] ?? 'unknown', options: '', magic: `0x${magic.toString(16)}` };
  let bestLength = -1;
  try {
    for (const line of fs.readFileSync('/proc/mounts', 'utf8').split('\n')) {
      const [device, mountPoint, type, options] = line.split(' ');
      if (device === undefined || mountPoint === undefined || type === undefined) continue;
      const inside = real === mountPoint || real.startsWith(mountPoint === '/' ? '/' : `${mountPoint}/`);
      if (inside && mountPoint.length > bestLength) {
        bestLength = mountPoint.length;
        best = { mountPoint, device, type, options: options ?? '', magic: best.magic };
      }
    }
  } catch {
    // No /proc/mounts (not Linux): the statfs magic alone says whether it is tmpfs.
  }
  return best;
}

/** True for filesystems that live in memory, where fsync costs nothing. */
export function isMemoryFs(info: FsInfo): boolean {
  return info.magic === '0x1021994' || info.magic === '0x858458f6' || info.type === 'tmpfs' || info.type === 'ramfs';
}

export function machineInfo(benchDir: string, repo: string): MachineInfo {
  const cpus = os.cpus();
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: repo, encoding: 'utf8' }).trim();
    if (dirty !== '') commit += '+dirty';
  } catch {
    // Not a git checkout: the commit stays unknown.
  }
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    uvThreadpoolSize: process.env.UV_THREADPOOL_SIZE ?? '4 (default)',
    fs: filesystemOf(benchDir),
    commit,
    date: new Date().toISOString(),
  };
}

async function writeSyncClose(file: string, data: Uint8Array): Promise<void> {
  const fh = await fsp.open(file, 'wx');
  try {
    await fh.write(data, 0, data.length, null);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Measure fsync on the disk that holds `dir` (a scratch directory, removed afterwards). */
export async function probeFsync(dir: string, samples: number): Promise<FsyncProbe> {
  const scratch = await fsp.mkdtemp(path.join(dir, 'fsync-probe-'));
  const data = Buffer.alloc(4096, 0x70);
  try {
    const lat: number[] = [];
    for (let i = 0; i < samples; i++) {
      const fh = await fsp.open(path.join(scratch, `s${i}`), 'wx');
      await fh.write(data, 0, data.length, null);
      const t = performance.now();
      await fh.sync();
      lat.push(performance.now() - t);
      await fh.close();
    }
    const perFile: Record<string, number> = {};
    for (const conc of [1, 4, 16, 64, 256]) {
      const n = Math.max(samples, conc * 4);
      let next = 0;
      const t = performance.now();
      await Promise.all(
        Array.from({ length: conc }, async () => {
          while (next < n) await writeSyncClose(path.join(scratch, `c${conc}-${next++}`), data);
        }),
      );
      perFile[String(conc)] = (performance.now() - t) / n;
    }
    return {
      latencyMs: { p10: quantile(lat, 0.1), p50: quantile(lat, 0.5), p90: quantile(lat, 0.9), p99: quantile(lat, 0.99), max: quantile(lat, 1) },
      samples,
      perFileMsAtConcurrency: perFile,
    };
  } finally {
    await fsp.rm(scratch, { recursive: true, force: true });
  }
}
