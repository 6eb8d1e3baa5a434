import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repo } from './install.js';

/**
 * Type-check `files` (relative to `dir`, or absolute) the way a user's strict ESM project would
 * (`module: nodenext`), with `txnfs` resolved to `txnfsAt` (the built declarations, or src/index.ts), `txnfs/s3` to its sibling
 * and Node's types from this checkout. Returns tsc's error lines: [] when everything checks.
 */
export function typecheck(dir: string, files: readonly string[], txnfsAt: string, extra: Record<string, unknown> = {}): string[] {
  fs.writeFileSync(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        module: 'nodenext',
        moduleResolution: 'nodenext',
        target: 'es2022',
        lib: ['ES2022', 'ESNext.Disposable'],
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: ['node'],
        typeRoots: [path.join(repo, 'node_modules/@types')],
        // txnfs/s3 sits next to the entry point; the SDK (its optional peer) from this checkout.
        paths: {
          txnfs: [txnfsAt],
          'txnfs/s3': [txnfsAt.replace(/index(\.d)?\.ts$/, 's3/index$1.ts')],
          '@aws-sdk/client-s3': [path.join(repo, 'node_modules/@aws-sdk/client-s3/dist-types/index.d.ts')],
        },
        ...extra,
      },
      files,
    }),
  );
  const r = spawnSync(process.execPath, [path.join(repo, 'node_modules/typescript/bin/tsc'), '-p', path.join(dir, 'tsconfig.json')], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  if (r.error !== undefined) throw r.error;
  const errors = r.stdout.trim().split('\n').filter((l) => l.includes('error TS'));
  if (r.status !== 0 && errors.length === 0) throw new Error(`tsc failed without an error line: ${r.stdout}${r.stderr}`);
  return errors;
}
