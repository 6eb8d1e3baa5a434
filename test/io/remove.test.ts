import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { faults } from '../../src/io/faults.js';
import { errnoError } from '../helpers/errno.mjs';
import { removeKnown } from '../../src/io/remove.js';
import { tmpdir } from '../helpers/tmp.js';

afterEach(() => {
  faults.hook = undefined;
});

/** The mutating ops the seam sees while `run` runs. */
async function ops(run: () => Promise<unknown>, fail?: (op: string, p: string) => boolean): Promise<string[]> {
  const seen: string[] = [];
  faults.hook = (e) => {
    if (e.kind !== 'op' || !e.mutating) return;
    seen.push(`${e.op} ${path.basename(e.path)}`);
    if (fail?.(e.op, e.path)) throw errnoError('EIO', e.op, e.path);
  };
  try {
    await run();
  } finally {
    faults.hook = undefined;
  }
  return seen;
}

function layout(): string {
  const dir = path.join(tmpdir(), 'staging');
  fs.mkdirSync(path.join(dir, 'files'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'backup'));
  fs.writeFileSync(path.join(dir, 'rollback.tmp'), '');
  return dir;
}

describe('removeKnown', () => {
  it('removes the expected entries with one call each, then the directory, and no walk', async () => {
    const dir = layout();
    const seen = await ops(() => removeKnown(dir, [path.join(dir, 'rollback.tmp')], [path.join(dir, 'files'), path.join(dir, 'backup')]));
    expect(fs.existsSync(dir)).toBe(false);
    expect(seen.sort()).toEqual(['rmdir backup', 'rmdir files', 'rmdir staging', 'unlink rollback.tmp']);
  });

  it('is fine with expected entries that are already gone, and with the directory gone', async () => {
    const dir = layout();
    fs.rmdirSync(path.join(dir, 'backup'));
    await removeKnown(dir, [path.join(dir, 'rollback.tmp'), path.join(dir, 'journal.tmp')], [path.join(dir, 'files'), path.join(dir, 'backup')]);
    expect(fs.existsSync(dir)).toBe(false);
    await removeKnown(dir, [], []);
  });

  it('falls back to rm -rf for what it did not expect (files left in files/, an extra entry)', async () => {
    const dir = layout();
    fs.writeFileSync(path.join(dir, 'files', '0'), 'staged');
    fs.mkdirSync(path.join(dir, 'tmp', 'deep'), { recursive: true });
    const seen = await ops(() => removeKnown(dir, [path.join(dir, 'rollback.tmp')], [path.join(dir, 'files'), path.join(dir, 'backup')]));
    expect(fs.existsSync(dir)).toBe(false);
    expect(seen).toContain('removeTree staging');
  });

  it('throws a real failure instead of hiding it behind the fallback', async () => {
    const dir = layout();
    await expect(ops(() => removeKnown(dir, [path.join(dir, 'rollback.tmp')], [path.join(dir, 'files')]), (op) => op === 'unlink')).rejects.toMatchObject({ code: 'EIO' });
    expect(fs.existsSync(dir)).toBe(true);
  });
});
