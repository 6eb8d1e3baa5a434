/**
 * ids.ts: nanoid's alphabet and sizes, drawn without loading Web Crypto.
 */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { urlAlphabet } from 'nanoid';
import { describe, expect, it } from 'vitest';
import { nameId, newId } from '../src/ids.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describe('newId', () => {
  // 100,000 ids draw about 3.4 MB of random bytes: some 830 pools of 4 KiB, so a slice handed out
  // twice or a pool not refilled shows as repeats.
  it('is 21 characters of nanoid\'s URL alphabet by default, the size asked otherwise, and never repeats in 100,000', () => {
    const alphabet = new Set(urlAlphabet);
    const seen = new Set<string>();
    for (let i = 0; i < 100_000; i++) seen.add(newId());
    expect(seen.size).toBe(100_000);
    for (const id of [...seen].slice(0, 1000)) {
      expect(id).toHaveLength(21);
      expect([...id].every((c) => alphabet.has(c))).toBe(true);
    }
    expect(newId(12)).toHaveLength(12);
    // Longer than the pool of random bytes (drawn on their own), and the draws after it.
    const long = newId(5000);
    expect(long).toHaveLength(5000);
    expect([...long].every((c) => alphabet.has(c))).toBe(true);
    expect(new Set([newId(), newId(), long.slice(0, 21)]).size).toBe(3);
    // Every character of the alphabet is drawn (a mask that dropped a bit would miss half).
    const used = new Set([...seen].join(''));
    expect(used.size).toBe(64);
  });

  it('nameId never begins with - or _ (drawn until each would have come first many times)', () => {
    let first = 0;
    for (let i = 0; i < 20_000; i++) {
      const id = nameId(12);
      expect(id).toHaveLength(12);
      expect(id).toMatch(/^[A-Za-z0-9][A-Za-z0-9_-]{11}$/);
      if (id[0] === 'x') first++;
    }
    // 'x' comes first for its own draws and for the two it replaces: about 3/64 of them.
    expect(first).toBeGreaterThan(20_000 / 64 * 2);
  });

  it('does not load Web Crypto (its first use costs a process about 1 ms)', () => {
    const script = `const { newId } = await import(${JSON.stringify(path.join(repo, 'dist/ids.js'))});
newId();
console.log(JSON.stringify(process.moduleLoadList.filter((m) => m.includes('crypto/webidl'))));`;
    expect(JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }))).toEqual([]);
  });
});
