/**
 * The filesystem seam: src/io/fs.ts is the only module that may touch the filesystem, so that the
 * fault hooks of src/io/faults.ts see every operation the library performs. These tests parse every
 * module of src/ (test/helpers/imports.ts) and fail on any other way in.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { FS_MODULE, findImports, seamViolations } from '../helpers/imports.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const srcDir = path.join(repo, 'src');
const SEAM = 'src/io/fs.ts';
/** The real implementation behind the seam: it may touch the filesystem, and only SEAM imports it. */
const NODE_IMPL = 'src/io/node-fs.ts';

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(p));
    else if (/\.(?:ts|mts|cts|js|mjs|cjs)$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out.sort();
}

describe('the filesystem seam', () => {
  it('no module of src/ other than src/io/fs.ts reaches fs, fs/promises, fs-extra or graceful-fs', () => {
    const files = sourceFiles(srcDir);
    expect(files.length).toBeGreaterThan(10);
    const violations = files.flatMap((f) => {
      const rel = path.relative(repo, f).split(path.sep).join('/');
      return seamViolations(rel, fs.readFileSync(f, 'utf8'), rel === SEAM || rel === NODE_IMPL);
    });
    expect(violations).toEqual([]);
  });

  it('only src/io/fs.ts imports the real implementation (src/io/node-fs.ts): every other call is reported', () => {
    const importers = sourceFiles(srcDir)
      .map((f) => path.relative(repo, f).split(path.sep).join('/'))
      .filter((rel) => findImports(fs.readFileSync(path.join(repo, rel), 'utf8'), rel).some((i) => /(?:^|\/)node-fs\.js$/.test(i.specifier)));
    expect(importers).toEqual([SEAM]);
  });

  it('sees the imports src/io/fs.ts and src/io/node-fs.ts really have (the checker reads real modules, not nothing)', () => {
    const fsImports = (file: string): string[] =>
      findImports(fs.readFileSync(path.join(repo, file), 'utf8'), file)
        .filter((f) => FS_MODULE.test(f.specifier) && !f.typeOnly)
        .map((f) => `${f.form} ${f.specifier}`)
        .sort();
    expect(fsImports(SEAM)).toEqual(['import node:fs', 'import node:fs/promises']);
    // fs-extra is loaded on first use (node-fs.ts), through createRequire: seen all the same.
    expect(fsImports(NODE_IMPL)).toEqual(['createRequire()() fs-extra', 'import node:fs', 'import node:fs/promises']);
    // and the same text anywhere else is a violation
    expect(seamViolations('src/protocol/apply.ts', fs.readFileSync(path.join(repo, NODE_IMPL), 'utf8'), false).length).toBeGreaterThanOrEqual(3);
  });

  it('fails for a real module with one filesystem import added', () => {
    const apply = fs.readFileSync(path.join(srcDir, 'protocol', 'apply.ts'), 'utf8');
    expect(seamViolations('src/protocol/apply.ts', apply, false)).toEqual([]);
    const broken = `${apply}\nimport { renameSync } from 'node:fs';\nexport const oops = renameSync;\n`;
    expect(seamViolations('src/protocol/apply.ts', broken, false)).toEqual([
      { file: 'src/protocol/apply.ts', line: apply.split('\n').length + 1, message: "import of 'node:fs': only src/io/fs.ts (and node-fs.ts behind it) may touch the filesystem" },
    ]);
  });

  // [source, flagged?]: every form a module could use to reach the filesystem, and the harmless
  // look-alikes that must not be flagged.
  const cases: [string, boolean][] = [
    [`import * as fs from 'fs';`, true],
    [`import fs from 'node:fs';`, true],
    [`import { readFile } from 'fs/promises';`, true],
    [`import { rename } from 'node:fs/promises';`, true],
    [`import fse from 'fs-extra';`, true],
    [`import { outputFile } from 'fs-extra/esm';`, true],
    [`import gfs from 'graceful-fs';`, true],
    [`import 'node:fs';`, true],
    [`import { type Stats } from 'node:fs'; export let s: Stats;`, true], // kept as `import {} from` (verbatimModuleSyntax)
    [`export { rename } from 'node:fs/promises';`, true],
    [`export * from 'fs';`, true],
    [`export { type Stats } from 'fs';`, true],
    [`import fs = require('fs');`, true],
    [`const fs = await import('node:fs');`, true],
    [`const fs = await import(\n  'fs-extra'\n);`, true],
    [`const fs = require('fs');`, true],
    [`import { createRequire } from 'node:module'; const r = createRequire(import.meta.url)('graceful-fs');`, true],
    [`const fs = module.require('fs');`, true],
    [`const b = (process as any).binding('fs');`, true],
    [`const name = 'fs'; const fs = await import(name);`, true], // unanalysable: flagged
    [`import type { Stats } from 'node:fs'; export let s: Stats;`, false],
    [`import type * as fsT from 'fs'; export let f: typeof fsT.readFile;`, false],
    [`export type { Stats } from 'fs';`, false],
    [`import type fs = require('fs'); export let f: typeof fs;`, false],
    [`export let f: typeof import('node:fs').readFile;`, false],
    [`// import * as fs from 'fs';\nexport const s = "import fs from 'fs'";`, false],
    [`import * as path from 'node:path'; import { x } from '../fs.js'; import y from 'fsevents'; import z from 'fs-extras';`, false],
  ];

  it.each(cases)('checker on %j flags it: %s', (source, flagged) => {
    expect(seamViolations('src/x.ts', source, false).length > 0).toBe(flagged);
  });

  it("agrees with tsc on which imports survive compilation (type-only vs value)", () => {
    // The compiler is the authority on erasure: a module loads at runtime exactly when its name is
    // still in the emitted JavaScript. Check the checker's typeOnly verdicts against real emit.
    for (const [source] of cases) {
      const literal = findImports(source).filter((f) => f.specifier !== '<non-literal>' && f.form !== 'process binding');
      if (literal.length === 0) continue;
      const js = ts.transpileModule(source, {
        fileName: 'x.mts',
        compilerOptions: { module: ts.ModuleKind.NodeNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
      }).outputText;
      for (const f of literal) {
        const emitted = js.includes(`'${f.specifier}'`) || js.includes(`"${f.specifier}"`);
        expect({ source, specifier: f.specifier, runtime: emitted }).toEqual({ source, specifier: f.specifier, runtime: !f.typeOnly });
      }
    }
  });

  it('requires every proper-lockfile call to route through the { fs } option', () => {
    const ok = `import lockfile from 'proper-lockfile';\nconst adapter = {};\nawait lockfile.lock(p, { fs: adapter, stale: 1 });`;
    const short = `import lockfile from 'proper-lockfile';\nconst fs = {};\nawait lockfile.check(p, { fs });`;
    const bypass = `import lockfile from 'proper-lockfile';\nawait lockfile.lock(p, { stale: 1 });`;
    const named = `import { unlock } from 'proper-lockfile';\nawait unlock(p);`;
    expect(seamViolations('src/x.ts', ok, false)).toEqual([]);
    expect(seamViolations('src/x.ts', short, false)).toEqual([]);
    expect(seamViolations('src/x.ts', bypass, false)).toHaveLength(1);
    expect(seamViolations('src/x.ts', named, false)).toHaveLength(1);
  });
});
