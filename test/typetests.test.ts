// Every public export (src/index.ts) and every public member of Transaction has a type test in
// test/**/*.test-d.ts (issue 18: every operation gets TSDoc with an example, a type test and a
// runnable example). A new export or method without one fails here, naming it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { repo } from './helpers/install.js';
import { publicApi } from './helpers/public-api.js';

const typeTests = fs
  .readdirSync(path.join(repo, 'test'), { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.test-d.ts'))
  .map((f) => fs.readFileSync(path.join(repo, 'test', f), 'utf8'))
  .join('\n');

const { checker, moduleSymbol } = publicApi();
const exported = checker.getExportsOfModule(moduleSymbol);

describe('type tests', () => {
  it('cover every public export (used in an expectTypeOf or @ts-expect-error in a *.test-d.ts)', () => {
    expect(exported.length).toBeGreaterThan(30);
    const missing = exported.map((s) => s.name).filter((name) => !new RegExp(`\\b${name}\\b`).test(typeTests));
    expect(missing).toEqual([]);
  });

  it('cover every public member of Transaction', () => {
    const tx = exported.find((s) => s.name === 'Transaction');
    const decl = tx === undefined ? undefined : checker.getAliasedSymbol(tx).declarations?.[0];
    if (decl === undefined || !ts.isClassDeclaration(decl)) throw new Error('Transaction is not a class');
    const members = decl.members
      .filter((m) => m.name !== undefined && !ts.isPrivateIdentifier(m.name) && !ts.isConstructorDeclaration(m))
      .filter((m) => !(ts.getCombinedModifierFlags(m) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)))
      .map((m) => (m.name as ts.PropertyName).getText());
    expect(members.length).toBeGreaterThan(10);
    const missing = members.filter((name) => {
      if (name.startsWith('[')) return !typeTests.includes(name.slice(1, -1)) && !/AsyncDisposable|await using/.test(typeTests);
      return !new RegExp(`\\.${name}\\b`).test(typeTests);
    });
    expect(missing).toEqual([]);
  });
});
