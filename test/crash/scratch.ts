/**
 * scratch.ts: where the crash loops make their roots.
 *
 * The loops create and delete thousands of small trees. On this project's disks (ext4 mounted
 * with `discard`) every unlink can cost a TRIM, and other jobs' fsyncs stall ours; what the loops
 * check does not depend on the medium: a SIGKILL keeps everything the kernel accepted (the page
 * cache survives a process crash, on any filesystem) and an injected errno never reaches it. So
 * they use tmpfs (/dev/shm) when the machine has one, else the system temp dir.
 * `TXNFS_CRASH_TMP=<dir>` chooses the place (e.g. a real disk, to run the soak there). What only a
 * disk can show (what survives power loss) is the power-loss model's job, not these loops'.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import type { Tally } from './summary.js';

function base(): string {
  const chosen = process.env.TXNFS_CRASH_TMP;
  if (chosen !== undefined && chosen !== '') return chosen;
  try {
    fs.accessSync('/dev/shm', fs.constants.W_OK);
    if (fs.statSync('/dev/shm').isDirectory()) return '/dev/shm';
  } catch {
    // no tmpfs here: fall through
  }
  return os.tmpdir();
}

/** A new, empty directory for one loop; the caller removes it. */
export function scratchDir(prefix: string): string {
  return fs.realpathSync(fs.mkdtempSync(path.join(base(), prefix)));
}

/**
 * For a loop's test file: a scratch directory made before its tests and removed after them, when
 * the file's summary line is printed too. Returns a getter (the directory exists from beforeAll on).
 */
export function loopScratch(prefix: string, tally: Tally): () => string {
  let dir = '';
  beforeAll(() => {
    dir = scratchDir(prefix);
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    tally.print();
  });
  return () => dir;
}
