/**
 * txnfs exec, through the built bin: the command's files land all together when it exits 0, and
 * not at all when it fails, is killed, or txnfs is interrupted.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { bin, start, txnfs } from '../helpers/bin.js';
import { corruptJournal, crashAt } from '../helpers/crash-at.js';
import { runMain } from '../helpers/main.js';
import { leftovers, snapshot, tmpdir } from '../helpers/tmp.js';

const sh = (script: string): string[] => ['--', 'sh', '-c', script];

/** A root with a few files, nested ones included. */
function seeded(): string {
  const dir = tmpdir();
  fs.mkdirSync(path.join(dir, 'keep/deep'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'a.txt'), 'old a');
  fs.writeFileSync(path.join(dir, 'keep/deep/k.txt'), 'kept');
  return dir;
}

describe('txnfs exec: the command succeeds', () => {
  it('commits every file it wrote under TXNFS_OUT, nested trees included, and cleans up', () => {
    const dir = seeded();
    const r = txnfs(['exec', dir, ...sh(`
      set -e
      echo "new a" > "$TXNFS_OUT/a.txt"
      mkdir -p "$TXNFS_OUT/x/y/z" "$TXNFS_OUT/keep/deep"
      echo b > "$TXNFS_OUT/x/b.txt"
      echo z > "$TXNFS_OUT/x/y/z/z.bin"
      echo n > "$TXNFS_OUT/keep/deep/new.txt"
      for i in 1 2 3 4 5 6 7 8 9 10; do echo "$i" > "$TXNFS_OUT/x/y/f$i"; done
    `)]);
    expect(r).toMatchObject({ status: 0, signal: null, stdout: '', stderr: '' });
    const expected: Record<string, string> = {
      'a.txt': 'new a\n', 'keep/deep/k.txt': 'kept', 'keep/deep/new.txt': 'n\n', 'x/b.txt': 'b\n', 'x/y/z/z.bin': 'z\n',
    };
    for (let i = 1; i <= 10; i++) expected[`x/y/f${i}`] = `${i}\n`;
    expect(snapshot(dir)).toEqual(expected);
    expect(leftovers(dir)).toEqual([]);
  });

  it('gives the command an empty TXNFS_OUT inside the staging dir (same filesystem) and TXNFS_DIR', () => {
    const dir = seeded();
    const probe = path.join(tmpdir(), 'probe');
    const r = txnfs(['exec', dir, ...sh(`printf '%s\\n%s\\n%s\\n' "$TXNFS_OUT" "$TXNFS_DIR" "$(ls -A "$TXNFS_OUT" | wc -l)" > "${probe}"`)]);
    expect(r.status).toBe(0);
    const [out, target, count] = fs.readFileSync(probe, 'utf8').trim().split('\n');
    expect(target).toBe(dir);
    expect(out?.startsWith(path.join(dir, '.txnfs', '.txn-'))).toBe(true);
    expect(count?.trim()).toBe('0');
    expect(fs.existsSync(out as string)).toBe(false); // removed with the transaction
  });

  it('moves the files in (same inode), it does not copy them', () => {
    const dir = tmpdir();
    const probe = path.join(tmpdir(), 'ino');
    const r = txnfs(['exec', dir, ...sh(`head -c 100000 /dev/zero > "$TXNFS_OUT/big" && stat -c %i "$TXNFS_OUT/big" > "${probe}"`)]);
    expect(r.status).toBe(0);
    expect(String(fs.statSync(path.join(dir, 'big')).ino)).toBe(fs.readFileSync(probe, 'utf8').trim());
  });

  it('does not create empty directories', () => {
    const dir = tmpdir();
    const r = txnfs(['exec', dir, ...sh('mkdir -p "$TXNFS_OUT/empty/deeper" "$TXNFS_OUT/full" && echo f > "$TXNFS_OUT/full/f"')]);
    expect(r.status).toBe(0);
    expect(fs.readdirSync(dir).sort()).toEqual(['full']);
  });

  it('passes the arguments to the command exactly, without a shell', () => {
    const dir = tmpdir();
    const r = txnfs(['exec', dir, '--', 'sh', '-c', 'printf "%s|" "$@" > "$TXNFS_OUT/args"', 'sh', 'a b', '$HOME', '*', '--json']);
    expect(r.status).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'args'), 'utf8')).toBe('a b|$HOME|*|--json|');
  });

  it('--json prints the outcome on stdout, and sends the command stdout to stderr', () => {
    const dir = tmpdir();
    const r = txnfs(['exec', dir, '--json', ...sh('echo hello from the command; echo x > "$TXNFS_OUT/x"')]);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('hello from the command\n');
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out)).toEqual(['status', 'exitCode', 'signal', 'received', 'commit']);
    expect(out).toMatchObject({ status: 'committed', exitCode: 0, signal: null, received: null, commit: { written: 1, removed: 0, bytes: 2 } });
  });

  it('prints one summary line on stdout when it is a terminal, nothing otherwise', (ctx) => {
    if (spawnSync('script', ['--version']).status !== 0) {
      ctx.skip('needs script(1) from util-linux to give the command a terminal');
      return;
    }
    const dir = tmpdir();
    const r = spawnSync('script', ['-qec', `"${process.execPath}" "${bin}" exec "${dir}" -- sh -c 'echo x > "$TXNFS_OUT/x"'`, '/dev/null'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^txnfs: committed 1 file \\(2 B\\) to ${dir.replace(/[/.]/g, '\\$&')} in \\S+\\r?\\n$`));
  });

  it('--durability none commits the same way', () => {
    const dir = tmpdir();
    const r = txnfs(['exec', dir, '--durability', 'none', ...sh('echo x > "$TXNFS_OUT/x"')]);
    expect(r.status).toBe(0);
    expect(snapshot(dir)).toEqual({ x: 'x\n' });
  });

  it('the transaction is live while the command runs: status sees it, with its owner alive', () => {
    const dir = tmpdir();
    const probe = path.join(tmpdir(), 'status.json');
    const r = txnfs(['exec', dir, ...sh(`"${process.execPath}" "${bin}" status "${dir}" --json > "${probe}"; echo "rc=$?" >> "${probe}.rc"`)]);
    expect(r.status).toBe(0);
    expect(fs.readFileSync(`${probe}.rc`, 'utf8')).toBe('rc=0\n');
    const report = JSON.parse(fs.readFileSync(probe, 'utf8'));
    expect(report.health).toBe('ok');
    expect(report.transactions).toHaveLength(1);
    expect(report.transactions[0]).toMatchObject({ state: 'staging', ownerAlive: true, needs: 'nothing' });
  });
});

describe('txnfs exec: the command fails', () => {
  it('keeps its exit code, lands nothing and removes the staging', () => {
    const dir = seeded();
    const before = snapshot(dir);
    const r = txnfs(['exec', dir, ...sh('echo new > "$TXNFS_OUT/a.txt"; echo other > "$TXNFS_OUT/b"; exit 7')]);
    expect(r.status).toBe(7);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/exited with code 7; nothing was committed/);
    expect(snapshot(dir)).toEqual(before);
    expect(leftovers(dir)).toEqual([]);
  });

  it('dies of the signal that killed the command (the shell sees 128+n), and lands nothing', () => {
    const dir = seeded();
    const before = snapshot(dir);
    for (const sig of ['TERM', 'KILL', 'INT', 'HUP']) {
      const r = txnfs(['exec', dir, ...sh(`echo x > "$TXNFS_OUT/a.txt"; kill -${sig} $$`)]);
      expect({ sig, status: r.status, signal: r.signal }).toEqual({ sig, status: null, signal: `SIG${sig}` });
      expect(r.stderr).toMatch(new RegExp(`killed by SIG${sig}; nothing was committed`));
      expect(snapshot(dir)).toEqual(before);
      expect(leftovers(dir)).toEqual([]);
    }
    // As a shell reports it.
    const viaShell = spawnSync('sh', ['-c', `"${process.execPath}" "${bin}" exec "${dir}" -- sh -c 'kill -TERM $$'; echo "rc=$?"`], { encoding: 'utf8' });
    expect(viaShell.stdout).toBe('rc=143\n');
  });

  it('exits 128+n for a signal that would dump core', () => {
    const dir = tmpdir();
    const r = txnfs(['exec', dir, ...sh('ulimit -c 0; echo x > "$TXNFS_OUT/x"; kill -SEGV $$')]);
    expect(r).toMatchObject({ status: 128 + 11, signal: null });
    expect(snapshot(dir)).toEqual({});
    expect(leftovers(dir)).toEqual([]);
  });

  it('127 for a command not found, 126 for one that cannot run', () => {
    const dir = tmpdir();
    const notFound = txnfs(['exec', dir, '--', 'txnfs-no-such-command-here']);
    expect(notFound.status).toBe(127);
    expect(notFound.stderr).toMatch(/command not found/);
    const script = path.join(tmpdir(), 'not-executable.sh');
    fs.writeFileSync(script, '#!/bin/sh\necho hi\n', { mode: 0o644 });
    const cannot = txnfs(['exec', dir, '--', script]);
    expect(cannot.status).toBe(126);
    expect(cannot.stderr).toMatch(/permission denied/);
    expect(leftovers(dir)).toEqual([]);
  });

  it('refuses symlinks and special files in the output (exit 125) and lands nothing', () => {
    const dir = seeded();
    const before = snapshot(dir);
    for (const make of ['ln -s /etc/passwd "$TXNFS_OUT/sub/link"', 'mkfifo "$TXNFS_OUT/sub/pipe"']) {
      const r = txnfs(['exec', dir, ...sh(`mkdir "$TXNFS_OUT/sub"; echo new > "$TXNFS_OUT/a.txt"; ${make}`)]);
      expect(r.status).toBe(125);
      expect(r.stderr).toMatch(/not regular files: 'sub\/(link \(symlink\)|pipe \(special file\))'.*nothing was committed/);
      expect(snapshot(dir)).toEqual(before);
      expect(leftovers(dir)).toEqual([]);
    }
  });

  it('refuses to commit when the command removed or replaced TXNFS_OUT, even with --delete-missing', () => {
    const dir = seeded();
    const before = snapshot(dir);
    const elsewhere = tmpdir();
    fs.writeFileSync(path.join(elsewhere, 'not-ours'), 'n');
    for (const script of ['rm -rf "$TXNFS_OUT"', `rm -rf "$TXNFS_OUT" && ln -s "${elsewhere}" "$TXNFS_OUT"`]) {
      const r = txnfs(['exec', dir, '--delete-missing', ...sh(script)]);
      expect(r.status).toBe(125);
      expect(r.stderr).toMatch(/(removed|replaced) TXNFS_OUT/);
      expect(snapshot(dir)).toEqual(before);
      expect(leftovers(dir)).toEqual([]);
    }
    expect(fs.readdirSync(elsewhere)).toEqual(['not-ours']);
  });

  it('refuses an output named .txnfs (exit 125) and lands nothing', () => {
    const dir = tmpdir();
    const r = txnfs(['exec', dir, ...sh('mkdir -p "$TXNFS_OUT/a/.txnfs" && echo x > "$TXNFS_OUT/a/.txnfs/x" && echo y > "$TXNFS_OUT/y"')]);
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(/reserves/);
    expect(snapshot(dir)).toEqual({});
    expect(leftovers(dir)).toEqual([]);
  });

  it('refuses to commit over a corrupt journal (exit 125) and lands nothing', () => {
    const dir = tmpdir();
    corruptJournal(dir, crashAt(dir, 'committed', 2));
    const r = txnfs(['exec', dir, ...sh('echo x > "$TXNFS_OUT/x"')]);
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(/ECORRUPT/);
    expect(fs.existsSync(path.join(dir, 'x'))).toBe(false);
  });
});

describe('txnfs exec: signals sent to txnfs', () => {
  it('forwards SIGINT to the command and commits nothing, even when the command then exits 0', async () => {
    const dir = seeded();
    const before = snapshot(dir);
    const mark = path.join(tmpdir(), 'got-int');
    const run = start(['exec', dir, ...sh(`
      trap 'echo got > "${mark}"; exit 0' INT
      echo new > "$TXNFS_OUT/a.txt"
      echo ready
      i=0; while [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done   # bounded: never outlives a failed test by long
    `)]);
    await run.output('ready');
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(fs.readFileSync(mark, 'utf8')).toBe('got\n'); // the command received it
    expect(r).toMatchObject({ status: null, signal: 'SIGINT' });
    expect(r.stderr).toMatch(/interrupted by SIGINT.*nothing was committed/);
    expect(snapshot(dir)).toEqual(before);
    expect(leftovers(dir)).toEqual([]);
  });

  it('forwards SIGTERM; the command dies of it, and so does txnfs', async () => {
    const dir = seeded();
    const before = snapshot(dir);
    const run = start(['exec', dir, ...sh('echo x > "$TXNFS_OUT/x"; echo ready; exec sleep 10')]);
    await run.output('ready');
    run.child.kill('SIGTERM');
    const r = await run.done;
    expect(r).toMatchObject({ status: null, signal: 'SIGTERM' });
    expect(snapshot(dir)).toEqual(before);
    expect(leftovers(dir)).toEqual([]);
  });
});

describe('txnfs exec: txnfs itself dies', () => {
  it('SIGKILL leaves a dead staging dir; status reports it (exit 3) and recover discards it', async () => {
    const dir = seeded();
    const before = snapshot(dir);
    const run = start(['exec', dir, ...sh('echo new > "$TXNFS_OUT/a.txt"; echo "ready $$"; exec sleep 10')]);
    const commandPid = Number(/ready (\d+)/.exec(await run.output('ready'))?.[1]);
    run.child.kill('SIGKILL');
    // The orphaned command is ours to end; it also holds the stdout pipe open until it does.
    process.kill(commandPid, 'SIGKILL');
    expect((await run.done).signal).toBe('SIGKILL');
    const status = txnfs(['status', dir, '--json']);
    expect(status.status).toBe(3);
    expect(JSON.parse(status.stdout).transactions).toEqual([expect.objectContaining({ state: 'staging', owner: 'dead', needs: 'recovery' })]);
    const recovered = txnfs(['recover', dir, '--json']);
    expect(recovered.status).toBe(0);
    expect(JSON.parse(recovered.stdout).discarded).toHaveLength(1);
    expect(snapshot(dir)).toEqual(before);
    expect(leftovers(dir)).toEqual([]);
  });
});

describe('txnfs exec --delete-missing', () => {
  it('removes the files of the root the command did not produce, in the same transaction', () => {
    const dir = seeded();
    fs.mkdirSync(path.join(dir, 'old/dir'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'old/dir/stale.csv'), 's');
    fs.writeFileSync(path.join(dir, 'stale.txt'), 's');
    fs.symlinkSync('a.txt', path.join(dir, 'link'));
    const r = txnfs(['exec', dir, '--delete-missing', ...sh('echo new > "$TXNFS_OUT/a.txt"; mkdir "$TXNFS_OUT/n"; echo n > "$TXNFS_OUT/n/n.txt"')]);
    expect(r.status).toBe(0);
    expect(snapshot(dir)).toEqual({ 'a.txt': 'new\n', 'n/n.txt': 'n\n', link: 'new\n' });
    // Regular files only: the symlink stays, and so do the emptied directories.
    expect(fs.lstatSync(path.join(dir, 'link')).isSymbolicLink()).toBe(true);
    expect(fs.readdirSync(path.join(dir, 'old/dir'))).toEqual([]);
    expect(fs.readdirSync(path.join(dir, 'keep/deep'))).toEqual([]);
    expect(leftovers(dir)).toEqual([]);
  });

  it('removes nothing when the command fails', () => {
    const dir = seeded();
    const before = snapshot(dir);
    const r = txnfs(['exec', dir, '--delete-missing', ...sh('exit 3')]);
    expect(r.status).toBe(3);
    expect(snapshot(dir)).toEqual(before);
  });

  it('with --subtree, the output lands in the subtree and nothing outside it is touched', () => {
    const dir = seeded();
    fs.mkdirSync(path.join(dir, 'reports/daily/2024'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'reports/daily/2024/old.csv'), 'old');
    fs.writeFileSync(path.join(dir, 'reports/daily/index.csv'), 'old index');
    fs.writeFileSync(path.join(dir, 'reports/weekly.csv'), 'weekly');
    const outside = ['a.txt', 'keep/deep/k.txt', 'reports/weekly.csv'];
    const stats = (): unknown[] => outside.map((f) => {
      const s = fs.statSync(path.join(dir, f), { bigint: true });
      return [f, s.ino, s.mtimeNs, s.ctimeNs];
    });
    const beforeStats = stats();
    const probe = path.join(tmpdir(), 'dir');
    const r = txnfs(['exec', dir, '--delete-missing', '--subtree', 'reports/daily',
      ...sh(`echo "$TXNFS_DIR" > "${probe}"; echo new > "$TXNFS_OUT/index.csv"; mkdir "$TXNFS_OUT/2025"; echo y > "$TXNFS_OUT/2025/y.csv"`)]);
    expect(r.status).toBe(0);
    expect(fs.readFileSync(probe, 'utf8')).toBe(`${path.join(dir, 'reports/daily')}\n`);
    expect(snapshot(dir)).toEqual({
      'a.txt': 'old a', 'keep/deep/k.txt': 'kept', 'reports/weekly.csv': 'weekly',
      'reports/daily/index.csv': 'new\n', 'reports/daily/2025/y.csv': 'y\n',
    });
    expect(stats()).toEqual(beforeStats);
  });

  it('refuses a subtree outside the root, inside .txnfs, or through a symlink (exit 125)', () => {
    const dir = seeded();
    const before = snapshot(dir);
    fs.symlinkSync('keep', path.join(dir, 'alias'));
    for (const [subtree, why] of [['../elsewhere', /outside the root/], ['.txnfs/x', /reserves/], ['alias/deep', /symlink/]] as const) {
      const r = txnfs(['exec', dir, '--delete-missing', '--subtree', subtree, ...sh('echo x > "$TXNFS_OUT/x"')]);
      expect({ subtree, status: r.status }).toEqual({ subtree, status: 125 });
      expect(r.stderr).toMatch(why);
      fs.unlinkSync(path.join(dir, 'alias')); // snapshot() would follow it
      expect(snapshot(dir)).toEqual(before);
      fs.symlinkSync('keep', path.join(dir, 'alias'));
    }
    expect(leftovers(dir)).toEqual([]);
  });
});

describe('txnfs exec: bad arguments (exit 125, nothing runs)', () => {
  it.each([
    [['exec'], /missing <dir>/],
    [['exec', 'DIR'], /missing '--' and the command/],
    [['exec', 'DIR', 'make', 'all'], /put '--' between <dir> and the command: txnfs exec \S+ -- make all/],
    [['exec', 'DIR', '--'], /missing the command after '--'/],
    [['exec', 'DIR', '--durability', 'fast', '--', 'true'], /--durability must be 'full' or 'none', not 'fast'/],
    [['exec', 'DIR', '--delete-mising', '--', 'true'], /unknown option '--delete-mising'/],
    [['exec', 'DIR', '--subtree'], /argument missing/],
  ])('%j', async (args, message) => {
    const dir = tmpdir();
    const mark = path.join(dir, 'ran');
    const r = await runMain(args.map((a) => (a === 'DIR' ? dir : a)).map((a) => (a === 'true' ? `touch ${mark}` : a)));
    expect(r.status).toBe(125);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/Usage: txnfs exec <dir> \[options\] -- <command>/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('through the bin: exit 125', () => {
    const r = txnfs(['exec', tmpdir(), '--durability', 'fast', '--', 'true']);
    expect(r).toMatchObject({ status: 125, stdout: '', stderr: expect.stringMatching(/^txnfs exec: --durability must be/) });
  });

  it('a missing root is exit 125 with a clear message', () => {
    const dir = path.join(tmpdir(), 'missing');
    const r = txnfs(['exec', dir, ...sh('echo x > "$TXNFS_OUT/x"')]);
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(/does not exist/);
    expect(fs.existsSync(dir)).toBe(false);
  });

  it('--help after -- belongs to the command', () => {
    const dir = tmpdir();
    const r = txnfs(['exec', dir, '--', 'sh', '-c', 'echo "$1" > "$TXNFS_OUT/arg"', 'sh', '--help']);
    expect(r.status).toBe(0);
    expect(snapshot(dir)).toEqual({ arg: '--help\n' });
  });
});
