#!/usr/bin/env node
/**
 * cli.ts: the `txnfs` executable (package.json `bin`). Runs `main()` and ends the process the way
 * it says: an exit code, or, when `txnfs exec`'s command died of a signal, the same signal.
 *
 * Dying of the signal (not exiting 128+n) matters to shells: bash stops a script when a child it
 * waits for dies of SIGINT, but carries on when the child merely exits 130. Re-raised only for
 * signals whose default action is to terminate without a core dump and that Node leaves at their
 * default (SIGUSR1 starts Node's inspector, SIGPIPE is ignored by Node); others exit 128+n.
 */
import { createRequire } from 'node:module';
import * as os from 'node:os';
import { main } from './cli/main.js';

const reRaisable = new Set<NodeJS.Signals>(['SIGHUP', 'SIGINT', 'SIGTERM', 'SIGKILL', 'SIGALRM', 'SIGUSR2', 'SIGPROF', 'SIGVTALRM', 'SIGIO', 'SIGPOLL', 'SIGPWR', 'SIGSTKFLT']);

function flush(stream: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => stream.write('', () => resolve()));
}

// A reader that went away (`txnfs status --json | head -1`) is not an error worth a stack trace,
// and must not change the exit code a script relies on: the rest of the output is dropped.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
});
// An error writing to stderr (a terminal hung up: EIO, after SIGHUP) has nowhere to be reported;
// it must not replace the exit status with a crash.
process.stderr.on('error', () => undefined);

// By the package's own name (a self-reference through its `exports`), not a relative path: this
// module runs from dist/ (tsc's) and from dist/bundle/ (the `txnfs` bin).
const { version } = createRequire(import.meta.url)('txnfs/package.json') as { version: string };
const exit = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, version });
await Promise.all([flush(process.stdout), flush(process.stderr)]);
if ('signal' in exit) {
  const n = os.constants.signals[exit.signal] ?? 0;
  if (reRaisable.has(exit.signal)) {
    process.kill(process.pid, exit.signal);
    // Still alive (the signal is blocked or ignored in this process): say it the shell's way.
    setTimeout(() => process.exit(128 + n), 1000);
  } else {
    process.exit(128 + n);
  }
} else {
  process.exit(exit.code);
}
