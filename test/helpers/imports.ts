/**
 * imports.ts: find every way a TypeScript module can reach the filesystem modules, by parsing it.
 *
 * The seam meta-test (test/io/seam.test.ts) runs this over every module of src/. A regular expression
 * would miss `import(\n'fs')`, flag `import type` (erased, harmless) and be fooled by comments and
 * strings, so the source is parsed with the TypeScript compiler and the syntax tree is walked:
 *
 *   import … from 'fs' / import 'fs' / export … from 'fs'   value import, unless the whole
 *                                                            declaration is `import type` /
 *                                                            `export type` (erased by tsc).
 *                                                            `import { type A } from 'fs'` is a
 *                                                            value import: with verbatimModuleSyntax
 *                                                            tsc keeps it as `import {} from 'fs'`.
 *   import fs = require('fs')                                value (unless `import type`)
 *   import('fs'), require('fs'), createRequire(u)('fs'),     value
 *   module.require('fs'), process.binding('fs')
 *   import(x), require(x) with a non-literal x               flagged: it cannot be proven harmless
 *   typeof import('fs') in a type                            type only (erased)
 *
 * Besides, every call on the proper-lockfile import must pass an options object with an `fs`
 * property: proper-lockfile falls back to graceful-fs, which would bypass the seam.
 *
 * Cost: one parse per file, linear in its size.
 */
import ts from 'typescript';

/** Module specifiers that give filesystem access. Subpaths (`fs-extra/esm`) count too. */
export const FS_MODULE = /^(?:node:)?fs(?:\/.*)?$|^fs-extra(?:\/.*)?$|^graceful-fs(?:\/.*)?$/;

export interface ImportFinding {
  /** What was found, e.g. `import`, `dynamic import`, `require`, `export from`. */
  readonly form: string;
  /** The module specifier, or `<non-literal>` when it cannot be read statically. */
  readonly specifier: string;
  /** Erased at compile time (`import type`, `typeof import()`): no runtime access. */
  readonly typeOnly: boolean;
  /** 1-based line. */
  readonly line: number;
}

export interface SeamViolation {
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

function literalText(node: ts.Node | undefined): string | undefined {
  if (node !== undefined && (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node))) return node.text;
  return undefined;
}

/** Every import-like construct in `source` that names a module (filesystem or not). */
export function findImports(source: string, fileName = 'module.ts'): ImportFinding[] {
  const sf = ts.createSourceFile(fileName, source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const found: ImportFinding[] = [];
  const line = (n: ts.Node): number => sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1;
  const add = (form: string, spec: string | undefined, typeOnly: boolean, n: ts.Node): void => {
    found.push({ form, specifier: spec ?? '<non-literal>', typeOnly, line: line(n) });
  };
  const visit = (n: ts.Node): void => {
    if (ts.isImportDeclaration(n)) {
      add('import', literalText(n.moduleSpecifier), n.importClause?.isTypeOnly === true, n);
    } else if (ts.isExportDeclaration(n) && n.moduleSpecifier !== undefined) {
      add('export from', literalText(n.moduleSpecifier), n.isTypeOnly, n);
    } else if (ts.isImportEqualsDeclaration(n) && ts.isExternalModuleReference(n.moduleReference)) {
      add('import = require', literalText(n.moduleReference.expression), n.isTypeOnly, n);
    } else if (ts.isImportTypeNode(n)) {
      // `typeof import('fs')` in a type position: erased.
      const arg = ts.isLiteralTypeNode(n.argument) ? literalText(n.argument.literal) : undefined;
      add('import type query', arg, true, n);
    } else if (ts.isCallExpression(n)) {
      const callee = n.expression;
      const first = n.arguments[0];
      if (callee.kind === ts.SyntaxKind.ImportKeyword) {
        add('dynamic import', literalText(first), false, n);
      } else if (ts.isIdentifier(callee) && callee.text === 'require') {
        add('require', literalText(first), false, n);
      } else if (ts.isPropertyAccessExpression(callee) && (callee.name.text === 'require' || callee.name.text === 'binding' || callee.name.text === '_linkedBinding')) {
        add(callee.name.text === 'require' ? 'require' : 'process binding', literalText(first), false, n);
      } else if (ts.isCallExpression(callee) && /createRequire$/.test(callee.expression.getText(sf))) {
        add('createRequire()()', literalText(first), false, n);
      }
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return found;
}

/** Names bound to the proper-lockfile import in `sf` (default or namespace). */
function lockfileNames(sf: ts.SourceFile): Set<string> {
  const names = new Set<string>();
  for (const st of sf.statements) {
    if (!ts.isImportDeclaration(st) || literalText(st.moduleSpecifier) !== 'proper-lockfile') continue;
    const clause = st.importClause;
    if (clause?.name !== undefined) names.add(clause.name.text);
    if (clause?.namedBindings !== undefined && ts.isNamespaceImport(clause.namedBindings)) names.add(clause.namedBindings.name.text);
    if (clause?.namedBindings !== undefined && ts.isNamedImports(clause.namedBindings)) {
      for (const el of clause.namedBindings.elements) names.add(`#fn:${el.name.text}`);
    }
  }
  return names;
}

function passesFsOption(call: ts.CallExpression): boolean {
  return call.arguments.some(
    (a) => ts.isObjectLiteralExpression(a) && a.properties.some((p) => (ts.isPropertyAssignment(p) || ts.isShorthandPropertyAssignment(p)) && p.name.getText() === 'fs'),
  );
}

/**
 * The seam rule for one module: no runtime import of a filesystem module (unless `allowFs`), no
 * unanalysable dynamic import or require, and every proper-lockfile call routed through an `fs`
 * option.
 */
export function seamViolations(file: string, source: string, allowFs: boolean): SeamViolation[] {
  const out: SeamViolation[] = [];
  for (const f of findImports(source, file)) {
    if (f.typeOnly) continue;
    if (f.specifier === '<non-literal>') {
      out.push({ file, line: f.line, message: `${f.form} with a non-literal module name cannot be checked; name the module literally` });
    } else if (!allowFs && (FS_MODULE.test(f.specifier) || (f.form === 'process binding' && f.specifier === 'fs'))) {
      out.push({ file, line: f.line, message: `${f.form} of '${f.specifier}': only src/io/fs.ts (and node-fs.ts behind it) may touch the filesystem` });
    }
  }
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const names = lockfileNames(sf);
  if (names.size > 0) {
    const visit = (n: ts.Node): void => {
      if (ts.isCallExpression(n)) {
        const c = n.expression;
        const onLib = ts.isPropertyAccessExpression(c) && ts.isIdentifier(c.expression) && names.has(c.expression.text);
        const named = ts.isIdentifier(c) && names.has(`#fn:${c.text}`);
        if ((onLib || named) && !passesFsOption(n)) {
          const ln = sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1;
          out.push({ file, line: ln, message: `proper-lockfile call '${c.getText(sf)}(…)' without an { fs } option falls back to graceful-fs and bypasses the seam` });
        }
      }
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }
  return out;
}
