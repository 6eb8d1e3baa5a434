// The TSDoc of the public API (everything src/index.ts exports), checked with the TypeScript
// compiler: every export is documented; every function, class and public method has an @example;
// every field of an options type is optional, readonly, documented and has a @default. TypeDoc
// (`npm run docs`, in CI with --treatWarningsAsErrors) also fails on any undocumented member;
// this test holds the rules TypeDoc cannot express, and runs with `npm test`.
import * as path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { repo } from './helpers/install.js';

const program = ts.createProgram([path.join(repo, 'src/index.ts')], {
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  target: ts.ScriptTarget.ES2022,
  strict: true,
  types: ['node'],
});
const checker = program.getTypeChecker();
const index = program.getSourceFile(path.join(repo, 'src/index.ts'));
if (index === undefined) throw new Error('src/index.ts not found');
const moduleSymbol = checker.getSymbolAtLocation(index);
if (moduleSymbol === undefined) throw new Error('src/index.ts is not a module');

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
      ['BeginOptions', 'CommonOptions', 'RecoverOptions', 'RemoveOptions', 'UpdateOptions', 'WriteFileOptions', 'WriteJsonFileOptions', 'WriteJsonOptions', 'WriteOptions'].sort(),
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
          visitType(checker.getTypeOfSymbolAtLocation(field, e.declaration));
        }
      }
    }
    expect([...unexported].sort()).toEqual([]);
  });
});
