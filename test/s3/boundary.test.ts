// The AWS SDK is an optional peer: only modules under src/s3/ (reached through "txnfs/s3") may
// import it, or a local-only user of "txnfs" would need it installed.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const src = path.resolve(import.meta.dirname, '../../src');

describe('the S3 boundary', () => {
  it('nothing outside src/s3/ imports @aws-sdk/* or src/s3/ statically (a type import is erased), and src/index.ts does not reach src/s3/', () => {
    // The CLI reaches src/s3/ for s3:// targets with `await import(...)` only (src/cli/s3.ts).
    const staticValueImport = /^\s*(?:import|export)\s+(?!type\b)[^;]*?from '(@aws-sdk\/|\.\.?\/(.*\/)?s3\/)/m;
    const offenders = (fs.readdirSync(src, { recursive: true }) as string[])
      .filter((f) => f.endsWith('.ts') && !f.startsWith(`s3${path.sep}`))
      .filter((f) => staticValueImport.test(fs.readFileSync(path.join(src, f), 'utf8')));
    expect(offenders).toEqual([]);
    // The check can fail: a static import of the store, as the CLI must not write it.
    expect(staticValueImport.test("import { s3Store } from '../s3/store.js';")).toBe(true);
    expect(staticValueImport.test("import type { S3Store } from '../s3/store.js';")).toBe(false);
    expect(fs.readFileSync(path.join(src, 'index.ts'), 'utf8')).not.toMatch(/s3\//);
    // The check can fail: the SDK is imported under src/s3/.
    expect(fs.readFileSync(path.join(src, 's3/seam.ts'), 'utf8')).toMatch(/from '@aws-sdk\/client-s3'/);
  });
});
