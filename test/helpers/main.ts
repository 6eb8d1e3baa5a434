import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.js';
import type { ChildResult } from './child.js';

const pkg = JSON.parse(fs.readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../package.json'), 'utf8')) as { version: string };

/**
 * `txnfs args...` in this process, through the same main() the bin runs: for the many argument
 * cases where spawning the bin would only add a process start each. The result reads as a spawned
 * bin's would: `status` is the exit code, or null with `signal` set when main() asks to die of one.
 */
export async function runMain(args: readonly string[]): Promise<ChildResult> {
  const out = { text: '', write: (t: string) => ((out.text += t), true) };
  const err = { text: '', write: (t: string) => ((err.text += t), true) };
  const exit = await main(args, { stdout: out as never, stderr: err as never, version: pkg.version });
  return { status: 'code' in exit ? exit.code : null, signal: 'signal' in exit ? exit.signal : null, stdout: out.text, stderr: err.text };
}
