import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { callbackify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { defaults } from '../../src/options/options.js';
import { fileDefaults, resolveFileOptions, updateKeys, writeFileKeys, writeJsonKeys } from '../../src/options/file-options.js';
import { update, writeFile, writeJson } from '../../src/index.js';
import { tmpdir } from '../helpers/tmp.js';

const docs = fs.readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), '../../docs/single-file.md'), 'utf8');

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

describe('a callback', () => {
  // fs users pass one: `fs.writeFile(path, data, options, cb)`. Ignored, the write would happen
  // and the callback never run; so the call rejects before anything is written.
  const calls: [string, (dir: string, cb: () => void) => Promise<unknown>][] = [
    ['writeFile(f, data, cb)', (dir, cb) => (writeFile as (...a: unknown[]) => Promise<unknown>)(path.join(dir, 'f'), 'data', cb)],
    ['writeFile(f, data, {}, cb)', (dir, cb) => (writeFile as (...a: unknown[]) => Promise<unknown>)(path.join(dir, 'f'), 'data', {}, cb)],
    ['writeFile(f, data, undefined, cb)', (dir, cb) => (writeFile as (...a: unknown[]) => Promise<unknown>)(path.join(dir, 'f'), 'data', undefined, cb)],
    ['writeJson(f, value, {}, cb)', (dir, cb) => (writeJson as (...a: unknown[]) => Promise<unknown>)(path.join(dir, 'f'), { a: 1 }, {}, cb)],
    ['update(f, fn, {}, cb)', (dir, cb) => (update as (...a: unknown[]) => Promise<unknown>)(path.join(dir, 'f'), () => 'data', {}, cb)],
  ];

  it.each(calls)('%s rejects with a TypeError that points to the promise, writes nothing and never calls it', async (shape, run) => {
    const dir = tmpdir();
    let called = 0;
    const name = shape.slice(0, shape.indexOf('('));
    const err = await run(dir, () => void called++).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect(err).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE', message: expect.stringContaining(`${name}() takes no callback: it returns a promise`) });
    expect((err as Error).message).toContain(`util.callbackify(${name})`);
    expect(fs.readdirSync(dir)).toEqual([]);
    expect(called).toBe(0);
  });

  it('any other extra argument is refused too, and undefined ones are not extra', async () => {
    const dir = tmpdir();
    const call = writeFile as (...a: unknown[]) => Promise<unknown>;
    await expect(call(path.join(dir, 'f'), 'data', {}, 'utf8')).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE', message: "writeFile() takes at most 3 arguments. Received \"utf8\" (type string) as argument 4." });
    expect(fs.readdirSync(dir)).toEqual([]);
    await call(path.join(dir, 'f'), 'data', undefined, undefined);
    expect(fs.readFileSync(path.join(dir, 'f'), 'utf8')).toBe('data');
  });

  it('util.callbackify, which the message suggests, gives the callback API', async () => {
    const dir = tmpdir();
    const write = callbackify(writeFile as (p: string, d: string, o: { mode: number }) => Promise<unknown>);
    const err = await new Promise((resolve) => write(path.join(dir, 'f'), 'data', { mode: 0o600 }, resolve));
    expect(err).toBeNull();
    expect(fs.readFileSync(path.join(dir, 'f'), 'utf8')).toBe('data');
    expect(fs.statSync(path.join(dir, 'f')).mode & 0o777).toBe(0o600);
  });
});
