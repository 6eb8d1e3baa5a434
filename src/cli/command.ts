/**
 * command.ts: what every subcommand of `txnfs` shares: argument parsing over Node's own
 * `util.parseArgs` (strict: an unknown or misspelt option is an error, never ignored), the usage
 * error it raises, the error of a command that cannot be started, and how a command ends.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { errnoOf } from '../errors.js';

/** How the process should end: an exit code, or death by a signal (for `exec`). */
export type Exit = { readonly code: number } | { readonly signal: NodeJS.Signals };

/** Exit codes shared by the commands (exec has its own, documented in its help). */
export const exitCodes = {
  ok: 0,
  /** txnfs could not do its job: the root is missing, a lock was held too long, an fs error. */
  error: 1,
  /** Bad arguments. */
  usage: 2,
  /** status, recover --dry-run: dead transactions need `txnfs recover`. */
  needsRecovery: 3,
  /** status, recover: a corrupt journal (or a transaction recovery could not resolve) needs a person. */
  needsPerson: 4,
  /** doctor: txnfs's guarantees hold only under conditions a warning names (one writer host, ...). */
  conditional: 5,
  /** doctor: a guarantee txnfs relies on does not hold on this filesystem. */
  broken: 6,
  /** exec: txnfs itself failed (usage included), as env, nice and timeout do. */
  execFailed: 125,
  /** exec: the command exists but could not be run. */
  execCannotRun: 126,
  /** exec: the command was not found. */
  execNotFound: 127,
} as const;

/** Bad arguments: printed with the command's usage line, exit 2 (125 under exec). */
export class UsageError extends Error {
  readonly command: string | undefined;
  constructor(command: string | undefined, message: string) {
    super(message);
    this.name = 'UsageError';
    this.command = command;
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;
type Parsed<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: true }>>;

/** True when the arguments ask for help (`-h` or `--help` anywhere among them). */
export function wantsHelp(args: readonly string[]): boolean {
  return args.includes('--help') || args.includes('-h');
}

/**
 * Parse `args` strictly with `options`. parseArgs's own messages suggest `--` for values that
 * start with a dash, which would mislead under `exec` (where `--` starts the command), so the
 * common errors are reworded.
 */
export function parse<O extends Options>(command: string, args: readonly string[], options: O): Parsed<O> {
  try {
    return parseArgs({ args: [...args], options, strict: true, allowPositionals: true });
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      const message = (err as Error).message;
      const unknown = /^Unknown option '([^']+)'/.exec(message);
      throw new UsageError(command, unknown !== null ? `unknown option '${unknown[1]}'` : message.replace(/\.$/, ''));
    }
    throw err;
  }
}

/** Exactly one positional, `<dir>`. */
export function oneDir(command: string, positionals: readonly string[]): string {
  const [dir, extra] = positionals;
  if (dir === undefined) throw new UsageError(command, 'missing <dir>');
  if (extra !== undefined) throw new UsageError(command, `unexpected argument '${extra}'`);
  if (dir === '') throw new UsageError(command, '<dir> is empty');
  return dir;
}

/** The command could not be started (not found, not executable, ...). `code` is the errno. */
export class SpawnError extends Error {
  readonly code: string | undefined;
  constructor(command: string, cause: unknown) {
    const code = errnoOf(cause);
    const why = code === 'ENOENT' ? 'command not found' : code === 'EACCES' ? 'permission denied' : (cause as Error)?.message ?? String(cause);
    super(`cannot run '${command}': ${why}`, { cause });
    this.name = 'SpawnError';
    this.code = code;
  }
}
