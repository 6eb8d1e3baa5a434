import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export type SimpleOp = { op: 'write'; path: string; data: string | Buffer } | { op: 'delete'; path: string };

const fixture = fileURLToPath(new URL('../fixtures/commit-and-die.mjs', import.meta.url));

/**
 * Run one transaction in a child process that SIGKILLs itself at the named step ('never' to let it
 * finish). Returns whether the commit was acknowledged and whether the child was killed.
 */
export function crashAt(root: string, ops: readonly SimpleOp[], step: string, env: Record<string, string> = {}): { acked: boolean; killed: boolean } {
  const opsFile = `${root}.ops-${process.pid}-${Math.random().toString(36).slice(2)}.json`;
  fs.writeFileSync(opsFile, JSON.stringify(ops.map((o) => (o.op === 'write' ? { ...o, data: Buffer.from(o.data).toString('base64') } : o))));
  try {
    const r = spawnSync(process.execPath, [fixture, root, opsFile, step], { encoding: 'utf8', env: { ...process.env, ...env } });
    if (r.signal === null && r.status !== 0) throw new Error(`child failed (${r.status}): ${r.stderr}`);
    return { acked: r.stdout.includes('ACK'), killed: r.signal === 'SIGKILL' };
  } finally {
    fs.rmSync(opsFile, { force: true });
  }
}

/** Make `<base>/root` and return it (crash fixtures write their ops file next to the root). */
export function makeRoot(base: string): string {
  const dir = path.join(base, 'root');
  fs.mkdirSync(dir);
  return dir;
}
