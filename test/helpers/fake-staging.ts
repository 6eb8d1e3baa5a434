/**
 * A staging dir as a commit of three entries leaves it just before its apply, made by hand for
 * tests of apply.ts: `a` (replaced; old 'old a') and `new/deep/b` (new) staged as files/0 and
 * files/1, and backups of `a` and `c` (backup/0 and backup/2, hard links). Returns its path.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export function fakeStaging(root: string): string {
  const staging = path.join(root, '.txnfs', '.txn-t1');
  fs.mkdirSync(path.join(staging, 'files'), { recursive: true });
  fs.mkdirSync(path.join(staging, 'backup'));
  fs.writeFileSync(path.join(root, 'a'), 'old a');
  fs.writeFileSync(path.join(root, 'c'), 'old c');
  fs.writeFileSync(path.join(staging, 'files', '0'), 'new a');
  fs.writeFileSync(path.join(staging, 'files', '1'), 'new b');
  fs.linkSync(path.join(root, 'a'), path.join(staging, 'backup', '0'));
  fs.linkSync(path.join(root, 'c'), path.join(staging, 'backup', '2'));
  return staging;
}
