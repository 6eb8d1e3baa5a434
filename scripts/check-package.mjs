#!/usr/bin/env node
// npm run check:package: pack the package exactly as `npm publish` would, then lint the tarball.
//
//   1. `npm pack` into a temp dir (scripts skipped: the npm script builds dist/ first);
//   2. the file list: every file a user needs is there, and nothing else is (no sources, tests,
//      source maps, docs or examples), so a stray file fails CI instead of shipping. The code is
//      the bundle, dist/bundle/ (scripts/bundle.mjs: the entries "txnfs", "txnfs/s3" and the bin,
//      and the chunks they share); tsc's modules stay out of the tarball, their declarations
//      (dist/**/*.d.ts) ship, since index.d.ts re-exports types from the internal ones. The
//      bundle holds the test-only fault hook too (the library calls its step() at each protocol
//      point: one property read when no hook is set); the `exports` map keeps every internal path
//      unreachable (`require('txnfs/dist/io/faults.js')` fails: test/package.test.ts);
//   3. publint --strict on the tarball (package.json fields, exports, bin, file formats);
//   4. @arethetypeswrong/cli on the tarball (types resolve for every module-resolution mode).
//
// Offline: the tarball is built and read locally; attw is told not to look up @types packages
// (`--no-definitely-typed`), which is the only thing it would fetch.
//
// attw runs with `--ignore-rules cjs-resolves-to-esm`. txnfs is ESM-only on purpose: one module
// instance per process keeps the in-process lock queues and file queues single (a dual CJS/ESM
// build would let two copies serialise independently: the dual-package hazard). `require('txnfs')`
// still works on the Node versions in `engines` (require(esm), unflagged in 20.19 and 22.12), and
// TypeScript >= 5.8 types it under `"module": "nodenext"`. attw's bundled TypeScript predates
// require(esm), so it reports that resolution as a problem; test/package.test.ts instead installs
// the tarball, requires it for real and type-checks a CommonJS consumer with the project's tsc.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'txnfs-pack-'));
let failed = false;

/** Everything the tarball may hold; anything else fails the check. */
const allowed = [/^package\.json$/, /^README\.md$/, /^CHANGELOG\.md$/, /^LICENSE$/, /^dist\/((cli|generations|io|options|platform|protocol|protocol\/lock|s3|single|transaction)\/)?[a-z0-9-]+\.d\.ts$/, /^dist\/bundle\/[A-Za-z0-9_-]+\.js$/];
/** What it must hold. */
const required = ['package.json', 'README.md', 'CHANGELOG.md', 'LICENSE', 'dist/bundle/index.js', 'dist/index.d.ts', 'dist/bundle/cli.js', 'dist/bundle/s3.js', 'dist/s3/index.d.ts'];

function run(label, file, args) {
  console.log(`\n$ ${label}`);
  try {
    execFileSync(file, args, { cwd: root, stdio: 'inherit' });
  } catch {
    failed = true;
    console.error(`check:package: ${label} failed (see above).`);
  }
}

try {
  const [packed] = JSON.parse(execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', out], { cwd: root, encoding: 'utf8' }));
  const tarball = path.join(out, packed.filename);
  const files = packed.files.map((f) => f.path);
  console.log(`Packed ${tarball}: ${files.length} files, ${(packed.size / 1024).toFixed(1)} KiB`);
  const stray = files.filter((f) => !allowed.some((re) => re.test(f)));
  const missing = required.filter((f) => !files.includes(f));
  // Every declaration must have the source it was made from (a declaration of a module that no
  // longer exists is stale), and so must every bundle entry that a package.json field names.
  const sources = new Set(execFileSync('git', ['ls-files', 'src'], { cwd: root, encoding: 'utf8' }).split('\n'));
  const unpaired = files.filter((f) => f.endsWith('.d.ts') && !sources.has(f.replace(/^dist\//, 'src/').replace(/\.d\.ts$/, '.ts')));
  for (const [what, list] of [['not allowed in the tarball', stray], ['missing from the tarball', missing], ['a declaration without its source in src/', unpaired]]) {
    if (list.length > 0) {
      failed = true;
      console.error(`check:package: ${what}: ${list.join(', ')}. Fix "files" in package.json (or the build).`);
    }
  }
  run('publint --strict', bin('publint'), ['--strict', tarball]);
  run('attw', bin('attw'), [tarball, '--no-definitely-typed', '--ignore-rules', 'cjs-resolves-to-esm', '--format', 'ascii']);
} finally {
  fs.rmSync(out, { recursive: true, force: true });
}
if (failed) process.exit(1);
console.log('\ncheck:package: the tarball is clean.');
