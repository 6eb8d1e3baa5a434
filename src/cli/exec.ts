/**
 * exec.ts (cli): `txnfs exec <dir> [options] -- <command> [args...]`. Parsing and output only; the
 * work is src/cli/exec-run.ts.
 *
 * Output: nothing of its own on stdout unless stdout is a terminal (one summary line) or --json
 * is given (one JSON document; the command's stdout is then sent to stderr). A failed command
 * gets one line on stderr saying that nothing was committed.
 */
import { runExec, type ExecOutcome } from './exec-run.js';
import type { Durability } from '../options/options.js';
import { exitCodes, parse, UsageError, wantsHelp, type Exit } from './command.js';
import { formatAge, formatBytes, plural, toJson } from './format.js';
import { execHelp } from './help.js';

/** The signals txnfs forwards to the command; receiving one means nothing is committed. */
export const forwardedSignals: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

const NAME = 'exec';

/** End the way the command ended: its code, or its signal. */
function exitLike(o: ExecOutcome): Exit {
  if (o.signal !== null) return { signal: o.signal };
  if (o.exitCode !== null && o.exitCode !== 0) return { code: o.exitCode };
  // Interrupted while the command exited 0 (or before it started): die of what we received.
  if (o.received !== null) return { signal: o.received };
  return { code: exitCodes.ok };
}

function describeEnd(o: ExecOutcome): string {
  if (o.signal !== null) return `was killed by ${o.signal}`;
  return `exited with code ${o.exitCode}`;
}

export async function execCommand(argv: readonly string[], out: NodeJS.WritableStream & { isTTY?: boolean }, err: NodeJS.WritableStream): Promise<Exit> {
  // Everything after the first '--' belongs to the command, its own --help included.
  const split = argv.indexOf('--');
  const own = split === -1 ? argv : argv.slice(0, split);
  const command = split === -1 ? [] : argv.slice(split + 1);
  if (wantsHelp(own)) {
    out.write(execHelp);
    return { code: exitCodes.ok };
  }
  const { values, positionals } = parse(NAME, own, {
    'delete-missing': { type: 'boolean' },
    subtree: { type: 'string' },
    durability: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  const [dir, ...extra] = positionals;
  if (dir === undefined) throw new UsageError(NAME, 'missing <dir>');
  if (dir === '') throw new UsageError(NAME, '<dir> is empty');
  if (extra.length > 0) {
    throw new UsageError(NAME, split === -1
      ? `put '--' between <dir> and the command: txnfs exec ${dir} -- ${extra.join(' ')}`
      : `unexpected argument '${extra[0]}' before '--'`);
  }
  if (split === -1) throw new UsageError(NAME, `missing '--' and the command to run: txnfs exec ${dir} -- <command> [args...]`);
  const [file, ...args] = command;
  if (file === undefined || file === '') throw new UsageError(NAME, "missing the command after '--'");
  const durability = values.durability ?? 'full';
  if (durability !== 'full' && durability !== 'none') {
    throw new UsageError(NAME, `--durability must be 'full' or 'none', not '${durability}'`);
  }
  const json = values.json === true;
  const outcome = await runExec({
    dir,
    command: file,
    args,
    durability: durability as Durability,
    deleteMissing: values['delete-missing'] === true,
    subtree: values.subtree,
    stdoutToStderr: json,
    forward: forwardedSignals,
  });
  if (json) out.write(toJson(outcome));
  // The commit landed, but something was left undone (a cleanup step, a durability step): say so
  // on stderr, in text and --json mode alike (the JSON has them in commit.warnings too).
  for (const w of outcome.commit?.warnings ?? []) err.write(`txnfs exec: warning: ${w}\n`);
  if (outcome.status === 'committed') {
    const c = outcome.commit;
    if (!json && out.isTTY === true && c !== null) {
      const removed = c.removed > 0 ? `, removed ${c.removed}` : '';
      out.write(`txnfs: committed ${plural(c.written, 'file')} (${formatBytes(c.bytes)}${removed}) to ${dir} in ${formatAge(c.durationMs)}\n`);
    }
    return { code: exitCodes.ok };
  }
  const why = outcome.status === 'interrupted'
    ? `interrupted by ${outcome.received}${outcome.exitCode === null && outcome.signal === null ? '' : ` (the command ${describeEnd(outcome)})`}`
    : `the command ${describeEnd(outcome)}`;
  err.write(`txnfs exec: ${why}; nothing was committed to ${dir}.\n`);
  return exitLike(outcome);
}
