/**
 * run.ts (generations): run a command against one pinned generation (`txnfs snapshot`).
 *
 * Pin the current generation (snapshot.ts), run the command (no shell) with TXNFS_SNAPSHOT set to
 * the generation's real path, forward the signals this process receives to it, and release the
 * pin once it exits. If this process is killed, the pin names a dead process and the next
 * collector drops it (at once on this host). Cost: one openSnapshot and one release around the
 * command.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { SpawnError } from '../cli/command.js';
import { openSnapshot } from './snapshot.js';

export interface SnapshotRunOptions {
  readonly dir: string;
  readonly command: string;
  readonly args: readonly string[];
  /** Signals forwarded to the command while it runs. @default [] */
  readonly forward?: readonly NodeJS.Signals[] | undefined;
  /** @default process.env */
  readonly env?: NodeJS.ProcessEnv | undefined;
}

export interface SnapshotRunOutcome {
  readonly generation: number;
  readonly snapshot: string;
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
}

export async function runSnapshot(o: SnapshotRunOptions): Promise<SnapshotRunOutcome> {
  const snap = await openSnapshot(o.dir);
  let child: ChildProcess | undefined;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill(sig);
  };
  const forward = o.forward ?? [];
  for (const sig of forward) process.on(sig, onSignal);
  try {
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      try {
        child = spawn(o.command, [...o.args], { stdio: 'inherit', env: { ...(o.env ?? process.env), TXNFS_SNAPSHOT: snap.dir } });
      } catch (err) {
        reject(new SpawnError(o.command, err));
        return;
      }
      const c = child;
      c.once('error', (err) => {
        if (c.pid === undefined) reject(new SpawnError(o.command, err));
      });
      c.once('exit', (code, signal) => resolve({ code, signal }));
    });
    return { generation: snap.generation, snapshot: snap.dir, exitCode: exit.code, signal: exit.signal };
  } finally {
    for (const sig of forward) process.off(sig, onSignal);
    await snap.release();
  }
}
