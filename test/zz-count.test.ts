import * as path from 'node:path';
import { it } from 'vitest';
import { begin, writeFile } from '../src/index.js';
import { faults } from '../src/faults.js';
import { tmpdir } from './helpers/tmp.js';
it('counts', async () => {
  const dir = tmpdir();
  await writeFile(path.join(dir, 'f'), 'x');
  const tx0 = begin({ dir }); tx0.write('f', 'y'); await tx0.commit();
  const ops: string[] = [];
  faults.hook = (e) => { if (e.kind === 'op') ops.push(e.op); };
  const tx = begin({ dir }); tx.write('f', 'z'); await tx.commit();
  const t = ops.splice(0);
  await writeFile(path.join(dir, 'f'), 'w');
  faults.hook = undefined;
  console.log('TX', t.length, t.filter((o) => o.startsWith('fsync')).length, 'FILE', ops.length, ops.filter((o) => o.startsWith('fsync')).length);
});
