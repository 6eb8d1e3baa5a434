import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { transaction } from '../../src/index.js';
import { txnfs } from '../helpers/bin.js';
import { tmpdir } from '../helpers/tmp.js';

async function generationsRoot(): Promise<string> {
  const out = path.join(tmpdir(), 'out');
  await transaction({ dir: out, layout: 'generations' }, (tx) => void tx.write('a.txt', 'one'));
  await transaction({ dir: out, layout: 'generations' }, (tx) => void tx.write('a.txt', 'two'));
  return out;
}

describe('txnfs snapshot', () => {
  it('runs the command with TXNFS_SNAPSHOT = the pinned generation, holds the pin while it runs, exits with its code', async () => {
    const out = await generationsRoot();
    const pins = path.join(path.dirname(out), '.out.txnfs', 'pins');
    const r = txnfs(['snapshot', out, '--', 'sh', '-c', `printf '%s\\n' "$TXNFS_SNAPSHOT"; cat "$TXNFS_SNAPSHOT/a.txt"; echo; ls "${pins}" | wc -l; exit 7`]);
    expect(r.stderr).toBe('');
    const [dir, content, pinCount] = r.stdout.split('\n');
    expect(dir).toBe(path.join(path.dirname(out), '.out.txnfs', 'gen-2'));
    expect(content).toBe('two');
    expect(pinCount?.trim()).toBe('1');
    expect(r.status).toBe(7);
    expect(fs.readdirSync(pins)).toEqual([]);
  });

  it('dies of the signal that killed the command', async () => {
    const out = await generationsRoot();
    const r = txnfs(['snapshot', out, '--', 'sh', '-c', 'kill -TERM $$']);
    expect(r.signal).toBe('SIGTERM');
  });

  it('125 when <dir> is not a generations pointer or the arguments are wrong; 127 for a missing command', async () => {
    const plain = tmpdir();
    const r = txnfs(['snapshot', plain, '--', 'true']);
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(/ETARGET/);
    expect(txnfs(['snapshot', plain]).status).toBe(125);
    const out = await generationsRoot();
    expect(txnfs(['snapshot', out, '--', 'no-such-command-txnfs']).status).toBe(127);
    expect(txnfs(['snapshot', '--help']).stdout).toMatch(/TXNFS_SNAPSHOT/);
  });

  it('status and recover show the generations', async () => {
    const out = await generationsRoot();
    const s = txnfs(['status', out]);
    expect(s.status).toBe(0);
    expect(s.stdout).toMatch(/generation: 2; in the home: 1, 2/);
    const j = JSON.parse(txnfs(['status', out, '--json']).stdout) as { generations: { current: number; generations: number[] } };
    expect(j.generations).toMatchObject({ current: 2, generations: [1, 2] });
    fs.unlinkSync(out);
    const rec = txnfs(['recover', out]);
    expect(rec.status).toBe(0);
    expect(rec.stdout).toMatch(/generation: 2 \(pointer re-created\); kept: 1, 2; collected: none/);
    expect(fs.readlinkSync(out)).toBe('.out.txnfs/gen-2');
  });
});
