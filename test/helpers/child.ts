/**
 * Child processes for tests: one result type and one way to spawn, for fixtures, the `txnfs`
 * bin (bin.ts), the examples (examples.ts) and the CLI run in-process (main.ts), so every test
 * reads an exit the same way: `status` (the exit code, null when killed) and `signal`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** test/fixtures, where the child-process scripts live. */
export const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');

/** How a child process (or the CLI's main() in this process) ended, and what it printed. */
export interface ChildResult {
  /** The exit code; null when the process died of a signal. */
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Running {
  readonly child: ChildProcess;
  readonly done: Promise<ChildResult>;
  /** Resolves with stdout so far once it contains `marker`; rejects if the process ends first. */
  output(marker: string): Promise<string>;
}

export interface SpawnOptions {
  /** The whole command line; default `node test/fixtures/<script> ...args`. */
  readonly command?: readonly string[];
  /** The environment; default this process's. */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Start `node test/fixtures/<script> ...args`, or any command when `command` is given. Output is
 * collected; `done` resolves when the process exits (it never rejects: the test judges the exit).
 */
export function start(script: string, args: readonly string[], options: SpawnOptions = {}): Running {
  const argv = options.command ?? [process.execPath, path.join(fixtures, script), ...args];
  const [cmd, ...rest] = argv as [string, ...string[]];
  const child = spawn(cmd, rest, { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env });
  let stdout = '';
  let stderr = '';
  let ended = false;
  const waiters: { marker: string; resolve: (text: string) => void; reject: (err: Error) => void }[] = [];
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    for (const w of waiters.splice(0)) {
      if (stdout.includes(w.marker)) w.resolve(stdout);
      else waiters.push(w);
    }
  });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = new Promise<ChildResult>((resolve) => {
    child.on('close', (status, signal) => {
      ended = true;
      for (const w of waiters.splice(0)) w.reject(new Error(`exited (${signal ?? status}) before printing ${JSON.stringify(w.marker)}: ${stdout}${stderr}`));
      resolve({ status, signal, stdout, stderr });
    });
  });
  const output = (marker: string): Promise<string> => {
    if (stdout.includes(marker)) return Promise.resolve(stdout);
    if (ended) return Promise.reject(new Error(`exited before printing ${JSON.stringify(marker)}: ${stdout}${stderr}`));
    return new Promise((resolve, reject) => waiters.push({ marker, resolve, reject }));
  };
  return { child, done, output };
}

/** Run a fixture (or `command`) to completion. */
export function run(script: string, args: readonly string[], options: SpawnOptions = {}): Promise<ChildResult> {
  return start(script, args, options).done;
}

/** Run `command` to completion, synchronously; throws if it cannot be started or times out. */
export function runSync(command: readonly string[], options: { readonly env?: NodeJS.ProcessEnv; readonly timeout?: number } = {}): ChildResult {
  const [cmd, ...rest] = command as [string, ...string[]];
  const r = spawnSync(cmd, rest, { encoding: 'utf8', env: options.env ?? process.env, timeout: options.timeout ?? 20_000 });
  if (r.error !== undefined) throw r.error;
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** The JSON lines a child printed on stdout. */
export function jsonLines<T = Record<string, unknown>>(stdout: string): T[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => JSON.parse(l) as T);
}

/** Poll `check` every few ms until it returns true, or fail after `ms`. */
export async function waitFor(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
