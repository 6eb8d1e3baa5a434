/**
 * Mount a real filesystem of each kind txnfs is tested on (test/filesystems/), and take it all
 * down again: XFS and btrfs on loop images, tmpfs, overlayfs (lower/upper/work, as Docker does),
 * FAT through FUSE (fusefat on an mkfs.vfat image; this kernel has no vfat driver) and sshfs over
 * an sshd bound to 127.0.0.1 with a throwaway key and its own config (one directory mounted twice:
 * the "two hosts" case).
 *
 * `mountFs` never leaves anything behind when it fails: every step registers its undo first, and
 * a failure runs them all and throws the reason (shown in the skipped test's name). `cleanup()`
 * never throws: unmount (lazily when busy), loop devices are detached by `mount -o loop`'s
 * autoclear at unmount (and by `losetup -d` as a backstop), sshd is killed by its pid.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { cannotMount, umount } from './mount.js';

export type FsName = 'xfs' | 'btrfs' | 'tmpfs' | 'overlay' | 'fat' | 'sshfs';

export interface Mounted {
  readonly name: FsName;
  /** An empty directory on the mounted filesystem, for use as a root. */
  readonly root: string;
  /** sshfs only: the same directory as `root`, through a second mount (a second "host"). */
  readonly second?: string;
  /** A directory on the same filesystem outside `root` (for bind mounts into the root). */
  readonly spare: string;
  cleanup(): void;
}

function run(cmd: string, args: readonly string[]): string {
  try {
    return execFileSync(cmd, args, { stdio: 'pipe', encoding: 'utf8' });
  } catch (err) {
    const e = err as { stderr?: string; code?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')}: ${e.code === 'ENOENT' ? 'not installed' : String(e.stderr ?? e.message).trim().split('\n')[0]}`);
  }
}

function have(cmd: string): boolean {
  return ['/usr/sbin', '/usr/bin', '/sbin', '/bin'].some((d) => fs.existsSync(path.join(d, cmd)));
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`sshd exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`sshd did not listen on 127.0.0.1:${port} within ${ms} ms`);
}

/** Mount `name` under a fresh temp dir; throws the reason when this machine cannot. */
export async function mountFs(name: FsName): Promise<Mounted> {
  if (cannotMount !== undefined) throw new Error(cannotMount);
  const base = fs.mkdtempSync(path.join(os.tmpdir(), `txnfs-fs-${name}-`));
  const undo: (() => void)[] = [() => fs.rmSync(base, { recursive: true, force: true })];
  const cleanup = (): void => {
    for (const step of undo.splice(0).reverse()) {
      try {
        step();
      } catch {
        // best effort: the next steps still run
      }
    }
  };
  const mnt = path.join(base, 'mnt');
  fs.mkdirSync(mnt);
  const mountAt = (dir: string, args: readonly string[]): void => {
    run('mount', args);
    undo.push(() => umount(dir));
  };
  const loopImage = (mkfs: string, mkfsArgs: readonly string[], size: string): void => {
    if (!have(mkfs)) throw new Error(`${mkfs} not installed`);
    const img = path.join(base, 'fs.img');
    run('truncate', ['-s', size, img]);
    run(mkfs, [...mkfsArgs, img]);
    // autoclear: the loop device is detached when the filesystem is unmounted.
    mountAt(mnt, ['-o', 'loop', img, mnt]);
    undo.push(() => {
      // Backstop for a lazy unmount that left the loop device attached.
      for (const line of execFileSync('losetup', ['-j', img], { encoding: 'utf8' }).split('\n')) {
        const dev = line.split(':')[0];
        if (dev !== undefined && dev.startsWith('/dev/loop')) execFileSync('losetup', ['-d', dev], { stdio: 'pipe' });
      }
    });
  };
  try {
    let second: string | undefined;
    let top = mnt;
    switch (name) {
      case 'tmpfs':
        mountAt(mnt, ['-t', 'tmpfs', '-o', 'size=128m', 'tmpfs', mnt]);
        break;
      case 'xfs':
        loopImage('mkfs.xfs', ['-q', '-f'], '320M');
        break;
      case 'btrfs':
        loopImage('mkfs.btrfs', ['-q', '-f'], '256M');
        break;
      case 'overlay': {
        // As Docker does: an image layer (lower, read-only) holding an existing tree, a
        // container layer (upper) and overlay's work dir, on one filesystem (a tmpfs here).
        const layers = path.join(base, 'layers');
        fs.mkdirSync(layers);
        mountAt(layers, ['-t', 'tmpfs', '-o', 'size=128m', 'tmpfs', layers]);
        for (const d of ['lower', 'upper', 'work']) fs.mkdirSync(path.join(layers, d));
        fs.mkdirSync(path.join(layers, 'lower', 'image', 'sub'), { recursive: true });
        fs.writeFileSync(path.join(layers, 'lower', 'image', 'sub', 'baked.txt'), 'from the image');
        mountAt(mnt, ['-t', 'overlay', 'overlay', '-o', `lowerdir=${layers}/lower,upperdir=${layers}/upper,workdir=${layers}/work`, mnt]);
        break;
      }
      case 'fat': {
        if (!have('mkfs.vfat') || !have('fusefat')) throw new Error('mkfs.vfat (dosfstools) or fusefat not installed');
        const img = path.join(base, 'fat.img');
        run('mkfs.vfat', ['-C', img, String(128 * 1024)]);
        run('fusefat', ['-o', 'rw+', img, mnt]);
        undo.push(() => umount(mnt));
        break;
      }
      case 'sshfs': {
        if (!have('sshd') || !have('sshfs') || !have('ssh-keygen')) throw new Error('openssh-server, openssh-client or sshfs not installed');
        const keys = path.join(base, 'keys');
        fs.mkdirSync(keys, { mode: 0o700 });
        run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(keys, 'host')]);
        run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(keys, 'client')]);
        fs.copyFileSync(path.join(keys, 'client.pub'), path.join(keys, 'authorized_keys'));
        const exported = path.join(base, 'exported');
        fs.mkdirSync(exported);
        const port = await freePort();
        const config = path.join(keys, 'sshd_config');
        fs.writeFileSync(config, [
          `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${keys}/host`, `AuthorizedKeysFile ${keys}/authorized_keys`,
          `PidFile ${keys}/sshd.pid`, 'PermitRootLogin prohibit-password', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no',
          'UsePAM no', 'StrictModes no', 'Subsystem sftp internal-sftp', '',
        ].join('\n'));
        fs.mkdirSync('/run/sshd', { recursive: true });
        const sshd = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], { stdio: 'ignore' });
        undo.push(() => {
          if (sshd.exitCode === null) sshd.kill('SIGKILL');
        });
        await waitForPort(port, sshd, 5000);
        const sshfsAt = (dir: string): void => {
          fs.mkdirSync(dir, { recursive: true });
          run('sshfs', ['-p', String(port), '-o', `IdentityFile=${keys}/client,StrictHostKeyChecking=no,UserKnownHostsFile=/dev/null,LogLevel=ERROR,BatchMode=yes`, `root@127.0.0.1:${exported}`, dir]);
          undo.push(() => umount(dir));
        };
        sshfsAt(mnt);
        second = path.join(base, 'mnt2');
        sshfsAt(second);
        top = mnt;
        break;
      }
    }
    const root = path.join(top, 'root');
    const spare = path.join(top, 'spare');
    fs.mkdirSync(root);
    fs.mkdirSync(spare);
    return { name, root, spare, ...(second === undefined ? {} : { second: path.join(second, 'root') }), cleanup };
  } catch (err) {
    cleanup();
    throw err;
  }
}
