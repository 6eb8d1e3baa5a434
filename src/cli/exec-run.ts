/**
 * exec.ts: run a command, and commit the files it wrote as one transaction (`txnfs exec`).
 *
 * 1. Begin a transaction in the root. Its tempDir() (inside its staging dir, so on the root's
 *    filesystem) is the command's TXNFS_OUT. This process holds the transaction's owner lock while
 *    the command runs, so if this process dies, recover() finds a dead staging dir and removes it,
 *    TXNFS_OUT included.
 * 2. Run the command (no shell) with TXNFS_OUT and TXNFS_DIR set, forwarding the signals this
 *    process receives to it.
 * 3. If it exited 0 and no signal was received: walk TXNFS_OUT and refuse symlinks and special
 *    files; with `deleteMissing`, walk the subtree of the root and remove() each regular file the
 *    command did not produce; adopt() each produced file (a rename, no copy); commit. Otherwise
 *    abort: the staging dir is removed and nothing lands.
 *
 * Cost beyond the command: one readdir per output directory and one lstat, rename and (durability
 * 'full') fsync per output file; with `deleteMissing`, one lstat per file of the subtree. The commit
 * itself is the library's: O(files) renames under the root lock.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import * as fs from '../io/fs.js';
import { codes, errnoOf, isTxnError, TxnError } from '../errors.js';
import { lstatIfPresent } from '../io/if-present.js';
import { isReserved } from '../transaction/paths.js';
import { openRootDir } from '../protocol/root.js';
import { begin } from '../transaction/begin.js';
import type { CommitResult } from '../transaction/transaction.js';
import { walk } from '../io/tree.js';
import type { Durability } from '../options/options.js';
import { SpawnError } from './command.js';

/** What `runExec` needs. */
export interface ExecOptions {
  /** The root. It must exist. */
  readonly dir: string;
  readonly command: string;
  readonly args: readonly string[];
  /** @default 'full' */
  readonly durability?: Durability | undefined;
  /**
   * Remove the regular files of the subtree that the command did not produce, in the same
   * transaction. Symlinks, special files and directories are left alone.
   * @default false
   */
  readonly deleteMissing?: boolean | undefined;
  /**
   * Where in the root the output tree lands, relative to the root: TXNFS_OUT mirrors
   * `<dir>/<subtree>`, and `deleteMissing` looks only there.
   * @default '' (the whole root, except `.txnfs/`)
   */
  readonly subtree?: string | undefined;
  /** Send the command's stdout to this process's stderr (keeps stdout for a JSON report). @default false */
  readonly stdoutToStderr?: boolean | undefined;
  /** Signals that, while this runs, are forwarded to the command and cancel the commit. @default [] */
  readonly forward?: readonly NodeJS.Signals[] | undefined;
  /** Extra environment for the command. @default process.env */
  readonly env?: NodeJS.ProcessEnv | undefined;
}

/** How a run ended, when it ran. */
export interface ExecOutcome {
  /**
   * 'committed': the command exited 0 and everything it wrote landed. 'failed': it exited non-zero
   * or was killed by a signal; nothing landed. 'interrupted': this process received one of the
   * forwarded signals; nothing landed, whatever the command's exit status.
   */
  readonly status: 'committed' | 'failed' | 'interrupted';
  /** The command's exit code, or null when it was killed by a signal (or never started). */
  readonly exitCode: number | null;
  /** The signal that killed the command, or null. */
  readonly signal: NodeJS.Signals | null;
  /** The first forwarded signal this process received, or null. */
  readonly received: NodeJS.Signals | null;
  /** What the commit did (status 'committed' only). */
  readonly commit: CommitResult | null;
}

const MAX_LISTED = 5;

/** Validate `subtree` lexically against the real root; '' is the root itself. */
function subtreeOf(root: string, value: string | undefined): string {
  if (value === undefined || value === '' || value === '.') return '';
  if (value.includes('\0')) throw new TxnError(codes.EBADPATH, `The subtree ${JSON.stringify(value)} contains a NUL byte. Pass a directory path without one.`, { path: value });
  const rel = path.relative(root, path.resolve(root, value));
  if (rel === '') return '';
  if (rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) {
    throw new TxnError(codes.EBADPATH, `The subtree '${value}' is outside the root '${root}'. Give a directory inside the root, relative to it.`, { path: value });
  }
  const parts = rel.split(path.sep);
  if (parts.some(isReserved)) {
    throw new TxnError(codes.EBADPATH, `The subtree '${value}' is inside '.txnfs', which txnfs reserves for its own records. Pick a directory outside it.`, { path: value });
  }
  return parts.join('/');
}

/** The subtree as a directory: undefined when it does not exist yet. Refuses a symlink on the way. */
async function subtreeDir(root: string, subtree: string): Promise<string | undefined> {
  const abs = subtree === '' ? root : path.join(root, ...subtree.split('/'));
  let real: string;
  try {
    real = await fs.realpath(abs);
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return undefined;
    throw err;
  }
  // The walk for deleteMissing must see the same files the commit resolves: no symlink in between.
  if (real !== abs) {
    throw new TxnError(codes.EBADPATH, `The subtree '${subtree}' passes through a symlink (it resolves to '${real}'); name the real directory.`, { path: subtree });
  }
  if ((await fs.stat(real)).kind !== 'dir') throw new TxnError(codes.ETARGET, `The subtree '${subtree}' is not a directory. Pass a directory inside the root, or a path where none exists yet.`, { path: subtree });
  return real;
}

function listed(items: readonly string[]): string {
  const shown = items.slice(0, MAX_LISTED).map((s) => `'${s}'`).join(', ');
  return items.length > MAX_LISTED ? `${shown} and ${items.length - MAX_LISTED} more` : shown;
}

/**
 * After the commit: how long a staging dir that is still (or again) there is removed again, and
 * how long it must stay gone. It comes back when a process the command left running in the
 * background writes into TXNFS_OUT during the commit's cleanup (`mkdir -p` recreates the whole
 * path). The commit has landed by then; this only keeps that writer's debris out of `.txnfs/`.
 */
const EXEC_SETTLE = Object.freeze({ pollMs: 50, quietMs: 250, maxMs: 2000 });

/**
 * Remove `staging` (this run's staging dir, committed and released) until it has stayed gone for
 * `quietMs`, within `maxMs`. Nothing to do, at no cost, when the commit's cleanup removed it and
 * nothing brought it back. Returns a warning when it is still there at the end (recover() removes
 * it later: its owner, this process, will be dead).
 */
async function settleStaging(staging: string): Promise<string | undefined> {
  const exists = (): Promise<boolean> => fs.lstat(staging).then(() => true, () => false);
  if (!(await exists())) return undefined;
  const started = Date.now();
  let lastSeen = started;
  while (Date.now() - started < EXEC_SETTLE.maxMs) {
    if (await exists()) {
      lastSeen = Date.now();
      await fs.removeTree(staging).catch(() => undefined);
    } else if (Date.now() - lastSeen >= EXEC_SETTLE.quietMs) {
      return undefined;
    }
    await new Promise((resolve) => setTimeout(resolve, EXEC_SETTLE.pollMs));
  }
  if (!(await exists())) return undefined;
  return `A process the command left running is still writing into TXNFS_OUT after the commit, so the staging dir '${staging}' keeps coming back; it was left for recover() to remove. Wait for background processes before the command exits (in sh: wait).`;
}

interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

function runChild(o: ExecOptions, env: NodeJS.ProcessEnv, started: (child: ChildProcess) => void): Promise<ChildExit> {
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      // No shell: the arguments reach the command exactly as given (`sh -c '...'` for a pipeline).
      child = spawn(o.command, [...o.args], { stdio: ['inherit', o.stdoutToStderr === true ? 2 : 'inherit', 'inherit'], env });
    } catch (err) {
      reject(new SpawnError(o.command, err));
      return;
    }
    started(child);
    child.once('error', (err) => {
      // 'error' also reports a failed kill(); only a child without a pid never started.
      if (child.pid === undefined) reject(new SpawnError(o.command, err));
    });
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

/**
 * Run `o.command` with TXNFS_OUT set to a fresh staging tree, and commit that tree into the root
 * if and only if the command exits 0 and no forwarded signal arrives. Resolves with the outcome;
 * rejects with a TxnError when the commit itself fails (nothing landed unless the code is
 * EINCOMPLETE), or with a SpawnError when the command could not start. Installs handlers for
 * `o.forward` on `process` while it runs.
 */
export async function runExec(o: ExecOptions): Promise<ExecOutcome> {
  const root = await openRootDir(o.dir);
  const subtree = subtreeOf(root, o.subtree);
  const ac = new AbortController();
  const tx = begin({ dir: root, durability: o.durability ?? 'full', signal: ac.signal });
  let received: NodeJS.Signals | null = null;
  let child: ChildProcess | undefined;
  let committing = false;
  const onSignal = (sig: NodeJS.Signals): void => {
    received ??= sig;
    if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill(sig);
    // Once commit() has started, the abort wins up to the commit point, not after it. (Before, the
    // flag is checked right before commit() is called.)
    if (committing) ac.abort(new Error(`received ${sig}`));
  };
  const forward = o.forward ?? [];
  for (const sig of forward) process.on(sig, onSignal);
  const outcome = (status: ExecOutcome['status'], exit: ChildExit, commit: CommitResult | null = null): ExecOutcome =>
    ({ status, exitCode: exit.code, signal: exit.signal, received, commit });
  let exit: ChildExit = { code: null, signal: null };
  try {
    const out = await tx.tempDir();
    if (received !== null) {
      await tx.abort();
      return outcome('interrupted', exit);
    }
    const env = { ...(o.env ?? process.env), TXNFS_OUT: out, TXNFS_DIR: subtree === '' ? root : path.join(root, ...subtree.split('/')) };
    exit = await runChild(o, env, (c) => {
      child = c;
    });
    if (received !== null || exit.code !== 0) {
      await tx.abort();
      return outcome(received !== null ? 'interrupted' : 'failed', exit);
    }
    // The command may have removed TXNFS_OUT or put a symlink in its place: never walk (and move
    // files from) somewhere else, and never read "no output" into "delete everything".
    const info = await lstatIfPresent(out);
    if (info?.kind !== 'dir') {
      throw new TxnError(codes.ETARGET, `The command ${info === undefined ? 'removed' : 'replaced'} TXNFS_OUT ('${out}'); write files inside it, never replace it. Nothing was committed.`, { path: out });
    }
    const produced = await walk(out);
    if (produced.others.length > 0) {
      const what = produced.others.map((e) => `${e.rel} (${e.kind === 'symlink' ? 'symlink' : 'special file'})`);
      throw new TxnError(codes.ETARGET, `The command left entries in TXNFS_OUT ('${out}') that are not regular files: ${listed(what)}. txnfs commits regular files only; nothing was committed. Remove them (or write regular files instead) before the command exits.`, { path: out });
    }
    const prefix = subtree === '' ? '' : `${subtree}/`;
    if (o.deleteMissing === true) {
      const base = await subtreeDir(root, subtree);
      if (base !== undefined) {
        const keep = new Set(produced.files);
        // Reserved names ('.txnfs', at any depth) can never be targets, and the root's own
        // '.txnfs' is the home: never candidates for removal.
        const existing = await walk(base, { skip: (name) => isReserved(name) });
        for (const rel of existing.files) if (!keep.has(rel)) tx.remove(prefix + rel);
      }
    }
    for (const rel of produced.files) tx.adopt(prefix + rel, path.join(out, ...rel.split('/')));
    if (received !== null) {
      await tx.abort();
      return outcome('interrupted', exit);
    }
    // No await between these two lines: commit() leaves the 'open' state synchronously, so a signal
    // from here on reaches it through `ac` and never an open transaction.
    committing = true;
    const commit = await tx.commit();
    const leftover = await settleStaging(path.dirname(out));
    return outcome('committed', exit, leftover === undefined ? commit : { ...commit, warnings: [...commit.warnings, leftover] });
  } catch (err) {
    if (tx.state === 'open') await tx.abort().catch(() => undefined);
    if (received !== null && isTxnError(err) && err.code === codes.EABORTED) return outcome('interrupted', exit);
    throw err;
  } finally {
    for (const sig of forward) process.off(sig, onSignal);
  }
}
