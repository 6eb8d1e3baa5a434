import { describe, expect, it } from 'vitest';
import { badArgument, codes, describeValue, errnoOf, isTxnError, TxnError } from '../src/errors.js';

describe('TxnError', () => {
  it('carries a stable code, the path, the transaction and the raw cause', () => {
    const cause = Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    const err = new TxnError(codes.ESTAGE, 'Staging failed', { cause, path: 'a.json', txnId: 't1' });
    expect(err).toBeInstanceOf(Error);
    expect(err).toBeInstanceOf(TxnError);
    expect(err).toMatchObject({ name: 'TxnError', code: 'ESTAGE', path: 'a.json', txnId: 't1', message: 'Staging failed' });
    expect(err.cause).toBe(cause);
    expect(isTxnError(err)).toBe(true);
  });

  it('isTxnError works on a copy from another realm or install (the brand), and rejects look-alikes', () => {
    const foreign = Object.defineProperty({ code: 'ESTATE' }, Symbol.for('txnfs.TxnError'), { value: true });
    expect(isTxnError(foreign)).toBe(true);
    expect(isTxnError({ code: 'ESTATE', name: 'TxnError' })).toBe(false);
    expect(isTxnError(new Error('x'))).toBe(false);
    expect(isTxnError(null)).toBe(false);
  });

  it('codes are stable strings equal to their names (a change here is a breaking change)', () => {
    expect(Object.entries(codes).every(([k, v]) => k === v)).toBe(true);
    expect(Object.keys(codes)).toMatchInlineSnapshot(`
      [
        "EBADPATH",
        "ETARGET",
        "ECROSSDEV",
        "ESTATE",
        "ELOCKED",
        "ECOMPROMISED",
        "ECORRUPT",
        "EPRECONDITION",
        "ESTAGE",
        "EFS",
        "EAPPLY",
        "EINCOMPLETE",
        "EABORTED",
        "ENOTDURABLE",
      ]
    `);
  });
});

describe('argument errors', () => {
  it('quote the value and its type, like Node', () => {
    expect(describeValue('x')).toBe('"x" (type string)');
    expect(describeValue(3)).toBe('3 (type number)');
    expect(describeValue(null)).toBe('null (type null)');
    expect(describeValue([1])).toBe('[1] (type array)');
    expect(describeValue({ a: 1 })).toBe('{"a":1} (type object)');
    expect(describeValue(10n)).toBe('10n (type bigint)');
    expect(describeValue(function named() {})).toBe('function named (type function)');
    expect(describeValue('y'.repeat(200))).toMatch(/…" \(type string\)$/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(describeValue(cyclic)).toBe('[object Object] (type object)');
    const err = badArgument('path', 'a string', 42);
    expect(err).toBeInstanceOf(TypeError);
    expect(err.message).toBe('The "path" argument must be a string. Received 42 (type number)');
  });

  it('errnoOf reads only string codes', () => {
    expect(errnoOf(Object.assign(new Error(), { code: 'EIO' }))).toBe('EIO');
    expect(errnoOf(Object.assign(new Error(), { code: 5 }))).toBeUndefined();
    expect(errnoOf('EIO')).toBeUndefined();
  });
});
