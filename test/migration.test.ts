// The README's migration section (issue 18) is run, not just read: every call in its table of
// "calls the peers accept that txnfs refuses" is made against write-file-atomic and atomically
// (one of them accepts it), against txnfs (a TypeError, nothing written), and what the table says
// to write instead is made against txnfs (it works). The peers' behaviour that the section
// contrasts (temp names and place, dangling symlinks, parents) is checked against the installed
// peers too, so a peer upgrade that changes it fails here instead of leaving the README wrong.
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as atomically from 'atomically';
import { describe, expect, it } from 'vitest';
import { writeFile } from '../src/index.js';
import { repo } from './helpers/install.js';
import { tmpdir } from './helpers/tmp.js';

type WriteFn = (...args: unknown[]) => unknown;
const writeFileAtomic = createRequire(import.meta.url)('write-file-atomic') as WriteFn & { sync: WriteFn };

interface Row {
  readonly peer: string;
  readonly instead: readonly string[];
}

/** The rows of the table that follows `<!-- checked: test/migration.test.ts -->` in README.md. */
function rows(): Row[] {
  const lines = fs.readFileSync(path.join(repo, 'README.md'), 'utf8').split('\n');
  const at = lines.findIndex((l) => l.trim() === '<!-- checked: test/migration.test.ts -->');
  if (at < 0) throw new Error('README.md: the checked migration table is gone');
  const out: Row[] = [];
  for (const line of lines.slice(at + 3)) {
    if (!line.startsWith('|')) break;
    const cells = line.split(' | ');
    const spans = (cell: string): string[] => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string);
    const peer = spans(cells[0] as string)[0];
    if (peer === undefined || cells.length !== 3) throw new Error(`README.md: a row without a call: ${line}`);
    out.push({ peer, instead: spans(cells[2] as string).filter((s) => /^(await )?writeFile\(/.test(s)) });
  }
  return out;
}

/** Run `code` (a call as the README spells it) with `writeFile` bound to `impl`. */
async function call(impl: unknown, code: string, f: string, done: (err?: unknown) => void = () => undefined): Promise<unknown> {
  const AsyncFunction = (async () => undefined).constructor as new (...args: string[]) => (...args: unknown[]) => Promise<unknown>;
  return new AsyncFunction('writeFile', 'f', 'data', 'done', `return ${code.replace(/^await /, '')};`)(impl, f, 'data', done);
}

/** Whether `impl` writes `f` when called as `code`; a callback form waits for its callback. */
async function accepted(impl: unknown, code: string, f: string): Promise<boolean> {
  try {
    if (code.includes('(err) => {}')) {
      const err = await new Promise((resolve) => void call(impl, code.replace('(err) => {}', 'done'), f, resolve).catch(resolve));
      if (err instanceof Error) return false;
    } else {
      await call(impl, code, f);
    }
    return fs.existsSync(f);
  } catch {
    return false;
  }
}

const table = rows();

describe('README: calls the peers accept that txnfs refuses', () => {
  it('lists the call shapes of issue 18 (encoding string, undefined data, string or boolean mode, tmpfileCreated, .sync)', () => {
    const calls = table.map((r) => r.peer).join('\n');
    for (const shape of ["'utf8')", 'undefined)', "mode: '644'", 'mode: false', 'tmpfileCreated', '.sync(']) expect(calls).toContain(shape);
    expect(table.every((r) => r.instead.length > 0)).toBe(true);
  });

  it.each(table.map((r) => [r.peer, r] as const))('%s: a peer accepts it', async (_, row) => {
    const dir = tmpdir();
    const peers: unknown[] = [writeFileAtomic, atomically.writeFile];
    if (row.peer.startsWith('writeFile.sync')) peers.splice(0, 2, Object.assign((f: string, d: string) => writeFileAtomic.sync(f, d), { sync: writeFileAtomic.sync }));
    const results = [];
    for (const [i, peer] of peers.entries()) results.push(await accepted(peer, row.peer, path.join(dir, `peer-${i}`)));
    expect(results).toContain(true);
  });

  it.each(table.map((r) => [r.peer, r] as const))('%s: txnfs throws a TypeError and writes nothing; what to write instead works', async (_, row) => {
    const dir = tmpdir();
    const f = path.join(dir, 'f');
    await expect(call(writeFile, row.peer, f)).rejects.toBeInstanceOf(TypeError);
    expect(fs.existsSync(f)).toBe(false);
    for (const code of row.instead) {
      const g = path.join(dir, `instead-${row.instead.indexOf(code)}`);
      await call(writeFile, code, g);
      expect(fs.existsSync(g), code).toBe(true);
    }
  });
});

describe('README: what differs from the peers', () => {
  it('the peers put their temp file next to the target, named after it; txnfs puts it in <dir>/.txnfs/, named after its writer', async () => {
    const dir = tmpdir();
    const name = 'x'.repeat(200);
    const temps: string[] = [];
    await writeFileAtomic(path.join(dir, 'a'), 'data', { tmpfileCreated: (t: string) => void temps.push(t) });
    await atomically.writeFile(path.join(dir, name), 'data', { tmpCreated: (t: string) => void temps.push(t) });
    expect(path.dirname(temps[0] as string)).toBe(dir);
    expect(path.basename(temps[0] as string)).toMatch(/^a\.\d+$/);
    expect(path.dirname(temps[1] as string)).toBe(dir);
    // Cut to 128 bytes, keeping the `.tmp-` + 16 characters suffix.
    expect(path.basename(temps[1] as string)).toMatch(/^x+\.tmp-\d{10}[0-9a-f]{6}$/);
    expect(path.basename(temps[1] as string)).toHaveLength(128);

    // txnfs: the temp is in .txnfs/ while the write runs, at most 65 bytes.
    const seen: string[] = [];
    const slow = async function* (): AsyncGenerator<string> {
      yield 'a';
      seen.push(...fs.readdirSync(path.join(dir, '.txnfs')));
      yield 'b';
    };
    await writeFile(path.join(dir, name), slow());
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatch(/^\.tmp-/);
    expect((seen[0] as string).length).toBeLessThanOrEqual(65);
  });

  it('write-file-atomic and atomically replace a dangling symlink with a file; txnfs creates the file it names', async () => {
    const dir = tmpdir();
    const impls: [string, unknown][] = [['write-file-atomic', writeFileAtomic], ['atomically', atomically.writeFile], ['txnfs', writeFile]];
    for (const [name, impl] of impls) {
      fs.symlinkSync(`${name}-target`, path.join(dir, name));
      await call(impl, 'writeFile(f, data)', path.join(dir, name));
      expect([name, fs.lstatSync(path.join(dir, name)).isSymbolicLink(), fs.existsSync(path.join(dir, `${name}-target`))]).toEqual([name, name === 'txnfs', name === 'txnfs']);
    }
  });

  it('atomically creates missing parents; txnfs only with mkdirs', async () => {
    const dir = tmpdir();
    await atomically.writeFile(path.join(dir, 'a/b/f'), 'data');
    expect(fs.existsSync(path.join(dir, 'a/b/f'))).toBe(true);
    await expect(writeFile(path.join(dir, 'c/d/f'), 'data')).rejects.toMatchObject({ code: 'EFS' });
    await writeFile(path.join(dir, 'c/d/f'), 'data', { mkdirs: true });
    expect(fs.existsSync(path.join(dir, 'c/d/f'))).toBe(true);
  });
});
