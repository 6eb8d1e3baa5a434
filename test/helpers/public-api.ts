// The public API (what src/index.ts exports) as the TypeScript compiler sees it, for the tests that
// check every export: its TSDoc (index.tsdoc.test.ts) and its type tests (typetests.test.ts).
import * as path from 'node:path';
import ts from 'typescript';
import { repo } from './install.js';

export interface PublicApi {
  readonly checker: ts.TypeChecker;
  /** src/index.ts as a module: `checker.getExportsOfModule(moduleSymbol)` lists the exports. */
  readonly moduleSymbol: ts.Symbol;
}

/** Compile src/index.ts (strict, NodeNext) and return its checker and module symbol. */
export function publicApi(): PublicApi {
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
  return { checker, moduleSymbol };
}
