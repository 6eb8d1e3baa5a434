import { describe, expect, it } from 'vitest';
import { run } from '../helpers/child.js';
import { leftovers, tmpdir } from '../helpers/tmp.js';

// Issue 12 item 5: a Readable that emits 'error' before txnfs starts reading it must make the call
// reject with ESTAGE, not end the process with an unhandled 'error' event. Run in a child process,
// so a regression fails this test (exit 1, an uncaught exception on stderr) instead of vitest.
describe('a Readable that errors before it is read', () => {
  const cases = [
    ['writeFile', 'ESTAGE'],
    ['tx.write', 'ESTAGE'],
    ['transaction', 'ESTAGE'],
    ['update', 'ESTAGE'],
    ['tx.write then abort', 'ABORTED-CLEANLY'],
  ] as const;
  const hows = ['missing', 'next-tick'] as const;
  const table = cases.flatMap(([api, code]) => hows.map((how) => ({ api, how, code })));

  it.each(table)('$api with a $how source rejects with $code', async ({ api, how, code }) => {
    const dir = tmpdir();
    const r = await run('early-error-stream.mjs', [dir, api, how]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ code, exists: false });
    expect(leftovers(dir)).toEqual([]);
  });
});
