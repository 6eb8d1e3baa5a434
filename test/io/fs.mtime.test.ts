import * as nodeFs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as fs from '../../src/io/fs.js';
import { tmpdir } from '../helpers/tmp.js';

describe('Info.mtimeMs', () => {
  it('equals the mtime Node reports after utimes() with every millisecond value (proper-lockfile compares them)', async () => {
    const p = path.join(tmpdir(), 'f');
    nodeFs.writeFileSync(p, '');
    const base = Math.floor(Date.now() / 1000) * 1000;
    const mismatches: number[] = [];
    for (let ms = 0; ms < 1000; ms++) {
      const when = new Date(base + ms);
      await fs.utimes(p, when, when);
      const info = await fs.stat(p);
      if (info.mtimeMs !== when.getTime() || info.mtimeMs !== nodeFs.statSync(p).mtime.getTime()) mismatches.push(ms);
    }
    expect(mismatches).toEqual([]);
  });
});
