import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { begin, createWriteStream, doctor, inspect, recover, update, writeFile, writeJson } from '../../src/index.js';
import { begin as s3Begin, recover as s3Recover, s3Store } from '../../src/s3/index.js';
import { tmpdir } from '../helpers/tmp.js';
import { memoryS3 } from '../s3/memory.js';

// Issue 12 item 15, issue 13: every option is checked by one validator (src/options/options.ts), so one
// bad value gets the same class, code and message from every entry point that takes the option.

interface Caught {
  readonly name: string;
  readonly code: unknown;
  readonly message: string;
}

async function caught(act: () => unknown): Promise<Caught | 'no error'> {
  try {
    const r = act();
    if (r instanceof Promise) await r;
    else if (r !== null && typeof r === 'object' && 'destroy' in r) (r as { destroy(): void }).destroy();
  } catch (err) {
    const e = err as Error & { code?: unknown };
    return { name: e.constructor.name, code: e.code, message: e.message };
  }
  return 'no error';
}

type Options = Record<string, unknown>;
const f = (dir: string): string => path.join(dir, 'f');

/** Every entry point that takes options, called with `o` where it takes them. */
const entries: Record<string, (dir: string, o: Options) => unknown> = {
  begin: (d, o) => begin({ dir: d, ...o }),
  'tx.write': (d, o) => begin({ dir: d }).write('f', 'x', o),
  'tx.writeJson': (d, o) => begin({ dir: d }).writeJson('f', 1, o),
  'tx.createWriteStream': (d, o) => begin({ dir: d }).createWriteStream('f', o),
  'tx.adopt': (d, o) => begin({ dir: d }).adopt('f', f(d), o),
  writeFile: (d, o) => writeFile(f(d), 'x', o),
  writeJson: (d, o) => writeJson(f(d), 1, o),
  createWriteStream: (d, o) => createWriteStream(f(d), o),
  update: (d, o) => update(f(d), () => 'x', o),
  recover: (d, o) => recover(d, o),
  inspect: (d, o) => inspect(d, o as { lockStale?: number }),
  doctor: (d, o) => doctor(d, o),
  // txnfs/s3 takes the options it shares with a local root through the same validator.
  's3.begin': (_d, o) => s3Begin({ store: s3(), ...o }),
  's3.tx.write': (_d, o) => s3Begin({ store: s3() }).write('f', 'x', o),
  's3.tx.writeJson': (_d, o) => s3Begin({ store: s3() }).writeJson('f', 1, o),
  's3.tx.createWriteStream': (_d, o) => s3Begin({ store: s3() }).createWriteStream('f', o),
  's3.recover': (_d, o) => s3Recover({ store: s3(), ...o }),
};

function s3(): ReturnType<typeof s3Store> {
  return s3Store({ client: memoryS3().client, bucket: 'b' });
}

const fileWriters = ['writeFile', 'writeJson', 'createWriteStream'];
/** Which entry points take each option, and values every one of them must refuse. */
const options: Record<string, { takenBy: string[]; bad: unknown[] }> = {
  mode: { takenBy: ['tx.write', 'tx.writeJson', 'tx.createWriteStream', 'tx.adopt', ...fileWriters, 'update'], bad: [Number.NaN, -1, 1.5, 0o10000, '644', null, Number.POSITIVE_INFINITY] },
  exclusive: { takenBy: ['tx.write', 'tx.writeJson', 'tx.createWriteStream', ...fileWriters, 's3.tx.write', 's3.tx.writeJson', 's3.tx.createWriteStream'], bad: ['yes', 1, null] },
  dryRun: { takenBy: [...fileWriters, 'update', 'recover', 's3.recover'], bad: ['yes', 1, null] },
  mkdirs: { takenBy: [...fileWriters, 'update'], bad: ['yes', 1] },
  chown: { takenBy: [...fileWriters, 'update'], bad: ['root', { uid: 1 }, { uid: -1, gid: 0 }] },
  encoding: { takenBy: fileWriters, bad: ['utf-9', 5, null] },
  spaces: { takenBy: ['tx.writeJson', 'writeJson', 's3.tx.writeJson'], bad: [{}, true, null] },
  replacer: { takenBy: ['tx.writeJson', 'writeJson', 's3.tx.writeJson'], bad: [5, 'x', {}] },
  durability: { takenBy: ['begin', ...fileWriters, 'update', 'recover'], bad: ['fast', 1] },
  signal: { takenBy: ['begin', ...fileWriters, 'update', 'recover', 's3.begin'], bad: [{}, 'abort'] },
  lockStale: { takenBy: ['begin', 'update', 'recover', 'inspect', 'doctor'], bad: [Number.NaN, '10000', 1000, 3e9, Number.POSITIVE_INFINITY, -1] },
  lockUpdate: { takenBy: ['begin', 'update', 'recover'], bad: [500, 'x', 6000] },
  lockTimeout: { takenBy: ['begin', 'update', 'recover'], bad: [-1, Number.NaN, '1'] },
  concurrency: { takenBy: ['begin', 'recover', 's3.begin'], bad: [0, 1.5, 2000, '4'] },
};

const shown = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v));
const table = Object.entries(options).flatMap(([option, { takenBy, bad }]) => bad.map((value) => ({ option, value, shown: shown(value), takenBy })));

describe('one validator: the same bad value gets the same error from every entry point', () => {
  it.each(table)('$option = $shown', async ({ option, value, takenBy }) => {
    const dir = tmpdir();
    const results: Record<string, Caught | 'no error'> = {};
    for (const name of takenBy) results[name] = await caught(() => entries[name]!(dir, { [option]: value }));
    const first = results[takenBy[0]!]!;
    expect(first).not.toBe('no error');
    expect((first as Caught).name).toMatch(/^(TypeError|RangeError)$/);
    expect((first as Caught).code).toMatch(/^ERR_(INVALID_ARG_TYPE|INVALID_ARG_VALUE|OUT_OF_RANGE)$/);
    expect((first as Caught).message).toContain(`"${option}`);
    for (const name of takenBy) expect(results[name], name).toEqual(first);
  });

  it('writeJson: a value JSON cannot represent, same error from both', async () => {
    const dir = tmpdir();
    const fromTx = await caught(() => begin({ dir }).writeJson('f', undefined));
    const fromFile = await caught(() => writeJson(path.join(dir, 'f'), undefined));
    expect(fromTx).not.toBe('no error');
    expect(fromTx).toEqual(fromFile);
  });

  it('an unknown key is refused the same way everywhere, inspect() and doctor() included', async () => {
    const dir = tmpdir();
    const results = await Promise.all(Object.values(entries).map((call) => caught(() => call(dir, { durabilty: 'none' }))));
    for (const r of results) expect(r).toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE', message: expect.stringMatching(/^Unknown option "durabilty" in "options"/) });
  });
});
