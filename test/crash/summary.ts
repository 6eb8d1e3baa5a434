/**
 * summary.ts: one summary line per loop run, e.g.
 *
 *   [txnfs crash] I/O-error loop: 1,204 error points, 0 crash points, 24 deferred, 0 violations
 *
 * Each loop test file keeps a Tally and prints it when the file is done, so every `npm test` run
 * shows how much was explored and that nothing was violated (the tests themselves fail on any
 * violation). `TXNFS_CRASH_SUMMARY=<file>` also appends the line to a file, for docs and CI logs.
 */
import * as fs from 'node:fs';

export class Tally {
  crashPoints = 0;
  errorPoints = 0;
  /** Points where recovery had to wait out an ownerless lock (aged, not slept). */
  deferred = 0;
  violations = 0;
  readonly #started = performance.now();
  readonly #name: string;

  constructor(name: string) {
    this.#name = name;
  }

  line(): string {
    const n = (x: number): string => x.toLocaleString('en-US');
    const s = ((performance.now() - this.#started) / 1000).toFixed(1);
    return `[txnfs crash] ${this.#name}: ${n(this.crashPoints)} crash points, ${n(this.errorPoints)} error points, ${n(this.deferred)} deferred, ${n(this.violations)} violations (${s} s)`;
  }

  print(): void {
    const line = this.line();
    console.log(line);
    const file = process.env.TXNFS_CRASH_SUMMARY;
    if (file !== undefined && file !== '') fs.appendFileSync(file, `${line}\n`);
  }
}
