import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** test/fixtures, where the child-process scripts live. */
export const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');

export interface ChildResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Running {
  readonly child: ChildProcess;
  readonly done: Promise<ChildResult>;
}

/**
 * Start `node test/fixtures/<script> ...args`, or any command when `command` is given. Output is
 * collected; `done` resolves when the process exits (it never rejects: the test judges the code).
 */
export function start(script: string, args: readonly string[], options: { command?: readonly string[]; env?: NodeJS.ProcessEnv } = {}): Running {
  const argv = options.command ?? [process.execPath, path.join(fixtures, script), ...args];
  const [cmd, ...rest] = argv as [string, ...string[]];
  const child = spawn(cmd, rest, { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = new Promise<ChildResult>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

/** Run a fixture to completion. */
export function run(script: string, args: readonly string[], options: { command?: readonly string[]; env?: NodeJS.ProcessEnv } = {}): Promise<ChildResult> {
  return start(script, args, options).done;
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
