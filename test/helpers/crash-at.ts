import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const fixture = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/cli-crash-at.mjs');

/**
 * Leave in `root` what a process killed (SIGKILL) at protocol step `step` leaves: a transaction
 * writing `count` files of `size` bytes (`prefix`f0000, `prefix`f0001, ...). Returns the transaction id.
 * A journal, and a staging dir at all, need `count` of 2 or more: one written file alone is
 * staged as the transaction's lone file in the home (src/transaction/lone.ts) and commits by its
 * rename, with no journal (src/protocol/direct.ts).
 *
 * The crash happens in a scratch root, and its staging dir and owner lock are then moved into
 * `root/.txnfs/`: a commit in `root` itself would first recover the dead transactions already
 * there (invariant 7), and tests need several side by side.
 */
export function crashAt(root: string, step: string, count = 1, size = 16, prefix = ''): string {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'txnfs-crash-'));
  try {
    const r = spawnSync(process.execPath, [fixture, scratch, step, String(count), String(size), prefix], { encoding: 'utf8' });
    if (r.signal !== 'SIGKILL') throw new Error(`the fixture was not killed at '${step}' (status ${r.status}): ${r.stderr}`);
    const from = path.join(scratch, '.txnfs');
    const names = fs.readdirSync(from).filter((n) => n.startsWith('.txn-'));
    const dirs = names.filter((n) => !n.endsWith('.lock'));
    if (dirs.length !== 1) throw new Error(`expected one staging dir, found ${JSON.stringify(names)}`);
    fs.mkdirSync(path.join(root, '.txnfs'), { recursive: true });
    for (const n of names) fs.renameSync(path.join(from, n), path.join(root, '.txnfs', n));
    return (dirs[0] as string).slice('.txn-'.length);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/** Damage the journal of transaction `id` in `root` (flip one bit near its end). */
export function corruptJournal(root: string, id: string): void {
  const journal = path.join(root, '.txnfs', `.txn-${id}`, 'journal');
  const bytes = fs.readFileSync(journal);
  bytes[bytes.length - 2] = (bytes[bytes.length - 2] as number) ^ 1;
  fs.writeFileSync(journal, bytes);
}
