/**
 * Issue 18: `encoding` on tx.write (as writeFile has) and file: URLs for begin({ dir }) and
 * recover() (as writeFile accepts); bad values are clear TypeErrors, and nothing is staged.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { begin, recover, writeFile } from '../../src/index.js';
import { tmpdir } from '../helpers/tmp.js';

const latin1 = 'caf\u00e9';

describe('tx.write: encoding', () => {
  it('encodes string data, string chunks, JSON text and stream writes as writeFile does', async () => {
    const dir = tmpdir();
    const tx = begin({ dir });
    tx.write('s', latin1, { encoding: 'latin1' });
    tx.write('h', 'cafe', { encoding: 'hex' });
    tx.write('chunks', [latin1, Buffer.from('!')], { encoding: 'latin1' });
    tx.write('readable', Readable.from([latin1]), { encoding: 'latin1' });
    tx.writeJson('j', latin1, { encoding: 'utf16le' });
    tx.write('default', latin1);
    await pipeline(Readable.from([latin1], { objectMode: true }), tx.createWriteStream('stream', { encoding: 'latin1' }));
    await tx.commit();
    const bytes = (name: string): Buffer => fs.readFileSync(path.join(dir, name));
    expect(bytes('s')).toEqual(Buffer.from([0x63, 0x61, 0x66, 0xe9]));
    expect(bytes('h')).toEqual(Buffer.from([0xca, 0xfe]));
    expect(bytes('chunks')).toEqual(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x21]));
    expect(bytes('readable')).toEqual(Buffer.from([0x63, 0x61, 0x66, 0xe9]));
    expect(bytes('j')).toEqual(Buffer.from(`"${latin1}"\n`, 'utf16le'));
    expect(bytes('default')).toEqual(Buffer.from(latin1, 'utf8'));
    expect(bytes('stream')).toEqual(Buffer.from([0x63, 0x61, 0x66, 0xe9]));
    // The same bytes writeFile makes.
    await writeFile(path.join(dir, 'file'), latin1, { encoding: 'latin1' });
    expect(bytes('file')).toEqual(bytes('s'));
  });

  it('a bad encoding is the TypeError writeFile gives, at the call, and nothing is staged', async () => {
    const dir = tmpdir();
    const tx = begin({ dir });
    let fromTx: unknown;
    try {
      tx.write('f', 'x', { encoding: 'klingon' as BufferEncoding });
    } catch (err) {
      fromTx = err;
    }
    const fromFile = await writeFile(path.join(dir, 'f'), 'x', { encoding: 'klingon' as BufferEncoding }).catch((err: unknown) => err);
    expect(fromTx).toBeInstanceOf(TypeError);
    expect(fromTx).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', message: (fromFile as Error).message });
    expect(() => tx.createWriteStream('g', { encoding: 5 as never })).toThrow(TypeError);
    expect(() => tx.writeJson('g', 1, { encoding: null as never })).toThrow(/encoding/);
    // adopt() takes a file, not data: no encoding there.
    expect(() => tx.adopt('g', path.join(dir, 'x'), { encoding: 'utf8' } as never)).toThrow(TypeError);
    await tx.commit();
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});

describe('file: URLs for begin({ dir }) and recover()', () => {
  it('begin({ dir: URL }) writes into that directory; recover(URL) recovers it', async () => {
    const dir = tmpdir();
    const url = pathToFileURL(dir + path.sep);
    const tx = begin({ dir: url });
    expect(tx.dir).toBe(dir);
    tx.write('a', 'a');
    await tx.commit();
    expect(fs.readFileSync(path.join(dir, 'a'), 'utf8')).toBe('a');
    fs.mkdirSync(path.join(dir, '.txnfs'));
    const report = await recover(pathToFileURL(dir));
    expect(report.dir).toBe(dir);
    expect(fs.readdirSync(dir)).toEqual(['a']);
  });

  it('a URL of another scheme, or with a host, is a clear TypeError', async () => {
    expect(() => begin({ dir: new URL('https://example.com/out') })).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_URL_SCHEME' }));
    await expect(recover(new URL('https://example.com/out'))).rejects.toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_URL_SCHEME' });
    expect(() => begin({ dir: new URL('file://elsewhere/out') })).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_FILE_URL_HOST' }));
    expect(() => begin({ dir: 3 as never })).toThrow(/non-empty path string or a file: URL/);
  });
});
