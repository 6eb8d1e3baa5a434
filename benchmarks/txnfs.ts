/**
 * txnfs.ts: the txnfs every benchmark measures is the one `import 'txnfs'` loads, the package's
 * bundle (dist/bundle/index.js, package.json "exports"), not tsc's module-per-file build of src/
 * that the benchmarks themselves are compiled with. The two run the same code, but a process
 * that loads a hundred modules instead of a dozen chunks starts its first commit with a different
 * heap, and V8 grows its young generation at a threshold that the process's history counts
 * towards (docs/performance.md, "Memory: the young generation's threshold"). On 2026-12-06 the
 * scale section measured 1,222-1,294 B per entry at 10,000 files through tsc's modules (young
 * generation 16 MiB in every run), and 500-703 B through the bundle (8 MiB in every run).
 *
 * `npm run bench` builds the bundle first. The types are src/'s, which the bundle is built from.
 */
import type * as Txnfs from '../src/index.js';

// From .bench-tmp/build/benchmarks/ (where tsc puts this file) to the repository's dist/.
const bundle = new URL('../../../dist/bundle/index.js', import.meta.url);

export const { begin, recover, openSnapshot } = (await import(bundle.href)) as typeof Txnfs;
