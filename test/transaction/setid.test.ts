import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { begin, writeFile } from '../../src/index.js';
import { tmpdir } from '../helpers/tmp.js';

const isRoot = process.getuid?.() === 0;

// Issue 12 item 6: chown clears setuid/setgid, so a transaction's fix-up must chown first and
// chmod after it, as writeFile does. Run as root with a target owned by someone else, so the
// transaction keeps that owner (a chown of the staged file).
describe.runIf(isRoot)('set-id and sticky bits survive a transaction that keeps another owner', () => {
  const modes = [0o4755, 0o2755, 0o1755, 0o6755].map((mode) => ({ mode, octal: mode.toString(8) }));

  it.each(modes)('kept mode $octal', async ({ mode }) => {
    const dir = tmpdir();
    const file = path.join(dir, 'prog');
    fs.writeFileSync(file, 'old');
    fs.chownSync(file, 1234, 5678);
    fs.chmodSync(file, mode);
    const tx = begin({ dir });
    tx.write('prog', 'new');
    await tx.commit();
    const st = fs.statSync(file);
    expect({ mode: st.mode & 0o7777, uid: st.uid, gid: st.gid }).toEqual({ mode, uid: 1234, gid: 5678 });
    expect(fs.readFileSync(file, 'utf8')).toBe('new');
  });

  it.each(modes)('explicit mode $octal', async ({ mode }) => {
    const dir = tmpdir();
    const file = path.join(dir, 'prog');
    fs.writeFileSync(file, 'old');
    fs.chownSync(file, 1234, 5678);
    fs.chmodSync(file, 0o644);
    const tx = begin({ dir });
    tx.write('prog', 'new', { mode });
    await tx.commit();
    const st = fs.statSync(file);
    expect({ mode: st.mode & 0o7777, uid: st.uid, gid: st.gid }).toEqual({ mode, uid: 1234, gid: 5678 });
  });

  it.each(modes)('writeFile agrees (mode $octal)', async ({ mode }) => {
    const dir = tmpdir();
    const file = path.join(dir, 'prog');
    fs.writeFileSync(file, 'old');
    fs.chownSync(file, 1234, 5678);
    fs.chmodSync(file, mode);
    await writeFile(file, 'new');
    expect(fs.statSync(file).mode & 0o7777).toBe(mode);
  });
});
