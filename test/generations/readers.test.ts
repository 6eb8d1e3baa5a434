/**
 * Readers in other processes while a writer commits generations (docs/snapshots.md): no reader
 * that pins a snapshot, resolves the pointer once, or runs under `txnfs snapshot` ever sees a mix;
 * a pin keeps its generation across many commits and dies with its process; writers killed at
 * random leave nothing behind once recover() ran.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { recover } from '../../src/index.js';
import { bin } from '../helpers/bin.js';
import { jsonLines, run, start } from '../helpers/child.js';
import { tmpdir } from '../helpers/tmp.js';

const home = (out: string): string => path.join(path.dirname(out), `.${path.basename(out)}.txnfs`);
const gens = (out: string): number[] => (fs.existsSync(home(out)) ? fs.readdirSync(home(out)) : []).filter((n) => /^gen-\d+$/.test(n)).map((n) => Number(n.slice(4))).sort((a, b) => a - b);

/** Whether a directory holds a consistent generation (every file has the stamp `stamps` gives). */
function consistent(dir: string): boolean {
  for (const line of fs.readFileSync(path.join(dir, 'stamps'), 'utf8').split('\n')) {
    const [name, stamp] = line.split(' ');
    if (name === undefined || name === '') continue;
    if (fs.readFileSync(path.join(dir, name), 'utf8') !== stamp) return false;
  }
  return true;
}

/** One `txnfs snapshot` run around a shell command; returns whether what it read was consistent. */
async function cliRead(out: string): Promise<{ ok: boolean; text: string }> {
  const script = 'cd "$TXNFS_SNAPSHOT" && cat stamps && echo && echo --- && for f in f*; do printf "%s %s\\n" "$f" "$(cat "$f")"; done';
  const r = await run('', [], { command: [process.execPath, bin, 'snapshot', out, '--', 'sh', '-c', script] });
  const text = r.stdout + r.stderr;
  const [stamps = '', files = ''] = text.split('---');
  const want = stamps.split('\n').filter((l) => l !== '').sort().join('\n');
  const got = files.split('\n').filter((l) => l !== '').sort().join('\n');
  return { ok: r.status === 0 && want === got && want !== '', text };
}

describe('readers in other processes', () => {
  it('while a writer commits, snapshot, realpath-once and txnfs snapshot readers see 0 mixed reads', async () => {
    const out = path.join(tmpdir(), 'out');
    const writer = start('gen-writer.mjs', [out, '6000', '10']);
    await writer.output('ACK 1');
    const readers = ['snapshot', 'realpath', 'naive'].map((mode) => run('gen-reader.mjs', [mode, out, '4500']));
    const cli: { ok: boolean; text: string }[] = [];
    const until = Date.now() + 4500;
    while (Date.now() < until) cli.push(await cliRead(out));
    const results = (await Promise.all(readers)).map((r) => {
      expect(r.stderr).toBe('');
      return jsonLines<{ mode: string; reads: number; mixed: number; vanished: number; generations: number; firstMix: string[] }>(r.stdout)[0];
    });
    const w = await writer.done;
    expect(w.stderr).toBe('');
    const commits = Number(/DONE (\d+)/.exec(w.stdout)?.[1]);
    const [snapshot, realpath, naive] = results;
    console.log(JSON.stringify({ commits, snapshot, realpath, naive, cli: { reads: cli.length, mixed: cli.filter((c) => !c.ok).length } }));
    expect(commits).toBeGreaterThan(20);
    expect(snapshot).toMatchObject({ mixed: 0 });
    expect(realpath).toMatchObject({ mixed: 0 });
    expect(cli.filter((c) => !c.ok).map((c) => c.text)).toEqual([]);
    expect(snapshot?.reads).toBeGreaterThan(20);
    expect(realpath?.reads).toBeGreaterThan(20);
    expect(cli.length).toBeGreaterThanOrEqual(2);
    // Readers really overlapped many commits.
    expect(snapshot?.generations).toBeGreaterThan(5);
    expect(realpath?.generations).toBeGreaterThan(5);
    // Every pin was released. A reader that released its pin after the writer's last commit (a
    // busy machine) leaves its generation for the next collector: recover() is one. Afterwards
    // only the current and the previous generation remain.
    expect(fs.readdirSync(path.join(home(out), 'pins'))).toEqual([]);
    await recover(out);
    expect(gens(out)).toEqual([commits - 1, commits]);
  }, 60_000);

  it('a pin held by another process keeps its generation across many commits; SIGKILLed, it is released', async () => {
    const out = path.join(tmpdir(), 'out');
    expect((await run('gen-writer.mjs', [out, '100', '10'])).stderr).toBe('');
    const holder = start('gen-pin-holder.mjs', [out]);
    const line = await holder.output('\n');
    const [, g, dir] = /PINNED (\d+) (\S+)/.exec(line) ?? [];
    const before = fs.readFileSync(path.join(dir as string, 'stamps'), 'utf8');
    const w = await run('gen-writer.mjs', [out, '1500', '10']);
    expect(w.stderr).toBe('');
    // Many generations later, the pinned one is still there, unchanged and consistent.
    expect(gens(out)[0]).toBe(Number(g));
    expect(gens(out).length).toBe(3);
    expect(fs.readFileSync(path.join(dir as string, 'stamps'), 'utf8')).toBe(before);
    expect(consistent(dir as string)).toBe(true);
    const status = await run('', [], { command: [process.execPath, bin, 'status', out, '--json'] });
    expect(JSON.parse(status.stdout).generations.pins).toMatchObject([{ generation: Number(g), pid: holder.child.pid, live: true }]);
    holder.child.kill('SIGKILL');
    await holder.done;
    // Same host: the dead holder is recognised at once (pid gone), no stale time to wait.
    const rep = await recover(out);
    expect(rep.generations?.collected).toEqual([Number(g)]);
    expect(fs.readdirSync(path.join(home(out), 'pins'))).toEqual([]);
    expect(fs.existsSync(dir as string)).toBe(false);
  }, 60_000);

  it('writers SIGKILLed at random points leave nothing behind once recover() ran; nothing acknowledged is lost', async () => {
    const out = path.join(tmpdir(), 'out');
    let acked = 0;
    for (let round = 0; round < 6; round++) {
      const writer = start('gen-writer.mjs', [out, '10000', '300']);
      // Odd rounds: at a random moment after the start (maybe before any commit); even rounds: at
      // a random moment after the first acknowledged commit (a spawn takes long on a busy machine).
      if (round % 2 === 0) await writer.output('ACK');
      await new Promise((r) => setTimeout(r, 50 + Math.floor(Math.random() * 400)));
      writer.child.kill('SIGKILL');
      const w = await writer.done;
      for (const m of w.stdout.matchAll(/ACK (\d+)/g)) acked = Math.max(acked, Number(m[1]));
      await recover(out);
      if (!fs.existsSync(out)) {
        // Killed before its first commit's swap: nothing was published, nothing may remain.
        expect(acked).toBe(0);
        expect(gens(out)).toEqual([]);
        // (Killed before it even made the generation home: nothing at all.)
        if (fs.existsSync(home(out))) expect(fs.readdirSync(path.join(home(out), '.txnfs'))).toEqual([]);
        continue;
      }
      const link = fs.readlinkSync(out);
      const current = Number(/gen-(\d+)$/.exec(link)?.[1]);
      expect(current).toBeGreaterThanOrEqual(acked);
      expect(consistent(fs.realpathSync(out))).toBe(true);
      expect(fs.readdirSync(path.dirname(out)).sort()).toEqual(['.out.txnfs', 'out']);
      expect(fs.readdirSync(home(out)).filter((n) => !/^gen-\d+$/.test(n)).sort()).toEqual(['.txnfs', 'pins'].filter((n) => fs.existsSync(path.join(home(out), n))));
      expect(fs.readdirSync(path.join(home(out), '.txnfs'))).toEqual([]);
      expect(gens(out).every((n) => n === current || n === current - 1)).toBe(true);
    }
    expect(acked).toBeGreaterThan(0);
  }, 90_000);
});
