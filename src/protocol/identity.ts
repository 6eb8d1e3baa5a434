/**
 * identity.ts: who owns a lock, and whether that process is certainly gone.
 * docs/protocol.md: "Locks and liveness".
 *
 * proper-lockfile judges a lock only by its mtime, so a crashed owner blocks everyone for the
 * whole stale time. At boot after a crash that is needless: on the same host we can ask the kernel.
 * A lock records {host, pid, start}; `host` is the boot id plus the pid namespace on Linux (two
 * containers with different pid namespaces never judge each other's pids), `start` is the process
 * start time from /proc/<pid>/stat, which guards against pid reuse. A process is "certainly gone"
 * only when the host matches and the pid is absent, a zombie, or has a different start time.
 * Everything else (other hosts, unreadable /proc) falls back to the lock's staleness.
 *
 * Cost: two small /proc reads per check, none on other platforms beyond one kill(pid, 0).
 */
import * as os from 'node:os';
import { readProcFile, readProcLink } from '../io/fs.js';

export interface ProcessIdentity {
  readonly host: string;
  readonly pid: number;
  readonly start: string;
}

function hostKey(): string {
  if (process.platform === 'linux') {
    const boot = readProcFile('/proc/sys/kernel/random/boot_id')?.trim();
    const ns = readProcLink('/proc/self/ns/pid');
    if (boot !== undefined && ns !== undefined) return `linux:${boot}:${ns}`;
  }
  return `host:${os.hostname()}`;
}

/** Parse /proc/<pid>/stat: returns [state, starttime], or undefined. */
function procStat(pid: number | 'self'): [string, string] | undefined {
  const text = readProcFile(`/proc/${pid}/stat`);
  if (text === undefined) return undefined;
  // The command name (field 2) may contain spaces and parentheses; fields resume after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = rest[0];
  const start = rest[19]; // field 22 overall
  if (state === undefined || start === undefined) return undefined;
  return [state, start];
}

let self: ProcessIdentity | undefined;

/** This process's identity (computed once; pid is re-read so a fork-like respawn is not confused). */
export function selfIdentity(): ProcessIdentity {
  if (self === undefined || self.pid !== process.pid) {
    self = { host: hostKey(), pid: process.pid, start: procStat('self')?.[1] ?? '' };
  }
  return self;
}

/**
 * True only when the process named by `id` certainly no longer runs. False means "alive, or
 * cannot tell": the caller then relies on the lock's staleness.
 */
export function isProcessGone(id: ProcessIdentity): boolean {
  const me = selfIdentity();
  if (id.host !== me.host || !Number.isInteger(id.pid) || id.pid <= 0) return false;
  if (id.pid === me.pid) return id.start !== me.start && id.start !== '';
  if (process.platform === 'linux') {
    const st = procStat(id.pid);
    // No /proc entry: no such pid in this namespace, or /proc is mounted with hidepid and hides
    // another user's process. kill(pid, 0) tells them apart (EPERM: it exists).
    if (st === undefined) return !pidExists(id.pid);
    const [state, start] = st;
    if (state === 'Z' || state === 'X') return true; // exited, not yet reaped
    return id.start !== '' && start !== id.start; // pid reused by a newer process
  }
  return !pidExists(id.pid);
}

/** Whether a process with this pid exists (signal 0 is sent to nobody; EPERM means it exists). */
function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * True only when the process named by `id` certainly still runs: same host, and (on Linux) a live
 * process with that pid and the recorded start time. False means "gone, or cannot tell": a caller
 * that must never touch a live owner's files then falls back to a heartbeat's staleness.
 */
export function isProcessAlive(id: ProcessIdentity): boolean {
  const me = selfIdentity();
  if (id.host !== me.host || id.start === '') return false;
  if (id.pid === me.pid) return id.start === me.start;
  // Elsewhere only kill(pid, 0) is available, which cannot tell a reused pid from the original;
  // so is a process that hidepid hides from us.
  if (process.platform !== 'linux') return false;
  const st = procStat(id.pid);
  return st !== undefined && st[0] !== 'Z' && st[0] !== 'X' && st[1] === id.start;
}

/** Parse an identity written by `selfIdentity`, or undefined if it is not one. */
export function parseIdentity(value: unknown): ProcessIdentity | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.host !== 'string' || typeof v.pid !== 'number' || typeof v.start !== 'string') return undefined;
  return { host: v.host, pid: v.pid, start: v.start };
}
