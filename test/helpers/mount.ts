import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** Why this machine cannot mount a tmpfs for a test, or undefined when it can. */
function probe(): string | undefined {
  if (process.platform !== 'linux') return `mounting needs Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'mounting needs root';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'txnfs-mount-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { stdio: 'pipe' });
    execFileSync('umount', [dir], { stdio: 'pipe' });
    return undefined;
  } catch (err) {
    return `mount -t tmpfs failed: ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}`;
  } finally {
    fs.rmdirSync(dir);
  }
}

/** undefined when tmpfs and bind mounts work here; otherwise the reason, shown in skipped tests' names. */
export const cannotMount = probe();

/** Suffix for a test name: empty when mounting works, otherwise the visible skip reason. */
export const mountNote = cannotMount === undefined ? '' : ` [SKIPPED: ${cannotMount}]`;

export function mount(args: readonly string[]): void {
  execFileSync('mount', args, { stdio: 'pipe' });
}

/** Unmount, lazily if busy; never throws (used in afterAll/finally). */
export function umount(dir: string): void {
  try {
    execFileSync('umount', [dir], { stdio: 'pipe' });
  } catch {
    try {
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
    } catch {
      // not mounted
    }
  }
}

export function isMounted(dir: string): boolean {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === dir);
}
