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
  'raise', 'read', 'remove', 'rename', 'report', 'retry', 'run', 'start', 'stage', 'use', 'wait', 'write',
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
function enclosing(node: ts.Node): { name: string; params: string[] } | undefined {
  for (let n = node.parent; n !== undefined; n = n.parent) {
    if (ts.isFunctionDeclaration(n) || ts.isMethodDeclaration(n) || ts.isArrowFunction(n) || ts.isFunctionExpression(n)) {
      const params = n.parameters.map((p) => p.name.getText());
      let name = n.name?.getText();
      if (name === undefined && ts.isVariableDeclaration(n.parent)) name = n.parent.name.getText();
      return name === undefined ? undefined : { name, params };
    }
  }
  return undefined;
}

function collect(): Site[] {
  const sites: Site[] = [];
  for (const file of sourceFiles(path.join(repo, 'src'))) {
    const text = fs.readFileSync(file, 'utf8');
    const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
    const rel = path.relative(repo, file);
    const builders: { name: string; index: number; template: string; param: string; code: string; hasPathDetail: boolean }[] = [];
    const direct: { node: ts.NewExpression; code: string; message: string; hasPathDetail: boolean }[] = [];
    const visit = (node: ts.Node): void => {
      if (ts.isNewExpression(node) && node.expression.getText() === 'TxnError' && node.arguments !== undefined) {
        const [codeArg, messageArg, details] = node.arguments;
        const code = codeArg?.getText() ?? '?';
        const message = messageArg?.getText() ?? '';
        const fn = enclosing(node);
        // A helper that receives (part of) its message as a parameter: judge its callers instead.
        const param = fn?.params.find((p) => message === p || message.includes(`\${${p}}`));
        if (fn !== undefined && param !== undefined) {
          builders.push({ name: fn.name, index: fn.params.indexOf(param), template: message, param, code, hasPathDetail: hasPath(details) });
        } else {
          direct.push({ node, code, message, hasPathDetail: hasPath(details) });
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
    for (const d of direct) {
      const line = sf.getLineAndCharacterOfPosition(d.node.getStart()).line + 1;
      sites.push({ where: `${rel}:${line}`, code: d.code, message: d.message, hasPathDetail: d.hasPathDetail });
    }
    const calls = (node: ts.Node): void => {
      if (ts.isCallExpression(node)) {
        const callee = node.expression.getText();
        for (const b of builders.filter((x) => x.name === callee)) {
          const arg = node.arguments[b.index];
          if (arg === undefined) continue;
          // A literal argument is message text; any other expression is interpolated, as it will be.
          const literal = ts.isStringLiteral(arg) || ts.isNoSubstitutionTemplateLiteral(arg) || ts.isTemplateExpression(arg);
          const inner = literal ? arg.getText().replace(/^[`'"]|[`'"]$/g, '') : `\${${arg.getText()}}`;
          const message = b.template === b.param ? arg.getText() : b.template.replace(`\${${b.param}}`, inner);
          const code = b.code === 'code' ? (node.arguments[0]?.getText() ?? b.code) : b.code;
          const line = sf.getLineAndCharacterOfPosition(node.getStart()).line + 1;
          sites.push({ where: `${rel}:${line}`, code, message, hasPathDetail: b.hasPathDetail });
        }
      }
      ts.forEachChild(node, calls);
    };
    calls(sf);
  }
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
