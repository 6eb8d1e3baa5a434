/**
 * The txnfs executable: help, version, bad arguments, and the bin as npm ships it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bin, txnfs } from '../helpers/bin.js';
import { crashAt } from '../helpers/crash-at.js';
import { runMain as run } from '../helpers/main.js';
import { tmpdir } from '../helpers/tmp.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string> };

describe('help and version', () => {
  it('--help, -h and help print the overview with examples on stdout, exit 0', async () => {
    expect(txnfs(['--help'])).toMatchObject({ status: 0, stdout: (await run(['--help'])).stdout, stderr: '' });
    for (const args of [['--help'], ['-h'], ['help']]) {
      const r = await run(args);
      expect(r).toMatchObject({ status: 0, stderr: '' });
      expect(r.stdout).toContain('Usage:\n  txnfs exec <dir> [options] -- <command> [args...]');
      expect(r.stdout).toContain('Examples:');
    }
  });

  it.each(['exec', 'status', 'recover'])('%s has its own help, with examples and exit codes', async (command) => {
    const viaFlag = await run([command, '--help']);
    expect(viaFlag).toMatchObject({ status: 0, stderr: '' });
    expect(viaFlag.stdout).toMatch(new RegExp(`^Usage: txnfs ${command} <dir>`));
    expect(viaFlag.stdout).toContain('Examples:');
    expect(viaFlag.stdout).toContain('Exit status:');
    expect((await run([command, '-h'])).stdout).toBe(viaFlag.stdout);
    expect((await run(['help', command])).stdout).toBe(viaFlag.stdout);
    // --help wins over other (even bad) arguments.
    expect((await run([command, 'some-dir', '--bogus', '--help'])).stdout).toBe(viaFlag.stdout);
  });

  it('help lines fit in 100 columns', async () => {
    for (const args of [['--help'], ['exec', '--help'], ['status', '--help'], ['recover', '--help']]) {
      for (const line of (await run(args)).stdout.split('\n')) expect(line.length, line).toBeLessThanOrEqual(100);
    }
  });

  it('--version and -v print the package version', async () => {
    expect(txnfs(['--version'])).toMatchObject({ status: 0, stdout: `${pkg.version}\n`, stderr: '' });
    expect((await run(['-v'])).stdout).toBe(`${pkg.version}\n`);
  });
});

describe('bad arguments: exit 2, a message and the usage on stderr, nothing on stdout, no stack', () => {
  it.each([
    [[], /txnfs: missing command/],
    [['stauts', '.'], /unknown command 'stauts'. Did you mean 'status'\?/],
    [['recovr'], /Did you mean 'recover'\?/],
    [['frobnicate'], /unknown command 'frobnicate'.\n/],
    [['--frob'], /unknown option '--frob'/],
    [['help', 'nope'], /no help for 'nope'/],
  ])('%j', async (args, message) => {
    const r = await run(args);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain('Usage:');
    expect(r.stderr).toContain("Run 'txnfs --help' for more.");
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('through the bin too', () => {
    expect(txnfs(['stauts', '.'])).toMatchObject({ status: 2, stdout: '', stderr: expect.stringMatching(/^txnfs: unknown command 'stauts'/) });
  });
});

describe('the bin', () => {
  it('loads a command\'s modules only when that command runs: --help loads none of the library', () => {
    // loaded-register.mjs prints each dist/ module as Node loads it.
    const loaded = (args: readonly string[]): string[] => {
      const r = spawnSync(process.execPath, ['--import', path.join(root, 'test/fixtures/loaded-register.mjs'), bin, ...args], { encoding: 'utf8' });
      expect(r.status).toBe(0);
      return r.stderr.split('\n').filter((l) => l.startsWith('loaded ')).map((l) => path.relative(path.join(root, 'dist'), fileURLToPath(l.slice('loaded '.length))));
    };
    const help = loaded(['--help']);
    expect(help).toContain('cli/help.js');
    expect(help.filter((m) => !m.startsWith('cli') && m !== 'errors.js')).toEqual([]);
    expect(help).not.toContain('cli/exec.js');
    // A command loads what it needs, and not the other commands.
    const exec = loaded(['exec', '--help']);
    expect(exec).toContain('cli/exec.js');
    expect(exec).not.toContain('cli/doctor.js');
    expect(exec).not.toContain('platform/doctor.js');
  });

  it('package.json names the bundled dist/bundle/cli.js, which is executable and runs by its shebang', () => {
    expect(pkg.bin).toEqual({ txnfs: './dist/bundle/cli.js' });
    const bundled = path.join(root, pkg.bin.txnfs as string);
    for (const file of [bin, bundled]) {
      expect(fs.readFileSync(file, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
      expect(fs.statSync(file).mode & 0o111).toBe(0o111);
      expect(execFileSync(file, ['--version'], { encoding: 'utf8' })).toBe(`${pkg.version}\n`);
    }
  });

  it('npm pack ships it, executable, and the bundle only (no tsc module)', () => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const files = (JSON.parse(out) as { files: { path: string; mode: number }[] }[])[0]?.files ?? [];
    const cli = files.find((f) => f.path === 'dist/bundle/cli.js');
    expect(cli?.mode).toBe(0o755);
    expect(files.filter((f) => f.path.endsWith('.js') && !f.path.startsWith('dist/bundle/'))).toEqual([]);
    // Every chunk the bundled bin imports ships beside it.
    const shipped = new Set(files.map((f) => f.path));
    const chunks = [...fs.readFileSync(path.join(root, 'dist/bundle/cli.js'), 'utf8').matchAll(/from "\.\/([^"]+)"/g)].map((m) => `dist/bundle/${m[1]}`);
    expect(chunks.length).toBeGreaterThan(0);
    expect(chunks.filter((c) => !shipped.has(c))).toEqual([]);
  });

  it('a reader that goes away (EPIPE) is not an error, and does not change the exit code', () => {
    const dir = tmpdir();
    crashAt(dir, 'staged', 2);
    // `true` never reads: txnfs writes into a pipe without a reader.
    const r = spawnSync('bash', ['-c', `"${process.execPath}" "${bin}" status "${dir}" --json | true; echo "rc=\${PIPESTATUS[0]}"`], { encoding: 'utf8' });
    expect(r.stdout).toBe('rc=3\n');
    expect(r.stderr).toBe('');
  });
});
