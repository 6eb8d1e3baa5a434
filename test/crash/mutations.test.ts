/**
 * test/helpers/mutations.mjs: the harness's deliberate protocol bugs are filters of the operations
 * the library reports. Their proofs (the crash tests that catch them) live with the loops; this
 * pins what each fsync filter removes from a real commit and a real single-file write.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect, it } from 'vitest';
import { begin, writeFile } from '../../src/index.js';
import { faults } from '../../src/io/faults.js';
import { useFsImpl } from '../../src/io/fs.js';
import { ops, record } from '../helpers/hook.js';
import { mutationLayer, type Mutation } from '../helpers/mutations.mjs';
import { tmpdir } from '../helpers/tmp.js';

async function run(m: Mutation | undefined, file: boolean | 'one'): Promise<string[]> {
  const dir = tmpdir();
  fs.writeFileSync(path.join(dir, 'a'), 'old');
  fs.writeFileSync(path.join(dir, 'b'), 'old');
  const layer = mutationLayer(m === undefined ? [] : [m]);
  useFsImpl(layer.impl(useFsImpl()));
  faults.hook = undefined;
  const ev = record();
  faults.hook = layer.hook(faults.hook);
  if (file === true) await writeFile(path.join(dir, 'a'), 'new');
  else if (file === 'one') {
    // One written file: the rename is the commit point (src/protocol/direct.ts).
    const tx = begin({ dir });
    tx.write('a', 'new');
    await tx.commit();
  } else {
    const tx = begin({ dir });
    tx.write('a', 'new');
    tx.write('n/m/c', 'new');
    tx.remove('b');
    await tx.commit();
  }
  faults.hook = undefined;
  useFsImpl();
  return ops(ev.filter((e) => e.kind === 'step' || e.mutating)).map((s) => s.replaceAll(dir, '').replace(/\.txn-[A-Za-z0-9_-]+/g, 'T').replace(/\.tmp-[^ ]+/g, 'TMP').replace(/o\.[^ ]+/g, 'O'));
}
/** The operations (and steps) of the run with `m` that the run without it has more of. */
async function dropped(m: Mutation, file: boolean | 'one'): Promise<string[]> {
  const base = await run(undefined, file);
  const got = await run(m, file);
  const left = [...got];
  return base.filter((x) => {
    const i = left.indexOf(x);
    if (i === -1) return true;
    left.splice(i, 1);
    return false;
  });
}

// Each filter drops exactly what its bug skips, and nothing else (a filter that dropped more would
// make a proof pass for the wrong reason). Paths relative to the root; T is the staging dir.
it.each([
  // Writes issued one after another: the second asks for the staging dir before the first has
  // made its lone file (src/transaction/lone.ts), so both are staged in files/.
  ['skip-fsync-staged', false, ['fsync /.txnfs/T/files/0', 'fsync /.txnfs/T/files/1']],
  ['skip-fsync-journal-dir', false, ['fsyncDir /.txnfs/T']],
  ['skip-fsync-home', false, ['fsyncDir /.txnfs']],
  ['skip-fsync-new-home', false, ['fsyncDir ']],
  // The root twice: what the plan relied on (a replaced, b removed) and the new home's name.
  ['skip-fsync-relied-on', false, ['fsyncDir ', 'fsyncDir ']],
  ['skip-fsync-backup-dir', false, ['fsyncDir /.txnfs/T/backup']],
  ['skip-fsync-created-dirs', false, ['fsyncDir ', 'fsyncDir /n']],
  ['skip-fsync-applied-dirs', false, ['fsyncDir ', 'fsyncDir /.txnfs/T/files', 'fsyncDir /n/m']],
  ['file-skip-fsync-temp', true, ['fsync /.txnfs/TMP']],
  ['file-skip-fsync-dir', true, ['fsyncDir ']],
  // One written file is the lone file: staged in the home, renamed from there (lone.ts).
  ['skip-fsync-direct-dir', 'one', ['fsyncDir ', 'fsyncDir /.txnfs']],
  ['skip-fsync-staged', 'one', ['fsync /.txnfs/TMP']],
] as [Mutation, boolean | 'one', string[]][])('%s drops exactly the operations the bug skips', async (m, file, expected) => {
  expect((await dropped(m, file)).sort()).toEqual(expected.sort());
});
