import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

it('npm run demo shows a torn plain-fs export and two txnfs crashes recovered to all-or-nothing', () => {
  const demo = fileURLToPath(new URL('../examples/demo.mjs', import.meta.url));
  const r = spawnSync(process.execPath, [demo], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  const lines = r.stdout.split('\n');
  const after = lines.filter((l) => l.includes('after recover()'));
  const crashed = lines.filter((l) => l.includes('after the crash'));
  expect(crashed[0]).toMatch(/v1: 17 {2}v2: 22 {2}unreadable: 1 .*TORN/);
  // txnfs killed mid-commit: as many files renamed as its heading says, none cut short.
  expect(r.stdout).toContain('with 22 of 40 renames done:');
  expect(crashed[1]).toMatch(/v1: 18 {2}v2: 22 {2}unreadable: 0 .*TORN/);
  expect(r.stdout).toContain('so it did the 18 renames left');
  expect(after[0]).toMatch(/v1: {2}0 {2}v2: 40 .*all new/);
  expect(after[1]).toMatch(/v1: 40 {2}v2: {2}0 .*all old/);
  // The closing comparison: the same kill mid-commit, plain fs against txnfs after recover().
  expect(lines.find((l) => l.startsWith('  plain fs '))).toMatch(/17 old, 22 new, 1 cut short .*TORN/);
  expect(lines.find((l) => l.startsWith('  txnfs '))).toMatch(/ 0 old, 40 new, 0 cut short .*all new/);
  expect(r.stdout).toContain('Left in .txnfs/ after recovery: nothing.');
});
