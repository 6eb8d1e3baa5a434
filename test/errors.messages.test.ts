// Every TxnError message is one a user can act on: it names the path involved and says what to do.
// Checked on the source: every `new TxnError(code, message, details)` in src/, and, for helpers
// that build the error from a message parameter (`bad(message, path)`, `fail(code, message, ...)`,
// `refuse(why)`), every call of the helper with its message. What happened is each message's first
// clause and is read by people; what is checked here:
//  - which path: `details.path` is set, or the message quotes an interpolated path ('${...}');
//  - what to do: one sentence or clause starts with an action ("Run recover()", "Retry", "Pass a
//    file name", "Create it first", ...).
import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { repo } from './helpers/install.js';

/** Verbs that start an instruction to the user. */
const ACTIONS = [
  'adopt', 'call', 'check', 'copy', 'create', 'end', 'fix', 'free', 'give', 'inspect', 'look', 'make', 'move', 'name', 'pass', 'pick',
  'raise', 'read', 'release', 'remove', 'rename', 'report', 'restore', 'retry', 'run', 'start', 'stage', 'use', 'wait', 'write',
];

interface Site {
  readonly where: string;
  readonly code: string;
  /** The message as written, `${...}` interpolations kept. */
  readonly message: string;
  readonly hasPathDetail: boolean;
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

const hasPath = (details: ts.Expression | undefined): boolean =>
  details !== undefined &&
  /\bpath\b/.test(details.getText()) &&
  // `cause === undefined ? { path: p } : { path: p, cause }` and `{ path: x, ... }` both count.
  !/\bpath\s*:\s*undefined\b/.test(details.getText());

/** The function (declaration, method or `const f = (...) =>`) around `node`, with its name. */
function enclosing(node: ts.Node): { name: string; params: string[]; exported: boolean } | undefined {
  for (let n = node.parent; n !== undefined; n = n.parent) {
    if (ts.isFunctionDeclaration(n) || ts.isMethodDeclaration(n) || ts.isArrowFunction(n) || ts.isFunctionExpression(n)) {
      const params = n.parameters.map((p) => p.name.getText());
      let name = n.name?.getText();
      if (name === undefined && ts.isVariableDeclaration(n.parent)) name = n.parent.name.getText();
      const exported = ts.isFunctionDeclaration(n) && (ts.getCombinedModifierFlags(n) & ts.ModifierFlags.Export) !== 0;
      return name === undefined ? undefined : { name, params, exported };
    }
  }
  return undefined;
}

function collect(): Site[] {
  const sites: Site[] = [];
  const files = sourceFiles(path.join(repo, 'src')).map((file) => ({ rel: path.relative(repo, file), sf: ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true) }));
  const where = (rel: string, sf: ts.SourceFile, node: ts.Node): string => `${rel}:${sf.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
  interface Builder {
    readonly name: string;
    readonly index: number;
    readonly param: string;
    readonly template: string;
    readonly code: string;
    readonly hasPathDetail: boolean;
    readonly at: string;
    readonly file: string;
    readonly exported: boolean;
  }
  const builders: Builder[] = [];
  for (const { rel, sf } of files) {
    const visit = (node: ts.Node): void => {
      if (ts.isNewExpression(node) && node.expression.getText() === 'TxnError' && node.arguments !== undefined) {
        const [codeArg, messageArg, details] = node.arguments;
        const code = codeArg?.getText() ?? '?';
        const message = messageArg?.getText() ?? '';
        const fn = enclosing(node);
        // A function that puts one of its parameters into the message: judge each call with the
        // argument it passes (a helper such as bad(message, path), or openRoot(dir)).
        const param = fn?.params.find((p) => message === p || message.includes(`\${${p}}`));
        if (fn !== undefined && param !== undefined) {
          builders.push({ name: fn.name, index: fn.params.indexOf(param), param, template: message, code, hasPathDetail: hasPath(details), at: where(rel, sf, node), file: rel, exported: fn.exported });
        } else {
          sites.push({ where: where(rel, sf, node), code, message, hasPathDetail: hasPath(details) });
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  const called = new Set<Builder>();
  for (const { rel, sf } of files) {
    const calls = (node: ts.Node): void => {
      if (ts.isCallExpression(node)) {
        const callee = node.expression.getText().replace(/^this\./, '');
        // A helper of this file, or an exported one of another file (helpers of the same name in
        // two files are two helpers).
        const local = builders.filter((x) => x.name === callee && x.file === rel);
        for (const b of local.length > 0 ? local : builders.filter((x) => x.name === callee && x.exported)) {
          const arg = node.arguments[b.index];
          if (arg === undefined) continue;
          called.add(b);
          // A literal argument is message text; any other expression is interpolated, as it will be.
          const literal = ts.isStringLiteral(arg) || ts.isNoSubstitutionTemplateLiteral(arg) || ts.isTemplateExpression(arg);
          const inner = literal ? arg.getText().replace(/^[`'"]|[`'"]$/g, '') : `\${${arg.getText()}}`;
          const message = b.template === b.param ? arg.getText() : b.template.replace(`\${${b.param}}`, inner);
          const code = b.code === 'code' ? (node.arguments[0]?.getText() ?? b.code) : b.code;
          sites.push({ where: `${where(rel, sf, node)} (${b.at})`, code, message, hasPathDetail: b.hasPathDetail });
        }
      }
      ts.forEachChild(node, calls);
    };
    calls(sf);
  }
  // A helper whose calls were not found is judged on its own text, never skipped.
  for (const b of builders.filter((x) => !called.has(x))) sites.push({ where: b.at, code: b.code, message: b.template, hasPathDetail: b.hasPathDetail });
  return sites;
}

/** The message's clauses, with interpolations reduced to a placeholder. */
function clauses(message: string): string[] {
  const plain = message.replace(/\$\{(?:[^{}]|\{[^{}]*\})*\}/g, 'X').replace(/[`'"]\s*\+\s*(\([^)]*\)\s*\+\s*)?[`'"]/g, ' ');
  return plain.split(/[.;:!?(—]\s+|\(|, (?:or|then|and) /).map((c) => c.trim().replace(/^[`'"]/, '').replace(/[.)`'"]+$/, ''));
}

const sites = collect();

describe('TxnError messages', () => {
  it('are all found (every construction and every helper call)', () => {
    expect(sites.length).toBeGreaterThan(80);
    expect(new Set(sites.map((s) => s.code)).size).toBeGreaterThanOrEqual(13);
  });

  it('name the path involved', () => {
    const pathless = sites.filter((s) => !s.hasPathDetail && !/'\$\{/.test(s.message)).map((s) => `${s.where} ${s.code}: ${s.message}`);
    expect(pathless).toEqual([]);
  });

  it('say what to do', () => {
    // The verb must start the clause and be followed by its object (or end it: "Retry"), so that
    // "adopt() takes regular files only" is not taken for an instruction.
    const verb = new RegExp(`^(?:then |and |or |otherwise |instead |please |if [^,]+, )?(${ACTIONS.join('|')})(\\s|$)`, 'i');
    const actionless = sites.filter((s) => !clauses(s.message).some((c) => verb.test(c))).map((s) => `${s.where} ${s.code}: ${s.message}`);
    expect(actionless).toEqual([]);
  });
});
