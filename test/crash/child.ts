/**
 * child.ts: run test/fixtures/crash-child.mjs (the built library in a process of its own) and read
 * what it reported before it died.
 *
 * A spawn costs ~100-170 ms on this machine (node start plus loading dist/ and fs-extra), which is
 * what bounds how many crash points CI can afford; the loops budget their spawns with that.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Mutation } from '../helpers/mutations.mjs';

export const CHILD = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/crash-child.mjs');

export type KillPoint = { readonly op: number } | { readonly step: string };

export interface ChildJob {
  readonly mode: 'commit' | 'recover' | 'soak';
  readonly root: string;
  readonly opsFile?: string;
  readonly kill?: KillPoint;
  readonly fail?: { readonly op: number; readonly code: string };
  readonly trace?: boolean;
  readonly begin?: Record<string, unknown>;
  readonly soak?: { readonly targets: readonly string[]; readonly writer: string; readonly seed: number };
  /** Many roots at once, each frozen at its own point (see the fixture). */
  readonly batch?: readonly { readonly root: string; readonly kill: KillPoint; readonly fail?: { readonly op: number; readonly code: string } }[];
  /** A scratch root for one commit before the work (see the fixture's warmUp). */
  readonly warmup?: string;
}

export interface TracedChildOp {
  readonly index: number;
  readonly op: string;
  readonly path: string;
  readonly dest?: string;
}

export interface ChildResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly lines: string[];
  readonly stderr: string;
  /** It died of the SIGKILL it sent itself (a KILL line, then SIGKILL). */
  readonly killed: boolean;
  /** Lines starting with ACK (commit() resolved), without the prefix. */
  readonly acks: string[];
  /** ERR lines, without the prefix. */
  readonly errors: string[];
  /** With `trace`: every mutating operation and step, in order. */
  readonly ops: TracedChildOp[];
  readonly steps: { readonly name: string; readonly opsBefore: number }[];
  /** Mutating operations counted when it finished (DONE), if it did. */
  readonly done: number | undefined;
}

/** Write `job` next to the scratch files and run the child on it. */
export function runChild(job: ChildJob, options: { readonly dir: string; readonly mutations?: readonly Mutation[]; readonly timeoutMs?: number; readonly onLine?: (line: string) => void }): Promise<ChildResult> & { child?: ReturnType<typeof spawn> } {
  const jobFile = path.join(options.dir, `job-${process.pid}-${Math.random().toString(36).slice(2)}.json`);
  fs.writeFileSync(jobFile, JSON.stringify(job));
  const child = spawn(process.execPath, [CHILD, jobFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TXNFS_TEST_MUTATIONS: (options.mutations ?? []).join(',') },
  });
  const promise = new Promise<ChildResult>((resolve, reject) => {
    let out = '';
    let err = '';
    const lines: string[] = [];
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      out += d;
      let nl = out.indexOf('\n');
      while (nl !== -1) {
        const line = out.slice(0, nl);
        lines.push(line);
        options.onLine?.(line);
        out = out.slice(nl + 1);
        nl = out.indexOf('\n');
      }
    });
    child.stderr.on('data', (d: string) => {
      err += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      fs.rmSync(jobFile, { force: true });
      if (out !== '') lines.push(out);
      const ops: TracedChildOp[] = [];
      const steps: { name: string; opsBefore: number }[] = [];
      let done: number | undefined;
      for (const line of lines) {
        const [tag, a, b, c, d] = line.split(' ');
        if (tag === 'OP') ops.push({ index: Number(a), op: b as string, path: c as string, ...(d === undefined ? {} : { dest: d }) });
        else if (tag === 'STEP') steps.push({ name: a as string, opsBefore: Number(b) });
        else if (tag === 'DONE') done = Number(a);
      }
      resolve({
        code,
        signal,
        lines,
        stderr: err,
        killed: signal === 'SIGKILL' && lines.some((l) => l.startsWith('KILL ')),
        acks: lines.filter((l) => l.startsWith('ACK ')).map((l) => l.slice(4)),
        errors: lines.filter((l) => l.startsWith('ERR ')).map((l) => l.slice(4)),
        ops,
        steps,
        done,
      });
    });
  });
  return Object.assign(promise, { child });
}

/** Write a workload's operations once, for many children to read (writes as base64). */
export function writeOpsFile(file: string, ops: readonly ({ op: 'write'; path: string; data: Buffer } | { op: 'delete' | 'copy' | 'rename' | 'mkdir' | 'removeTree' | 'emptyDir'; path: string })[]): void {
  fs.writeFileSync(file, JSON.stringify(ops.map((o) => (o.op === 'write' ? { op: 'write', path: o.path, data: o.data.toString('base64') } : o))));
}

/**
 * The operation that makes a transaction's rollback marker exist (renamed into place from
 * `journal.tmp` or a prepared `rollback.tmp`, or created), in a traced run: a crash at or before
 * it leaves no marker. The marker's writer tries those in turn, and only the last attempt of that
 * run of attempts succeeded (the ones before found nothing to rename).
 */
export function rollbackMarkerOp(trace: ChildResult): number | undefined {
  const isMarker = (p: string | undefined): boolean => p !== undefined && p.endsWith(`${path.sep}rollback`);
  const marks = (op: ChildResult['ops'][number] | undefined): boolean => op !== undefined && ((op.op === 'create' && isMarker(op.path)) || (op.op === 'rename' && isMarker(op.dest)));
  let i = trace.ops.findIndex(marks);
  if (i === -1) return undefined;
  while (marks(trace.ops[i + 1])) i++;
  return trace.ops[i]?.index;
}
