import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { defaults } from '../src/options/options.js';
import { fileDefaults, resolveFileOptions, updateKeys, writeFileKeys, writeJsonKeys } from '../src/options/file-options.js';

const docs = fs.readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), '../docs/single-file.md'), 'utf8');

/** The "Default" cell of the options table row whose first cell is `` `name` ``. */
function documentedDefault(name: string): string {
  const row = docs.split('\n').find((l) => l.startsWith(`| \`${name}\` |`));
  if (row === undefined) throw new Error(`docs/single-file.md has no options row for ${name}`);
  return row.split('|')[2]?.trim() ?? '';
}

describe('defaults', () => {
  it('are the ones in docs/single-file.md', () => {
    expect(fileDefaults).toEqual({ mode: undefined, chown: true, mkdirs: false, durability: 'full', exclusive: false, dryRun: false, encoding: 'utf8' });
    expect(Object.isFrozen(fileDefaults)).toBe(true);
    for (const [key, value] of Object.entries(fileDefaults)) {
      const cell = documentedDefault(key);
      if (value === undefined) expect(cell, key).toMatch(/^keep the existing file's mode/);
      else expect(cell, key).toBe(typeof value === 'string' ? `\`'${value}'\`` : `\`${String(value)}\``);
    }
    expect(documentedDefault('lockStale`, `lockUpdate`, `lockTimeout')).toBe(`\`${defaults.lockStale}\`, \`lockStale / 2\`, \`${defaults.lockTimeout}\``);
  });

  it('every accepted option has a row in the docs', () => {
    for (const key of new Set([...writeFileKeys, ...writeJsonKeys, ...updateKeys])) {
      expect(docs, key).toMatch(new RegExp(`\\| [^|]*\`${key}\``));
    }
  });

  it('are what an empty options object resolves to', () => {
    const { resolved } = resolveFileOptions(undefined, writeFileKeys);
    expect(resolved).toMatchObject({ mode: undefined, chown: true, mkdirs: false, exclusive: false, dryRun: false, encoding: 'utf8' });
    expect(resolved.common.durability).toBe(fileDefaults.durability);
    expect(resolved.common.durable).toBe(true);
  });
});

describe('validation', () => {
  it('copies the options and never changes them', () => {
    const options = { mode: 0o600, chown: { uid: 1, gid: 2 } };
    const { o } = resolveFileOptions(options, writeFileKeys);
    expect(o).not.toBe(options);
    expect(options).toEqual({ mode: 0o600, chown: { uid: 1, gid: 2 } });
  });

  it('refuses unknown keys, wrong types and out-of-range values, quoting the value', () => {
    const bad: [Record<string, unknown>, RegExp | ErrorConstructor][] = [
      [{ nope: 1 }, /Unknown option "nope"/],
      [{ mode: -1 }, RangeError],
      [{ mode: 1.5 }, RangeError],
      [{ mode: '0644' }, /Received "0644" \(type string\)/],
      [{ chown: 'root' }, TypeError],
      [{ chown: { uid: 1 } }, TypeError],
      [{ chown: { uid: 1, gid: 2 ** 33 } }, RangeError],
      [{ mkdirs: 1 }, TypeError],
      [{ exclusive: 'true' }, TypeError],
      [{ dryRun: null }, TypeError],
      [{ encoding: 'utf9' }, /Received "utf9"/],
      [{ durability: 'fast' }, TypeError],
      [{ signal: 'stop' }, TypeError],
    ];
    for (const [options, expected] of bad) expect(() => resolveFileOptions(options, writeFileKeys), JSON.stringify(options)).toThrow(expected as never);
    expect(() => resolveFileOptions({ lockStale: 100 }, updateKeys)).toThrow(RangeError);
    expect(() => resolveFileOptions({ lockStale: 5000 }, writeFileKeys)).toThrow(/Unknown option "lockStale"/);
    expect(() => resolveFileOptions('w', writeFileKeys)).toThrow(/"encoding" argument must be a Buffer encoding/);
    expect(resolveFileOptions('latin1', writeFileKeys).resolved.encoding).toBe('latin1');
    expect(() => resolveFileOptions('utf8', updateKeys)).toThrow(/"options" argument must be an object/);
  });
});
