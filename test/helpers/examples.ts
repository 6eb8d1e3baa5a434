import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixtures } from './child.js';

/** examples/, where the runnable example programs live. */
export const examples = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../examples');

export interface Ran {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run `node examples/<name> ...args` to completion. */
export function runExample(name: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Ran {
  const r = spawnSync(process.execPath, [path.join(examples, name), ...args], { encoding: 'utf8', timeout: 20_000, env });
  if (r.error !== undefined) throw r.error;
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Run `node examples/<name> ...args` and SIGKILL it when the library reaches protocol step `step`
 * for the `nth` time (test/fixtures/crash-example.mjs). Throws unless it died that way.
 */
export function crashExample(step: string, nth: number, name: string, args: readonly string[]): Ran {
  const r = spawnSync(process.execPath, [path.join(fixtures, 'crash-example.mjs'), step, String(nth), path.join(examples, name), ...args], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  if (r.signal !== 'SIGKILL') throw new Error(`${name} was not killed at '${step}' #${nth} (status ${r.status}): ${r.stderr}`);
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** A directory holding a `txnfs` executable, as `npm install -g txnfs` would put on PATH. */
export function binDir(into: string): string {
  const dir = path.join(into, 'bin');
  fs.mkdirSync(dir, { recursive: true });
  fs.symlinkSync(path.resolve(examples, '../dist/cli.js'), path.join(dir, 'txnfs'));
  return dir;
}
