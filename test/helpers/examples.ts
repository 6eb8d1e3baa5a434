import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixtures, runSync, type ChildResult } from './child.js';

/** examples/, where the runnable example programs live. */
export const examples = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../examples');

/** Run `node examples/<name> ...args` to completion. */
export function runExample(name: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): ChildResult {
  return runSync([process.execPath, path.join(examples, name), ...args], { env });
}

/**
 * Run `node examples/<name> ...args` and SIGKILL it when the library reaches protocol step `step`
 * for the `nth` time (test/fixtures/crash-example.mjs). Throws unless it died that way.
 */
export function crashExample(step: string, nth: number, name: string, args: readonly string[]): ChildResult {
  const r = runSync([process.execPath, path.join(fixtures, 'crash-example.mjs'), step, String(nth), path.join(examples, name), ...args]);
  if (r.signal !== 'SIGKILL') throw new Error(`${name} was not killed at '${step}' #${nth} (status ${r.status}): ${r.stderr}`);
  return r;
}

/** A directory holding a `txnfs` executable, as `npm install -g txnfs` would put on PATH. */
export function binDir(into: string): string {
  const dir = path.join(into, 'bin');
  fs.mkdirSync(dir, { recursive: true });
  fs.symlinkSync(path.resolve(examples, '../dist/cli.js'), path.join(dir, 'txnfs'));
  return dir;
}
