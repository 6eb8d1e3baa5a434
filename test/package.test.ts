// package.json as a user meets it: the packed tarball, installed into a project outside this
// checkout, imported, required, run as a bin and type-checked. (The tarball's file list, publint
// and attw are `npm run check:package`, which CI runs.)
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installTarball, pkg, repo, type Installed } from './helpers/install.js';

let installed: Installed;
beforeAll(() => {
  installed = installTarball();
}, 60_000);
afterAll(() => installed?.remove());

function run(file: string, args: readonly string[] = []): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(file.endsWith('txnfs') ? file : process.execPath, file.endsWith('txnfs') ? args : [file, ...args], {
    cwd: installed.project,
    encoding: 'utf8',
    timeout: 20_000,
    // NODE_OPTIONS from a test runner or a debugger would change what Node prints.
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function write(name: string, text: string): string {
  const file = path.join(installed.project, name);
  fs.writeFileSync(file, text);
  return file;
}

/** A tiny `^a.b.c || >=x.y.z` checker: enough for the form `engines.node` uses. */
function satisfies(version: string, range: string): boolean {
  const v = version.replace(/^v/, '').split('.').map(Number) as [number, number, number];
  return range.split('||').some((part) => {
    const m = /^\s*(\^|>=)(\d+)\.(\d+)\.(\d+)\s*$/.exec(part);
    if (m === null) throw new Error(`engines.node part not understood: ${part}`);
    const want = [Number(m[2]), Number(m[3]), Number(m[4])];
    const cmp = v[0] - want[0]! || v[1] - want[1]! || v[2] - want[2]!;
    return m[1] === '^' ? v[0] === want[0] && cmp >= 0 : cmp >= 0;
  });
}

describe('engines', () => {
  it('admits only Node versions where require(esm) is on by default', () => {
    // require(esm) was unflagged in 20.19.0 and 22.12.0; 21.x and 22.0-22.11 need a flag.
    expect(satisfies('20.19.0', pkg.engines.node)).toBe(true);
    expect(satisfies('22.12.0', pkg.engines.node)).toBe(true);
    expect(satisfies('24.0.0', pkg.engines.node)).toBe(true);
    expect(satisfies('20.18.3', pkg.engines.node)).toBe(false);
    expect(satisfies('21.7.3', pkg.engines.node)).toBe(false);
    expect(satisfies('22.11.0', pkg.engines.node)).toBe(false);
  });

  it('includes the Node running these tests, which has require(esm)', () => {
    expect(satisfies(process.version, pkg.engines.node)).toBe(true);
    expect(process.features.require_module).toBe(true);
  });
});

describe('the installed tarball', () => {
  it('works from CommonJS: require("txnfs") (require(esm)), one module instance shared with import()', () => {
    const dir = fs.mkdtempSync(path.join(installed.project, 'root-'));
    const file = write(
      'consumer.cjs',
      `const fs = require('node:fs');
const txnfs = require('txnfs');
const { begin, recover } = require('txnfs');
(async () => {
  const tx = begin({ dir: process.argv[2] });
  tx.write('a.txt', 'from require');
  const commit = await tx.commit();
  const report = await recover(process.argv[2]);
  const esm = await import('txnfs');
  console.log(JSON.stringify({
    keys: Object.keys(txnfs).sort(),
    written: commit.written,
    content: fs.readFileSync(process.argv[2] + '/a.txt', 'utf8'),
    recovered: report.rolledForward.length,
    sameInstance: esm.begin === begin && esm.TxnError === txnfs.TxnError,
    resolved: require.resolve('txnfs'),
  }));
})().catch((err) => { console.error(err); process.exit(1); });
`,
    );
    const r = run(file, [dir]);
    expect(r.stderr).toBe(''); // no ExperimentalWarning, no stack
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { keys: string[]; written: number; content: string; recovered: number; sameInstance: boolean; resolved: string };
    expect(out).toMatchObject({ written: 1, content: 'from require', recovered: 0, sameInstance: true });
    expect(out.resolved).toBe(path.join(installed.project, 'node_modules/txnfs/dist/bundle/index.js'));
    expect(out.keys).toEqual(
      ['Root', 'Transaction', 'TxnError', 'begin', 'codes', 'createWriteStream', 'defaults', 'doctor', 'fileDefaults', 'inspect', 'isTxnError', 'openRoot', 'openSnapshot', 'recover', 'transaction', 'update', 'writeFile', 'writeJson'].sort(),
    );
  });

  it('works from ESM, with the same exports', () => {
    const dir = fs.mkdtempSync(path.join(installed.project, 'root-'));
    const file = write(
      'consumer.mjs',
      `import * as txnfs from 'txnfs';
import { writeJson, transaction } from 'txnfs';
import { readFileSync } from 'node:fs';
const dir = process.argv[2];
await transaction({ dir }, (tx) => { tx.write('b.txt', 'from import'); });
await writeJson(dir + '/c.json', { ok: true });
console.log(JSON.stringify({ keys: Object.keys(txnfs).sort(), b: readFileSync(dir + '/b.txt', 'utf8'), c: readFileSync(dir + '/c.json', 'utf8') }));
`,
    );
    const r = run(file, [dir]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { keys: string[]; b: string; c: string };
    expect(out).toMatchObject({ b: 'from import', c: '{"ok":true}\n' });
    expect(out.keys).toContain('recover');
    expect(out.keys).toHaveLength(18);
  });

  it('exposes ".", "./s3" and "./package.json" only: internal modules are not importable', () => {
    const file = write(
      'deep.cjs',
      `for (const spec of ['txnfs/dist/io/faults.js', 'txnfs/dist/protocol/lock.js', 'txnfs/src/index.ts', 'txnfs/dist/s3/seam.js']) {
  try { require(spec); console.log(spec, 'loaded'); } catch (err) { console.log(spec, err.code); }
}
// Resolved, not loaded: the project has no @aws-sdk/client-s3 (an optional peer), and "txnfs"
// itself loaded above without it, so a local-only user installs nothing more.
console.log('s3', require.resolve('txnfs/s3').endsWith('node_modules/txnfs/dist/bundle/s3.js'));
console.log('version', require('txnfs/package.json').version);
`,
    );
    const r = run(file);
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([
      'txnfs/dist/io/faults.js ERR_PACKAGE_PATH_NOT_EXPORTED',
      'txnfs/dist/protocol/lock.js ERR_PACKAGE_PATH_NOT_EXPORTED',
      'txnfs/src/index.ts ERR_PACKAGE_PATH_NOT_EXPORTED',
      'txnfs/dist/s3/seam.js ERR_PACKAGE_PATH_NOT_EXPORTED',
      's3 true',
      `version ${pkg.version}`,
    ]);
    expect(Object.keys((pkg as unknown as { exports: object }).exports)).toEqual(['.', './s3', './package.json']);
    expect((pkg as unknown as { peerDependenciesMeta?: Record<string, { optional?: boolean }> }).peerDependenciesMeta?.['@aws-sdk/client-s3']?.optional).toBe(true);
  });

  it('runs no script when installed: no preinstall, install, postinstall or prepare (npm 11 warns about each)', () => {
    const shipped = JSON.parse(fs.readFileSync(path.join(installed.project, 'node_modules/txnfs/package.json'), 'utf8')) as { scripts?: Record<string, string> };
    const installTime = ['preinstall', 'install', 'postinstall', 'prepare'].filter((s) => shipped.scripts?.[s] !== undefined);
    expect(installTime).toEqual([]);
    // The build still runs whenever the package is packed (npm pack, npm publish).
    expect(shipped.scripts?.prepack).toBe('npm run build');
  });

  it('ships its bundle without JSDoc comments (read on every import) and its declarations with them (what an editor shows)', () => {
    const shipped = path.join(installed.project, 'node_modules/txnfs/dist');
    const bundle = fs.readdirSync(path.join(shipped, 'bundle')).filter((f) => f.endsWith('.js'));
    expect(bundle).toContain('index.js');
    expect(bundle.filter((f) => fs.readFileSync(path.join(shipped, 'bundle', f), 'utf8').includes('/**'))).toEqual([]);
    expect(fs.readFileSync(path.join(shipped, 'transaction/begin.d.ts'), 'utf8')).toContain('/**');
  });

  it("loads the main entry from four of the bundle's files, and the CLI's start and txnfs/s3 without proper-lockfile", () => {
    // What Node's ESM loader fetches, resolves and links for an entry: its static imports, file by
    // file (scripts/bundle.mjs groups the main entry's modules; split as rolldown would by itself,
    // they were ten files, 0.91x the CPU as few). A dynamic import() is not followed.
    const dir = path.join(installed.project, 'node_modules/txnfs/dist/bundle');
    const loads = (entry: string): Set<string> => {
      const seen = new Set<string>();
      const visit = (file: string): void => {
        if (seen.has(file)) return;
        seen.add(file);
        const text = fs.readFileSync(path.join(dir, file), 'utf8');
        for (const m of text.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s*["']\.\/([^"']+)["']|^import\s*["']\.\/([^"']+)["']/gm)) visit(m[1] ?? m[2]!);
      };
      visit(entry);
      return seen;
    };
    const lockfile = (files: Set<string>): boolean => [...files].some((f) => /["']proper-lockfile["']/.test(fs.readFileSync(path.join(dir, f), 'utf8')));
    const main = loads('index.js');
    expect(main.size).toBeGreaterThan(1); // the walk follows imports: index.js re-exports the core
    expect(main.size).toBeLessThanOrEqual(4);
    expect(lockfile(main)).toBe(true); // the check below can see it
    // `txnfs --version` or a mistyped command, and a process that only uses txnfs/s3: they load
    // neither the core nor proper-lockfile (nor its signal-exit), as before the grouping.
    expect(lockfile(loads('cli.js'))).toBe(false);
    expect(lockfile(loads('s3.js'))).toBe(false);
  });

  it('installs a working `txnfs` command in node_modules/.bin', () => {
    const bin = path.join(installed.project, 'node_modules/.bin/txnfs');
    const version = run(bin, ['--version']);
    expect(version.status).toBe(0);
    expect(version.stdout.trim()).toBe(pkg.version);
    const dir = fs.mkdtempSync(path.join(installed.project, 'root-'));
    const exec = run(bin, ['exec', dir, '--', process.execPath, '-e', `require('fs').writeFileSync(process.env.TXNFS_OUT + '/x.txt', 'x')`]);
    expect(exec.stderr).toBe('');
    expect(exec.status).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'x.txt'), 'utf8')).toBe('x');
    // The AWS SDK is an optional peer and is not installed here: an s3:// target says what to install.
    expect(fs.existsSync(path.join(installed.project, 'node_modules/@aws-sdk/client-s3'))).toBe(false);
    const s3 = run(bin, ['status', 's3://bucket/prefix']);
    expect(s3.status).toBe(1);
    expect(s3.stderr).toContain('npm install @aws-sdk/client-s3');
  });

  it('type-checks for TypeScript consumers, ESM and CommonJS (module nodenext), from the shipped .d.ts', () => {
    // Each file also asserts one type error, so a declaration that degraded to `any` fails here.
    write(
      'index.mts',
      `import { begin, recover, isTxnError, codes, type CommitResult, type RecoverReport } from 'txnfs';
const tx = begin({ dir: 'out', durability: 'none' });
tx.write('a.json', '{}');
const result: CommitResult = await tx.commit();
const report: RecoverReport = await recover('out', { dryRun: true });
export const summary = [result.written, report.rolledForward.length, isTxnError(null), codes.EPRECONDITION];
// @ts-expect-error: durability is 'full' | 'none'
begin({ durability: 'fast' });
`,
    );
    write(
      'index.cts',
      `import txnfs = require('txnfs');
export async function main(): Promise<number> {
  const r = await txnfs.writeFile('a.txt', 'x', { mode: 0o600 });
  return r.bytes;
}
// @ts-expect-error: no such export
txnfs.commitAll();
`,
    );
    write(
      'tsconfig.json',
      JSON.stringify({
        compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true, types: ['node'], skipLibCheck: false },
        files: ['index.mts', 'index.cts'],
      }),
    );
    const r = spawnSync(process.execPath, [path.join(repo, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json', '--listFiles'], {
      cwd: installed.project,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.stdout.split('\n').filter((l) => l.startsWith('error') || l.includes('error TS'))).toEqual([]);
    expect(r.status).toBe(0);
    // The declarations came from the installed tarball, not from this checkout.
    expect(r.stdout).toContain(path.join(installed.project, 'node_modules/txnfs/dist/index.d.ts'));
    expect(r.stdout).not.toContain(path.join(repo, 'src'));
  }, 60_000);
});
