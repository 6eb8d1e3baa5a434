import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';

/** Build dist/ (and its bundle) once, so child-process fixtures run the code under test, not a stale build. */
export default function setup(): void {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.build.json')], {
    cwd: root,
    stdio: 'inherit',
  });
  // As `npm run build` does: the bundle that the package's entries name (what examples, the demo
  // and the package tests load as 'txnfs'), then the bin must be executable, and tests run it by its shebang.
  execFileSync(process.execPath, [path.join(root, 'scripts/bundle.mjs')], { cwd: root, stdio: 'inherit' });
  execFileSync(process.execPath, [path.join(root, 'scripts/chmod-bin.mjs')], { cwd: root, stdio: 'inherit' });
}
