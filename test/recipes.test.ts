// docs/recipes.md is run, block by block, and each block's result is checked, so the recipes
// cannot rot. A block is named by the `<!-- run: <name> -->` comment above it; every block of the
// page must have one, and every name below must be on the page. TypeScript blocks are compiled as
// they are (TypeScript's transpileModule: types dropped, nothing else changed) and run with Node
// in a fresh project whose node_modules/txnfs is this package (its dist/, what users get); shell
// and make blocks run with `txnfs` on PATH. test/docs.test.ts type-checks the TypeScript blocks.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { binDir } from './helpers/examples.js';
import { start, type ChildResult } from './helpers/child.js';
import { repo } from './helpers/install.js';
import { leftovers, tmpdir } from './helpers/tmp.js';

interface Recipe {
  readonly name: string;
  readonly lang: string;
  readonly code: string;
}

/** The blocks of docs/recipes.md, each with the name of its `<!-- run: name -->` comment. */
function recipes(): Recipe[] {
  const lines = fs.readFileSync(path.join(repo, 'docs/recipes.md'), 'utf8').split('\n');
  const out: Recipe[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(`{3,})(\S*)/.exec(lines[i] as string);
    if (open === null) continue;
    let j = i + 1;
    while (j < lines.length && !(lines[j] as string).startsWith(open[1] as string)) j++;
    const name = /^<!-- run: ([\w-]+) -->$/.exec((lines[i - 1] ?? '').trim())?.[1];
    if (name === undefined) throw new Error(`docs/recipes.md:${i + 1}: a block without a <!-- run: name --> comment above it`);
    out.push({ name, lang: open[2] as string, code: lines.slice(i + 1, j).join('\n') });
    i = j;
  }
  return out;
}

const all = recipes();
const byName = new Map(all.map((r) => [r.name, r]));

function recipe(name: string): Recipe {
  const r = byName.get(name);
  if (r === undefined) throw new Error(`docs/recipes.md has no block <!-- run: ${name} -->`);
  return r;
}

/** A fresh project: node_modules/txnfs is this package, bin/txnfs its command. */
function project(): { dir: string; env: NodeJS.ProcessEnv } {
  const dir = tmpdir('txnfs-recipe-');
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(repo, path.join(dir, 'node_modules/txnfs'), 'dir');
  const bin = binDir(path.join(dir, '.tools'));
  return { dir, env: { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}` } };
}

/** Write recipe `name` into `dir` as a program: `<file>` (.mjs for TypeScript, compiled). */
function save(dir: string, name: string, file: string): string {
  const r = recipe(name);
  const code =
    r.lang === 'ts'
      ? ts.transpileModule(r.code, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText
      : r.code;
  fs.writeFileSync(path.join(dir, file), code);
  return file;
}

/** Run a command in `dir` to its end. */
function run(dir: string, env: NodeJS.ProcessEnv, argv: readonly string[], timeoutMs = 30_000): Promise<ChildResult> {
  const [cmd, ...args] = argv as [string, ...string[]];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ status: code, signal, stdout, stderr });
    });
  });
}

const json = (file: string): unknown => JSON.parse(fs.readFileSync(file, 'utf8'));

describe('docs/recipes.md', () => {
  it('names every block, and every block is run below', () => {
    expect(all.map((r) => r.name).sort()).toEqual(['config', 'exec', 'export', 'generations', 'job-state', 'kill-test', 'make', 'retry', 'sync'].sort());
  });

  it('export: every output of a run lands, with its manifest; nothing is left in out/', async () => {
    const { dir, env } = project();
    fs.writeFileSync(path.join(dir, 'input.json'), JSON.stringify({ version: 7, orders: [{ id: 1, total: 5 }, { id: 2, total: 9 }] }));
    const r = await run(dir, env, [process.execPath, save(dir, 'export', 'export.mjs')]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('exported 3 files of version 7\n');
    expect(json(path.join(dir, 'out/2.json'))).toEqual({ version: 7, id: 2, total: 9 });
    expect(json(path.join(dir, 'out/manifest.json'))).toEqual({ version: 7, ids: [1, 2] });
    expect(leftovers(path.join(dir, 'out'))).toEqual([]);
  });

  it('kill-test: passes on the export job, killed at random 20 times', async () => {
    const { dir, env } = project();
    save(dir, 'export', 'export.mjs');
    const r = await run(dir, env, [process.execPath, save(dir, 'kill-test', 'kill-test.mjs')], 90_000);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const killed = Number(/^killed (\d+) of 20 runs; after recover\(\) every one was all old or all new\n$/.exec(r.stdout)?.[1]);
    // The random delays must reach into the job's runs, or the test proves nothing.
    expect(killed).toBeGreaterThan(0);
  }, 120_000);

  it('kill-test: fails on the same job written with plain fs.writeFile (what the page says)', async () => {
    const { dir, env } = project();
    // The export job of the page, with each tx.writeJson an fs.writeFile (flushed, as a careful
    // plain job would) and no transaction.
    fs.writeFileSync(
      path.join(dir, 'export.mjs'),
      `import * as fs from 'node:fs/promises';
const input = JSON.parse(await fs.readFile('input.json', 'utf8'));
await fs.mkdir('out', { recursive: true });
for (const order of input.orders) await fs.writeFile(\`out/\${order.id}.json\`, JSON.stringify({ version: input.version, ...order }), { flush: true });
await fs.writeFile('out/manifest.json', JSON.stringify({ version: input.version, ids: input.orders.map((o) => o.id) }), { flush: true });
`,
    );
    save(dir, 'kill-test', 'kill-test.mjs');
    // Random kills: give it three tries to land one mid-run (each try is 20 runs).
    const results: ChildResult[] = [];
    for (let i = 0; i < 3 && !results.some((r) => r.status !== 0); i++) results.push(await run(dir, env, [process.execPath, 'kill-test.mjs'], 90_000));
    const failed = results.find((r) => r.status !== 0);
    expect(failed?.stderr).toMatch(/a mix of versions/);
  }, 300_000);

  it('sync: the directory holds exactly the given files afterwards', async () => {
    const { dir, env } = project();
    for (const [rel, data] of [['index.html', 'old'], ['old.html', 'old'], ['blog/old-post.html', 'old'], ['assets/app.css', 'old']]) {
      fs.mkdirSync(path.dirname(path.join(dir, 'site', rel as string)), { recursive: true });
      fs.writeFileSync(path.join(dir, 'site', rel as string), data as string);
    }
    const r = await run(dir, env, [process.execPath, save(dir, 'sync', 'sync.mjs')]);
    expect(r.stderr).toBe('');
    // Stale files go, and so do the directories they leave empty (assets/).
    expect(r.stdout).toBe('blog blog/first.html index.html\n');
    expect(fs.readFileSync(path.join(dir, 'site/index.html'), 'utf8')).toBe('<h1>Home</h1>\n');
    expect(fs.readFileSync(path.join(dir, 'site/blog/first.html'), 'utf8')).toBe('<h1>First post</h1>\n');
    expect(leftovers(path.join(dir, 'site'))).toEqual([]);
  });

  it('generations: the pinned reader reads version 1 to the end while version 2 is published', async () => {
    const { dir, env } = project();
    const r = await run(dir, env, [process.execPath, save(dir, 'generations', 'publish.mjs')]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('reader: generation 1: <h1>version 1</h1>, data.json version 1\nwriter: published generation 2\n');
    expect(fs.lstatSync(path.join(dir, 'site')).isSymbolicLink()).toBe(true);
    expect(json(path.join(dir, 'site/data.json'))).toEqual({ version: 2 });
  });

  it('config: one setting changes; the others, the mode and the file stay', async () => {
    const { dir, env } = project();
    const file = path.join(dir, 'config.json');
    fs.writeFileSync(file, JSON.stringify({ name: 'billing', port: 8080, debug: false }));
    fs.chmodSync(file, 0o640);
    const r = await run(dir, env, [process.execPath, save(dir, 'config', 'set-port.mjs')]);
    expect(r.stderr).toBe('');
    expect(fs.readFileSync(file, 'utf8')).toBe(`${JSON.stringify({ name: 'billing', port: 8081, debug: false }, null, 2)}\n`);
    expect(fs.statSync(file).mode & 0o777).toBe(0o640);
    expect(leftovers(dir)).toEqual([]);
  });

  it('job-state: four workers at once, and every finished job is in the file', async () => {
    const { dir, env } = project();
    const file = save(dir, 'job-state', 'worker.mjs');
    const workers = ['w1', 'w2', 'w3', 'w4'];
    const results = await Promise.all(workers.map((w) => run(dir, env, [process.execPath, file, w])));
    expect(results.map((r) => r.stderr + String(r.status))).toEqual(workers.map(() => '0'));
    const { done } = json(path.join(dir, 'state/jobs.json')) as { done: string[] };
    expect(done.sort()).toEqual(workers.flatMap((w) => [1, 2, 3, 4, 5].map((j) => `${w}-${j}`)).sort());
  }, 60_000);

  it('retry: a commit that met a held root lock (ELOCKED) is retried and lands once the holder is gone', async () => {
    const { dir, env } = project();
    fs.mkdirSync(path.join(dir, 'out/.txnfs'), { recursive: true });
    const holder = start('hold-lock.mjs', [path.join(dir, 'out/.txnfs/lock')]);
    await new Promise<void>((resolve) => holder.child.stdout?.on('data', (d: Buffer) => d.toString().includes('LOCKED') && resolve()));
    // The holder keeps the lock until the recipe's first attempt has given up (ELOCKED), then dies:
    // the retry must land.
    const file = save(dir, 'retry', 'retry.mjs');
    const recipeRun = new Promise<ChildResult>((resolve, reject) => {
      const child = spawn(process.execPath, [file], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        stderr += d;
        if (stderr.includes('ELOCKED')) holder.child.kill('SIGKILL');
      });
      child.on('error', reject);
      child.on('close', (code, signal) => resolve({ status: code, signal, stdout, stderr }));
    });
    const timer = setTimeout(() => holder.child.kill('SIGKILL'), 50_000); // never leave it behind
    const r = await recipeRun;
    clearTimeout(timer);
    await holder.done;
    expect(r.stderr).toMatch(/^attempt 1: ELOCKED; nothing changed, retrying\n/);
    expect(r.stdout).toBe('committed\n');
    expect(fs.readFileSync(path.join(dir, 'out/report.txt'), 'utf8')).toBe('all good\n');
  }, 60_000);

  it('exec: the Python job\'s files land in out/ together', async () => {
    const { dir, env } = project();
    const r = await run(dir, env, ['sh', save(dir, 'exec', 'nightly.sh')]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('part-0.json\npart-1.json\npart-2.json\n');
    expect(json(path.join(dir, 'out/part-2.json'))).toEqual({ part: 2 });
  });

  it('make: the rule\'s two reports land together, and a failing rule leaves the old ones', async () => {
    const { dir, env } = project();
    save(dir, 'make', 'Makefile');
    fs.writeFileSync(path.join(dir, 'sales.csv'), 'c,3\na,1\nb,2\n');
    const r = await run(dir, env, ['make', 'reports/count.txt']);
    expect(r.status, r.stderr).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'reports/sorted.csv'), 'utf8')).toBe('a,1\nb,2\nc,3\n');
    expect(fs.readFileSync(path.join(dir, 'reports/count.txt'), 'utf8')).toBe('3\n');

    // The input becomes something `sort` cannot read (a directory): the job fails, `txnfs` exits
    // with its status, make stops, and the old reports stay as they were.
    fs.rmSync(path.join(dir, 'sales.csv'));
    fs.mkdirSync(path.join(dir, 'sales.csv'));
    const failed = await run(dir, env, ['make', 'reports/count.txt']);
    expect(failed.status).not.toBe(0);
    expect(failed.stderr).toMatch(/sort/);
    expect(fs.readFileSync(path.join(dir, 'reports/count.txt'), 'utf8')).toBe('3\n');
    expect(fs.readFileSync(path.join(dir, 'reports/sorted.csv'), 'utf8')).toBe('a,1\nb,2\nc,3\n');
    expect(leftovers(path.join(dir, 'reports'))).toEqual([]);
  });
});
