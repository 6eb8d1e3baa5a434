import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built executable, as npm installs it (`bin.txnfs` in package.json). */
export const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/cli.js');

export interface Run {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run `txnfs args...` to completion (through node, so the test does not depend on the exec bit). */
export function txnfs(args: readonly string[], env: NodeJS.ProcessEnv = {}): Run {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 20_000 });
  if (r.error !== undefined) throw r.error;
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** Start `txnfs args...`; `output(marker)` resolves with the stdout so far once it contains `marker`. */
export function start(args: readonly string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; output(marker: string): Promise<string>; done: Promise<Run> } {
  const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: { marker: string; resolve: (text: string) => void }[] = [];
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    for (const w of waiters.splice(0)) {
      if (stdout.includes(w.marker)) w.resolve(stdout);
      else waiters.push(w);
    }
  });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = new Promise<Run>((resolve) => child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr })));
  return {
    child,
    output: (marker) => (stdout.includes(marker) ? Promise.resolve(stdout) : new Promise((resolve) => waiters.push({ marker, resolve }))),
    done,
  };
}
