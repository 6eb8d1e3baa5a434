/**
 * clone.ts: copy a crashed root so that recovery cannot tell the copy from the original.
 *
 * The recovery-crash loop needs the same crash state once per point at which it kills recovery.
 * Re-creating it costs a child process each time; copying it costs a few milliseconds. A plain
 * copy is not the same state, though: the journal records inode numbers (the original of each
 * replaced or deleted target, and each staged file), and recovery compares them with what it
 * finds. So the copy is made with `cp -a` (which keeps hard links between copied files, so each
 * backup/<i> is still the same file as its target or staged file), then every inode number in each
 * journal is mapped from the original's inode to the copy's, and the journal is re-encoded with
 * its checksum (src/protocol/journal.ts). An inode number not found in the tree is left as it is, and a
 * journal that fails its checksum is copied unchanged (a kill produces neither: every recorded
 * inode stays linked in the staging dir while its journal exists, and a kill does not tear a
 * journal).
 *
 * The loop proves the copy faithful: the original state, recovered once at the end, must give the
 * same result as the copies.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decodeJournal, encodeJournal } from '../../src/protocol/journal.js';
import type { Sandbox } from './check.js';

function inodes(dir: string, rel = '', out = new Map<string, bigint>()): Map<string, bigint> {
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel === '' ? e.name : `${rel}/${e.name}`;
    out.set(r, fs.lstatSync(path.join(dir, r), { bigint: true }).ino);
    if (e.isDirectory()) inodes(dir, r, out);
  }
  return out;
}

/** Copy sandbox `sb` into the new directory `parent` (which must not exist). */
export function cloneSandbox(sb: Sandbox, parent: string): Sandbox {
  execFileSync('cp', ['-a', sb.parent, parent]);
  const copy: Sandbox = { parent, root: path.join(parent, path.relative(sb.parent, sb.root)) };
  const from = inodes(sb.root);
  const to = inodes(copy.root);
  const map = new Map<string, string>();
  for (const [rel, ino] of from) {
    const c = to.get(rel);
    if (c === undefined) throw new Error(`clone is missing '${rel}'`);
    map.set(String(ino), String(c));
  }
  const home = path.join(copy.root, '.txnfs');
  if (!fs.existsSync(home)) return copy;
  for (const name of fs.readdirSync(home)) {
    const journal = path.join(home, name, 'journal');
    if (!name.startsWith('.txn-') || !fs.existsSync(journal)) continue;
    let j;
    try {
      j = decodeJournal(fs.readFileSync(journal), journal);
    } catch {
      continue; // corrupt stays corrupt
    }
    const remap = (ino: string | null): string | null => (ino === null ? null : (map.get(ino) ?? ino));
    const entries = j.entries.map((e) => ({ ...e, ino: remap(e.ino), stagedIno: remap(e.stagedIno) }));
    const st = fs.statSync(journal);
    fs.writeFileSync(journal, encodeJournal({ ...j, entries }));
    fs.utimesSync(journal, st.atime, st.mtime);
  }
  return copy;
}
