// The code in README.md and docs/*.md is real: no sample can drift from the API or rot.
//
//  - A block preceded by `<!-- snippet: examples/<file>#<region> -->` must equal that region of the
//    example (between `#region <name>` and `#endregion <name>` comments), and the examples are run
//    by test/examples/*.test.ts. `npm run docs:snippets` copies the regions into the docs.
//  - Every other TypeScript or JavaScript block is type-checked (strict) as a module of its own,
//    against the built declarations (dist/index.d.ts, what users get), with the text of an
//    optional `<!-- prelude: ... -->` comment before it prepended: the declarations a fragment
//    assumes (`declare const rows: string[]`), kept out of the rendered page.
//  - The example programs (examples/*.mjs) are type-checked too (checkJs).
//  - A block preceded by `<!-- output: examples/<file> -->` is what that program prints (the
//    README shows the demo's output).
// Other languages (shell, Python, make, output) are not run; the shell of the guides comes from
// examples/pipeline.sh through `snippet:`.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repo } from './helpers/install.js';
import { tmpdir } from './helpers/tmp.js';
import { typecheck } from './helpers/tsc.js';

interface Block {
  readonly doc: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly lang: string;
  readonly code: string;
  /** Lines of the block's content in the doc (0-based, end exclusive), for rewriting. */
  readonly start: number;
  readonly end: number;
  readonly directives: Readonly<Record<string, string>>;
}

const docs = ['README.md', ...fs.readdirSync(path.join(repo, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const typed = new Set(['ts', 'typescript', 'js', 'javascript', 'mjs']);

/** The fenced blocks of a markdown file, with the `<!-- key: value -->` comments just above each. */
function blocks(doc: string): Block[] {
  const lines = fs.readFileSync(path.join(repo, doc), 'utf8').split('\n');
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(`{3,})(\S*)/.exec(lines[i] as string);
    if (open === null) continue;
    const fence = open[1] as string;
    let j = i + 1;
    while (j < lines.length && !(lines[j] as string).startsWith(fence)) j++;
    if (j === lines.length) throw new Error(`${doc}:${i + 1}: unclosed code fence`);
    const directives: Record<string, string> = {};
    // Comments stacked directly above the fence, each possibly spanning several lines.
    for (let k = i - 1; k >= 0 && (lines[k] as string).trimEnd().endsWith('-->'); k--) {
      let first = k;
      while (first >= 0 && !(lines[first] as string).includes('<!--')) first--;
      const text = lines.slice(first, k + 1).join('\n');
      const m = /<!--\s*([a-z-]+):([\s\S]*?)-->/.exec(text);
      if (m !== null) directives[m[1] as string] = (m[2] as string).trim();
      k = first;
    }
    out.push({ doc, line: i + 1, lang: open[2] as string, code: lines.slice(i + 1, j).join('\n'), start: i + 1, end: j, directives });
    i = j;
  }
  return out;
}

/** The lines between `#region name` and `#endregion name` in `file`, dedented. */
function region(spec: string): string {
  const [file, name] = spec.split('#') as [string, string | undefined];
  const lines = fs.readFileSync(path.join(repo, file), 'utf8').split('\n');
  if (name === undefined) return lines.join('\n').trimEnd();
  const from = lines.findIndex((l) => new RegExp(`#region ${name}$`).test(l.trim()));
  const to = lines.findIndex((l, i) => i > from && new RegExp(`#endregion ${name}$`).test(l.trim()));
  if (from < 0 || to < 0) throw new Error(`no region '${name}' in ${file}`);
  const body = lines.slice(from + 1, to);
  const indent = Math.min(...body.filter((l) => l.trim() !== '').map((l) => /^ */.exec(l)?.[0].length ?? 0));
  return body.map((l) => l.slice(indent)).join('\n');
}

const all = docs.flatMap(blocks);

describe('code samples in the docs', () => {
  const snippets = all.filter((b) => b.directives.snippet !== undefined);

  it('copied from the examples are identical to them (npm run docs:snippets copies them)', () => {
    expect(snippets.length).toBeGreaterThan(5);
    if (process.env.UPDATE_SNIPPETS === '1') {
      for (const doc of new Set(snippets.map((b) => b.doc))) {
        const lines = fs.readFileSync(path.join(repo, doc), 'utf8').split('\n');
        // From the last block up, so earlier line numbers stay valid.
        for (const b of snippets.filter((s) => s.doc === doc).reverse()) lines.splice(b.start, b.end - b.start, region(b.directives.snippet as string));
        fs.writeFileSync(path.join(repo, doc), lines.join('\n'));
      }
      return;
    }
    const stale = snippets.filter((b) => b.code !== region(b.directives.snippet as string)).map((b) => `${b.doc}:${b.line} (${b.directives.snippet})`);
    expect(stale, 'these blocks differ from their example: run `npm run docs:snippets`').toEqual([]);
  });

  it('in TypeScript and JavaScript type-check against the published declarations, and so do the examples', () => {
    const checked = all.filter((b) => typed.has(b.lang) && b.directives.snippet === undefined);
    expect(checked.length).toBeGreaterThan(20);
    const dir = tmpdir('txnfs-docs-');
    const files = checked.map((b) => {
      const js = b.lang === 'js' || b.lang === 'javascript' || b.lang === 'mjs';
      // A JavaScript block that calls require() is CommonJS; every other block is an ES module.
      const cjs = js && /\brequire\(/.test(b.code);
      const name = `${b.doc.replace(/[/.]/g, '_')}_L${b.line}.${cjs ? 'cjs' : js ? 'mjs' : 'mts'}`;
      const prelude = b.directives.prelude ?? '';
      // Every block is a module of its own (its names stay local; top-level await is allowed in
      // the ES ones).
      fs.writeFileSync(path.join(dir, name), `${prelude}\n${b.code}\n${cjs ? 'module.exports = {};' : 'export {};'}\n`);
      return name;
    });
    const examples = fs.readdirSync(path.join(repo, 'examples')).filter((f) => f.endsWith('.mjs')).map((f) => path.join(repo, 'examples', f));
    // As a user's project resolves it: the built declarations (the examples, inside this package,
    // reach the same file through the package's own name). Each error names the doc and line of
    // its block: docs_guide_md_L12.mts(3,5) is docs/guide.md, the block opening at line 12, third
    // line of (prelude + block).
    expect(typecheck(dir, [...files, ...examples], path.join(repo, 'dist/index.d.ts'), { allowJs: true, checkJs: true })).toEqual([]);
  }, 60_000);

  it('showing a program\'s output match what it prints', () => {
    const outputs = all.filter((b) => b.directives.output !== undefined);
    expect(outputs.length).toBeGreaterThan(0);
    for (const b of outputs) {
      const r = spawnSync(process.execPath, [path.join(repo, b.directives.output as string)], { encoding: 'utf8', timeout: 30_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(b.code, `${b.doc}:${b.line}: the output of ${b.directives.output} changed; paste it into the block`).toBe(r.stdout.trimEnd());
    }
  });

  it('include what each error code means and what to do (docs/errors.md)', async () => {
    const { codes } = await import('../src/errors.js');
    const text = fs.readFileSync(path.join(repo, 'docs/errors.md'), 'utf8');
    const headings = [...text.matchAll(/^### `(\w+)`$/gm)].map((m) => m[1]);
    expect(headings.sort()).toEqual(Object.keys(codes).sort());
  });

  it('name their language, so none escapes the checks above by accident', () => {
    const bare = all.filter((b) => b.lang === '').map((b) => `${b.doc}:${b.line}`);
    expect(bare, 'give these fences a language (ts, sh, text, ...)').toEqual([]);
  });
});
