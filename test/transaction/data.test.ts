import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { chunkBytes, toSource } from '../../src/transaction/data.js';

describe('toSource', () => {
  it('turns strings, buffers and views into bytes now', () => {
    expect(toSource('é')).toEqual({ bytes: Buffer.from('é') });
    const u8 = new Uint8Array([1, 2]);
    expect(toSource(u8)).toEqual({ bytes: u8 });
    expect((toSource(new Uint16Array([1])) as { bytes: Uint8Array }).bytes.length).toBe(2);
    expect((toSource(new ArrayBuffer(3)) as { bytes: Uint8Array }).bytes.length).toBe(3);
  });

  it('keeps iterables, async iterables and Readables as chunks for later', () => {
    for (const data of [['a'], new Set(['a']), Readable.from(['a']), (async function* () {})()]) {
      expect('chunks' in toSource(data)).toBe(true);
    }
  });

  it('refuses everything else with a TypeError quoting the value', () => {
    for (const bad of [undefined, null, 3, true, { a: 1 }, () => 'x', Symbol('s')]) {
      expect(() => toSource(bad)).toThrow(TypeError);
    }
    expect(() => toSource({ a: 1 })).toThrow(/Received \{"a":1\} \(type object\)/);
  });
});

describe('chunkBytes', () => {
  it('accepts string and byte chunks only', () => {
    expect(chunkBytes('ab')).toEqual(Buffer.from('ab'));
    expect(chunkBytes(new Uint8Array([1]))).toEqual(new Uint8Array([1]));
    expect(() => chunkBytes(5)).toThrow(TypeError);
    expect(() => chunkBytes({})).toThrow(/"chunk" argument must be a string or Uint8Array/);
  });
});
