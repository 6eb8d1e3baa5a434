/**
 * main.ts (cli): dispatch `txnfs <command> ...` and turn failures into one line on stderr and an
 * exit code.
 *
 * Expected failures (bad arguments, a TxnError, a filesystem error with an errno code, a command
 * that cannot start) print a message and never a stack trace. Anything else is a bug in txnfs: its
 * stack is printed so it can be reported.
 */
import { isTxnError } from '../errors.js';
import { exitCodes, SpawnError, UsageError, type Exit } from './command.js';
import { doctorHelp, doctorUsage, execUsage, mainHelp, mainUsage, recoverHelp, recoverUsage, snapshotHelp, snapshotUsage, statusHelp, statusUsage } from './help.js';

// Each command's module is loaded when it runs: `txnfs exec` around a small tool, run often,
// should not pay for doctor's probes and the snapshot command, nor `txnfs --help` for any of them.

type Out = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

export interface MainIo {
  readonly stdout: Out;
  readonly stderr: NodeJS.WritableStream;
  readonly version: string;
}

const commands = ['exec', 'status', 'recover', 'snapshot', 'doctor', 'help'] as const;
const usages: Record<string, string> = { exec: execUsage, status: statusUsage, recover: recoverUsage, snapshot: snapshotUsage, doctor: doctorUsage };
const helps: Record<string, string> = { status: statusHelp, recover: recoverHelp, snapshot: snapshotHelp, doctor: doctorHelp };

/** Levenshtein distance, for "did you mean" on a mistyped command (the names are a handful). */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

function suggestion(word: string): string {
  const best = commands.map((c) => ({ c, d: distance(word, c) })).sort((x, y) => x.d - y.d)[0];
  return best !== undefined && best.d <= 2 ? ` Did you mean '${best.c}'?` : '';
}

function isExpected(err: unknown): err is Error {
  return isTxnError(err) || err instanceof SpawnError || (err instanceof Error && typeof (err as { code?: unknown }).code === 'string');
}

function report(err: unknown, command: string | undefined, io: MainIo): Exit {
  const who = command === undefined ? 'txnfs' : `txnfs ${command}`;
  // snapshot runs a command too: its own failures must not look like the command's exit codes.
  const underExec = command === 'exec' || command === 'snapshot';
  if (err instanceof UsageError) {
    const usage = command === undefined ? mainUsage : usages[command] ?? mainUsage;
    io.stderr.write(`${who}: ${err.message}\n${usage}\nRun '${who} --help' for more.\n`);
    return { code: underExec ? exitCodes.execFailed : exitCodes.usage };
  }
  if (err instanceof SpawnError) {
    io.stderr.write(`${who}: ${err.message}; nothing was committed.\n`);
    return { code: err.code === 'ENOENT' ? exitCodes.execNotFound : exitCodes.execCannotRun };
  }
  if (isExpected(err)) {
    const code = (err as unknown as { code: string }).code;
    io.stderr.write(`${who}: ${err.message}${isTxnError(err) ? ` [${code}]` : ''}\n`);
    return { code: underExec ? exitCodes.execFailed : exitCodes.error };
  }
  const stack = err instanceof Error ? err.stack ?? err.message : String(err);
  io.stderr.write(`${who}: internal error, please report it with this trace:\n${stack}\n`);
  return { code: underExec ? exitCodes.execFailed : exitCodes.error };
}

/** Run `txnfs` with `argv` (without the node and script paths). */
export async function main(argv: readonly string[], io: MainIo): Promise<Exit> {
  const [first, ...rest] = argv;
  const command = first !== undefined && (commands as readonly string[]).includes(first) && first !== 'help' ? first : undefined;
  try {
    switch (first) {
      case undefined:
        throw new UsageError(undefined, 'missing command');
      case '-h':
      case '--help':
        io.stdout.write(mainHelp);
        return { code: exitCodes.ok };
      case '-v':
      case '--version':
        io.stdout.write(`${io.version}\n`);
        return { code: exitCodes.ok };
      case 'help': {
        const topic = rest[0];
        if (topic === undefined) io.stdout.write(mainHelp);
        else if (topic === 'exec') return await (await import('./exec.js')).execCommand(['--help'], io.stdout, io.stderr);
        else if (helps[topic] !== undefined) io.stdout.write(helps[topic]);
        else throw new UsageError(undefined, `no help for '${topic}': unknown command.${suggestion(topic)}`);
        return { code: exitCodes.ok };
      }
      case 'exec':
        return await (await import('./exec.js')).execCommand(rest, io.stdout, io.stderr);
      case 'status':
        return await (await import('./status.js')).statusCommand(rest, io.stdout);
      case 'recover':
        return await (await import('./recover.js')).recoverCommand(rest, io.stdout);
      case 'snapshot':
        return await (await import('./snapshot.js')).snapshotCommand(rest, io.stdout);
      case 'doctor':
        return await (await import('./doctor.js')).doctorCommand(rest, io.stdout);
      default:
        if (first.startsWith('-')) throw new UsageError(undefined, `unknown option '${first}'`);
        throw new UsageError(undefined, `unknown command '${first}'.${suggestion(first)}`);
    }
  } catch (err) {
    return report(err, command, io);
  }
}
