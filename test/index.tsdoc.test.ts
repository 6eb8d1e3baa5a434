// The TSDoc of the public API (everything src/index.ts exports), checked with the TypeScript
// compiler: every export is documented; every function, class and public method has an @example;
// every field of an options type is optional, readonly, documented and has a @default. TypeDoc
// (`npm run docs`, in CI with --treatWarningsAsErrors) also fails on any undocumented member;
// this test holds the rules TypeDoc cannot express, and runs with `npm test`.
import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { repo } from './helpers/install.js';
import { publicApi } from './helpers/public-api.js';
import { tmpdir } from './helpers/tmp.js';
import { typecheck } from './helpers/tsc.js';

const { checker, moduleSymbol } = publicApi();

interface Export {
  readonly name: string;
  readonly symbol: ts.Symbol;
  readonly declaration: ts.Declaration;
}

const exports: Export[] = checker.getExportsOfModule(moduleSymbol).map((s) => {
  const symbol = s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
  const declaration = symbol.declarations?.[0];
  if (declaration === undefined) throw new Error(`${s.name} has no declaration`);
  return { name: s.name, symbol, declaration };
});

const docText = (symbol: ts.Symbol): string => ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim();
const tags = (symbol: ts.Symbol): string[] => symbol.getJsDocTags(checker).map((t) => t.name);
const isOptions = (name: string): boolean => name.endsWith('Options');

describe('the TSDoc of every public export', () => {
  it('exists', () => {
    expect(exports.length).toBeGreaterThan(30);
    const undocumented = exports.filter((e) => docText(e.symbol) === '').map((e) => e.name);
    expect(undocumented).toEqual([]);
  });

  it('has an @example for every function and class, and every public method of a class', () => {
    const missing: string[] = [];
    for (const e of exports) {
      if (ts.isFunctionDeclaration(e.declaration) || ts.isClassDeclaration(e.declaration)) {
        if (!tags(e.symbol).includes('example')) missing.push(e.name);
      }
      if (ts.isClassDeclaration(e.declaration)) {
        for (const member of e.declaration.members) {
          if (!ts.isMethodDeclaration(member) || member.name === undefined || ts.isPrivateIdentifier(member.name)) continue;
          const symbol = checker.getSymbolAtLocation(member.name);
          if (symbol === undefined) continue;
          const name = `${e.name}.${symbol.name.startsWith('__@') ? member.name.getText() : symbol.name}`;
          if (docText(symbol) === '') missing.push(`${name} (no doc)`);
          else if (!tags(symbol).includes('example')) missing.push(name);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it('gives every field of an options type a doc and a @default, and makes it optional and readonly', () => {
    const optionTypes = exports.filter((e) => isOptions(e.name) && ts.isInterfaceDeclaration(e.declaration));
    expect(optionTypes.map((e) => e.name).sort()).toEqual(
      ['BeginOptions', 'CommonOptions', 'DoctorOptions', 'RecoverOptions', 'RemoveOptions', 'RootOptions', 'UpdateOptions', 'WriteFileOptions', 'WriteJsonFileOptions', 'WriteJsonOptions', 'WriteOptions'].sort(),
    );
    const problems: string[] = [];
    for (const e of optionTypes) {
      const type = checker.getDeclaredTypeOfSymbol(e.symbol);
      for (const field of checker.getPropertiesOfType(type)) {
        const where = `${e.name}.${field.name}`;
        const decl = field.declarations?.[0];
        if (decl === undefined || !ts.isPropertySignature(decl)) {
          problems.push(`${where}: not a property signature`);
          continue;
        }
        if (decl.questionToken === undefined) problems.push(`${where}: not optional`);
        if (!(ts.getCombinedModifierFlags(decl) & ts.ModifierFlags.Readonly)) problems.push(`${where}: not readonly`);
        if (docText(field) === '') problems.push(`${where}: no doc`);
        if (!tags(field).includes('default')) problems.push(`${where}: no @default`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('exports every type that a public signature names', () => {
    // A type a user meets in a signature (a field, a parameter, a return type) must be importable
    // under its own name, or TypeDoc cannot link it and users cannot name it.
    const exported = new Set(exports.map((e) => e.symbol));
    const unexported = new Set<string>();
    const seen = new Set<ts.Symbol>();
    const visitType = (type: ts.Type): void => {
      const symbol = type.aliasSymbol ?? type.getSymbol();
      if (symbol !== undefined && !seen.has(symbol)) {
        seen.add(symbol);
        const file = symbol.declarations?.[0]?.getSourceFile().fileName ?? '';
        if (file.startsWith(path.join(repo, 'src')) && !exported.has(symbol) && symbol.name !== '__type' && symbol.name !== '__object') unexported.add(symbol.name);
      }
      if (type.isUnion() || type.isIntersection()) type.types.forEach(visitType);
    };
    for (const e of exports) {
      const type = checker.getTypeOfSymbolAtLocation(e.symbol, e.declaration);
      for (const signature of type.getCallSignatures()) {
        signature.getParameters().forEach((p) => visitType(checker.getTypeOfSymbolAtLocation(p, e.declaration)));
        visitType(signature.getReturnType());
      }
      if (ts.isInterfaceDeclaration(e.declaration)) {
        for (const field of checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(e.symbol))) {
          const fieldType = checker.getTypeOfSymbolAtLocation(field, e.declaration);
          if (field.flags & ts.SymbolFlags.Method) {
            // A method (TransactionApi's calls): what users meet is its parameters and result.
            for (const signature of fieldType.getCallSignatures()) {
              signature.getParameters().forEach((p) => visitType(checker.getTypeOfSymbolAtLocation(p, e.declaration)));
              visitType(signature.getReturnType());
            }
          } else visitType(fieldType);
        }
      }
    }
    expect([...unexported].sort()).toEqual([]);
  });

  it('has @example code that type-checks against the API (names an example leaves undefined are declared)', () => {
    // Every @example of an export, of a class member and of an interface field.
    const examples: { where: string; code: string }[] = [];
    const collect = (where: string, symbol: ts.Symbol): void => {
      for (const tag of symbol.getJsDocTags(checker)) {
        if (tag.name !== 'example') continue;
        const text = ts.displayPartsToString(tag.text);
        for (const m of text.matchAll(/```ts\n([\s\S]*?)```/g)) examples.push({ where, code: m[1] as string });
      }
    };
    for (const e of exports) {
      collect(e.name, e.symbol);
      if (ts.isClassDeclaration(e.declaration) || ts.isInterfaceDeclaration(e.declaration)) {
        for (const member of checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(e.symbol))) collect(`${e.name}.${member.name}`, member);
      }
    }
    expect(examples.length).toBeGreaterThan(20);
    const dir = tmpdir('txnfs-tsdoc-');
    const values = exports.filter((e) => e.symbol.flags & ts.SymbolFlags.Value).map((e) => e.name);
    const types = exports.filter((e) => !(e.symbol.flags & ts.SymbolFlags.Value)).map((e) => e.name);
    const header = [
      `import { ${values.join(', ')} } from 'txnfs';`,
      `import type { ${types.join(', ')} } from 'txnfs';`,
      `import * as fs from 'node:fs';`,
      `import * as path from 'node:path';`,
      `import { pipeline } from 'node:stream/promises';`,
      `import { execFileSync } from 'node:child_process';`,
    ].join('\n');
    // The placeholders an example assumes (`tx`, `parts`, `render()`): `tx` is a Transaction, the
    // rest are `any`. A misspelt API name, a wrong option, a wrong argument count still fail.
    const declared = (names: ReadonlySet<string>): string =>
      [...names].map((n) => (n === 'tx' ? 'declare const tx: Transaction;' : `declare const ${n}: any;`)).join('\n');
    const files = examples.map((x, i) => `example_${i}_${x.where.replace(/[^A-Za-z0-9]/g, '_')}.mts`);
    const write = (missing: ReadonlyMap<string, Set<string>>): void => {
      examples.forEach((x, i) => {
        const file = files[i] as string;
        fs.writeFileSync(path.join(dir, file), `${header}\n${declared(missing.get(file) ?? new Set())}\n${x.code}\nexport {};\n`);
      });
    };
    const tsc = (): string[] => typecheck(dir, files, path.join(repo, 'src/index.ts'), { noUnusedLocals: false });
    write(new Map());
    const missing = new Map<string, Set<string>>();
    for (const line of tsc()) {
      const m = /^(\S+?)\(\d+,\d+\): error TS(?:2304|2552|18004): (?:Cannot find name|No value exists in scope for the shorthand property) '(\w+)'/.exec(line);
      if (m !== null) missing.set(m[1] as string, (missing.get(m[1] as string) ?? new Set()).add(m[2] as string));
    }
    write(missing);
    const errors = tsc().map((line) => {
      const file = line.slice(0, line.indexOf('('));
      return `${examples[files.indexOf(file)]?.where ?? file}: ${line.slice(line.indexOf('error'))}`;
    });
    expect(errors).toEqual([]);
  }, 60_000);
});
