import { describe, expect, it } from 'vitest';
import { TxnError, codes } from '../../src/errors.js';
import { errorToJson, formatAge, formatBytes, shellQuote, table, toJson } from '../../src/cli/format.js';

describe('format', () => {
  it('sizes and ages', () => {
    expect([0, 1023, 1024, 1536, 10 * 1024 * 1024, 5 * 1024 ** 4].map(formatBytes)).toEqual(['0 B', '1023 B', '1.0 KiB', '1.5 KiB', '10 MiB', '5.0 TiB']);
    expect([12, 5_000, 185_000, 2 * 3600_000 + 60_000, 50 * 3600_000].map(formatAge)).toEqual(['12ms', '5s', '3m 05s', '2h 01m', '2d 2h']);
  });

  it('errors become data, causes included; JSON.stringify alone would print {}', () => {
    const cause = Object.assign(new Error('EIO: i/o error, rename'), { code: 'EIO', errno: -5, syscall: 'rename', path: '/r/a' });
    const err = new TxnError(codes.EINCOMPLETE, 'could not finish', { cause, path: '/r/.txnfs/.txn-x', txnId: 'x' });
    expect(errorToJson(err)).toEqual({
      name: 'TxnError', message: 'could not finish', code: 'EINCOMPLETE', path: '/r/.txnfs/.txn-x', txnId: 'x',
      cause: { name: 'Error', message: 'EIO: i/o error, rename', code: 'EIO', errno: -5, syscall: 'rename', path: '/r/a' },
    });
    expect(JSON.parse(toJson({ failed: [{ error: err }] })).failed[0].error.cause.code).toBe('EIO');
    expect(toJson({ a: 1 })).toBe('{\n  "a": 1\n}\n');
  });

  it('tables align columns and leave the last one unpadded', () => {
    expect(table([['ID', 'STATE', 'X'], ['abcdef', 'ok', 'y']])).toBe('ID      STATE  X\nabcdef  ok     y');
  });

  it('quotes a path for the shell only when it needs it', () => {
    expect(shellQuote('/srv/out-1')).toBe('/srv/out-1');
    expect(shellQuote("/tmp/it's $HOME")).toBe(`'/tmp/it'\\''s $HOME'`);
  });
});
