// Bundle what the package's entry points load into dist/bundle/, after tsc: `index.js` ("txnfs"),
// `s3.js` ("txnfs/s3") and `cli.js` (the `txnfs` bin), with the code they share in chunks, so
// that both entries of one process load one copy of every module. Run by `npm run build`.
//
// Why: loading txnfs as tsc leaves it, about 120 modules one by one through Node's ESM loader,
// took 130-160 ms before the first commit could run (a process that commits once and exits:
// `txnfs exec` around a small tool, a CLI, a cron job, a worker spawned per task). As one file it
// takes about a third of that (docs/performance.md, item 24). The runtime dependencies stay
// outside (imported from node_modules, as the user installed them), and so does the optional
// peer @aws-sdk/client-s3.
//
// dist/ keeps tsc's modules: the type declarations live there, and the tests import internal
// modules by path (the fault hook, the filesystem seam). The fault hook is shared through
// globalThis (src/io/faults.ts), so a test that sets it also reaches a bundle in its process.
import * as fs from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(fs.readFileSync(join(root, 'package.json'), 'utf8'));
const outside = new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {}), ...builtinModules]);
const out = join(root, 'dist', 'bundle');

// The modules `import 'txnfs'` loads: dist/index.js and everything it imports statically, as tsc
// left them (type-only imports are gone; a dynamic `import()` is not followed). They go into as
// few chunks as the other entries allow: left to rolldown, shared code is split by which entries
// share it, and the main entry was ten files, each resolved, linked and evaluated on its own by
// Node's ESM loader. As four (index.js, `core`, `shared`, `errors`), `import 'txnfs'` in a fresh
// process took 155.1 against 168.9 ms of CPU and 47.3 against 52.4 ms (medians of 25 alternating
// loads; docs/performance.md, item 37). A process that loads two entries still has one copy of
// each module.
function staticGraph(entry) {
  const seen = new Set();
  const visit = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s+'(\.{1,2}\/[^']+)';|^import\s+'(\.{1,2}\/[^']+)';/gm)) {
      visit(join(dirname(file), m[1] ?? m[2]));
    }
  };
  visit(entry);
  return seen;
}
const main = staticGraph(join(root, 'dist/index.js'));
const s3 = staticGraph(join(root, 'dist/s3/index.js'));
const cliStart = staticGraph(join(root, 'dist/cli.js'));
// The other entries load only what they loaded before: what the CLI's start (`txnfs --version`,
// `--help`, a mistyped command) shares with the main entry is `errors` (errors.js alone today),
// what txnfs/s3 shares with it is `shared`; neither loads the core, nor proper-lockfile with it
// (`test/package.test.ts` checks both).
const errorsGroup = new Set([...main].filter((file) => cliStart.has(file)));
const sharedGroup = new Set([...main].filter((file) => s3.has(file) && !errorsGroup.has(file)));
const groups = [
  { name: 'errors', test: (id) => errorsGroup.has(id), priority: 2 },
  { name: 'shared', test: (id) => sharedGroup.has(id), priority: 1 },
  { name: 'core', test: (id) => main.has(id) && !errorsGroup.has(id) && !sharedGroup.has(id) },
];
fs.rmSync(out, { recursive: true, force: true });
await build({
  input: { index: join(root, 'dist/index.js'), s3: join(root, 'dist/s3/index.js'), cli: join(root, 'dist/cli.js') },
  platform: 'node',
  // A dependency by its name or any path inside it (`fs-extra/lib/...`), and every builtin.
  external: (id) => id.startsWith('node:') || outside.has(id) || outside.has(id.split('/').slice(0, id.startsWith('@') ? 2 : 1).join('/')),
  logLevel: 'warn',
  // Without the JSDoc comments (the `//` ones never reach a bundle): they were a third of its
  // bytes, and every process reads, decodes and scans them on import. `import 'txnfs'` took 57.7
  // against 70.9 ms (medians of 61 alternating loads; docs/performance.md, item 35). The comments
  // stay in src/ and in the type declarations beside it (dist/*.d.ts), which is where an editor
  // shows them. Annotations (`@__PURE__`) and legal comments are kept for whoever bundles txnfs.
  output: { dir: out, format: 'esm', entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js', sourcemap: false, codeSplitting: { groups }, comments: { jsdoc: false, annotation: true, legal: true } },
});
