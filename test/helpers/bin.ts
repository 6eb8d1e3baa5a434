import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runSync, start as startChild, type ChildResult, type Running } from './child.js';

/** The built executable, as npm installs it (`bin.txnfs` in package.json). */
export const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/cli.js');

/** Run `txnfs args...` to completion (through node, so the test does not depend on the exec bit). */
export function txnfs(args: readonly string[], env: NodeJS.ProcessEnv = {}): ChildResult {
  return runSync([process.execPath, bin, ...args], { env: { ...process.env, ...env } });
}

/** Start `txnfs args...`; `output(marker)` resolves with the stdout so far once it contains `marker`. */
export function start(args: readonly string[], env: NodeJS.ProcessEnv = {}): Running {
  return startChild('', [], { command: [process.execPath, bin, ...args], env: { ...process.env, ...env } });
}
