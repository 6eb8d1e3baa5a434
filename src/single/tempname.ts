/**
 * tempname.ts: the names of single-file temp files, which say who wrote them.
 *
 * A temp file lives in `<dir>/.txnfs/` and is named
 *
 *     .tmp-<host>-<pid>-<start>-<thread>-<seq>
 *
 * `host` is 12 hex digits of a SHA-256 of the host key (boot id and pid namespace on Linux, see
 * identity.ts), `pid` and `start` (the process start time in clock ticks) identify the process,
 * `thread` is the worker thread id and `seq` counts the names this copy of the library made. All
 * numbers are base 36. Together they are unique across processes, worker threads and calls; the
 * file is still created with O_EXCL, and a collision (two copies of txnfs loaded in one thread,
 * whose sequences start at random points) just takes the next `seq`.
 *
 * The name never contains the target's name, so it is short whatever the target is called: at
 * most 65 bytes (`TEMP_NAME_MAX`), well under the 143-byte name limit of eCryptfs
 * (write-file-atomic appends a suffix to the target's name and fails on long names there, issue
 * #63). Recovery parses the name back to judge whether its writer still runs, without opening it.
 *
 * Cost: string work only; the hash is computed once per process.
 */
import { createHash, randomInt } from 'node:crypto';
import { threadId } from 'node:worker_threads';
import { selfIdentity, type ProcessIdentity } from '../protocol/identity.js';
import { TEMP_PREFIX } from '../protocol/layout.js';

/** What a temp file's name says about its writer. */
export interface TempWriter {
  /** 12 hex digits of the writer's host key hash. */
  readonly hostHash: string;
  readonly pid: number;
  /** Process start time in clock ticks, decimal, or '' when the writer could not read it. */
  readonly start: string;
  readonly thread: number;
  readonly seq: number;
}

/** The longest name `tempName` can produce (every field at its maximum width). */
export const TEMP_NAME_MAX = TEMP_PREFIX.length + 12 + 4 + 11 * 4;

const TEMP_RE = /^\.tmp-([0-9a-f]{12})-([0-9a-z]{1,11})-([0-9a-z]{0,11})-([0-9a-z]{1,11})-([0-9a-z]{1,11})$/;

/** 12 hex digits of a SHA-256 of a host key: 48 bits, so two hosts sharing a directory never collide in practice. */
export function hostHash(host: string): string {
  return createHash('sha256').update(host).digest('hex').slice(0, 12);
}

let self: { pid: number; prefix: string; hostHash: string } | undefined;
// A random start, so that two copies of txnfs loaded in one thread (duplicate installs) do not walk
// the same sequence of names and collide on every one of their open temps.
let seq = randomInt(0, 2 ** 40);

function selfNames(): { prefix: string; hostHash: string } {
  if (self === undefined || self.pid !== process.pid) {
    const id = selfIdentity();
    const start = /^\d+$/.test(id.start) ? BigInt(id.start).toString(36) : '';
    const hash = hostHash(id.host);
    self = { pid: process.pid, hostHash: hash, prefix: `${TEMP_PREFIX}${hash}-${id.pid.toString(36)}-${start}-${threadId.toString(36)}-` };
  }
  return self;
}

/** A new temp file name for this process and thread. */
export function tempName(): string {
  seq = seq >= Number.MAX_SAFE_INTEGER ? 1 : seq + 1;
  return `${selfNames().prefix}${seq.toString(36)}`;
}

function base36(text: string): number {
  let n = 0;
  for (const c of text) n = n * 36 + Number.parseInt(c, 36);
  return n;
}

/** Parse a temp file name; undefined for any other name (which recovery then never touches). */
export function parseTempName(name: string): TempWriter | undefined {
  const m = TEMP_RE.exec(name);
  if (m === null) return undefined;
  const [, host, pid, start, thread, n] = m as unknown as [string, string, string, string, string, string];
  let startDecimal = '';
  if (start !== '') {
    let v = 0n;
    for (const c of start) v = v * 36n + BigInt(Number.parseInt(c, 36));
    startDecimal = v.toString();
  }
  return { hostHash: host, pid: base36(pid), start: startDecimal, thread: base36(thread), seq: base36(n) };
}

/**
 * The identity to judge a temp's writer by, when it ran on this host (its host hash is ours);
 * undefined when it ran elsewhere or in an earlier boot, which only its staleness can judge.
 */
export function writerIdentity(writer: TempWriter): ProcessIdentity | undefined {
  if (writer.hostHash !== selfNames().hostHash) return undefined;
  return { host: selfIdentity().host, pid: writer.pid, start: writer.start };
}
