/**
 * snapshot.ts (cli): `txnfs snapshot <dir> -- <command> [args...]`. Parsing only; the work is
 * src/generations/run.ts. Exit status as `txnfs exec`: the command's own, or its signal; 125 when
 * txnfs itself failed, 126/127 when the command could not be run or found.
 */
import { runSnapshot } from '../generations/run.js';
import { exitCodes, parse, UsageError, wantsHelp, type Exit } from './command.js';
import { forwardedSignals } from './exec.js';
import { snapshotHelp } from './help.js';
import { isS3Url, s3Snapshot } from './s3.js';

const NAME = 'snapshot';

export async function snapshotCommand(argv: readonly string[], out: NodeJS.WritableStream): Promise<Exit> {
  const split = argv.indexOf('--');
  const own = split === -1 ? argv : argv.slice(0, split);
  const command = split === -1 ? [] : argv.slice(split + 1);
  if (wantsHelp(own)) {
    out.write(snapshotHelp);
    return { code: exitCodes.ok };
  }
  const { values, positionals } = parse(NAME, own, { help: { type: 'boolean', short: 'h' }, list: { type: 'boolean' }, get: { type: 'string' } });
  const [dir, ...extra] = positionals;
  if (dir === undefined) throw new UsageError(NAME, 'missing <dir>');
  if (dir === '') throw new UsageError(NAME, '<dir> is empty');
  // An object store has no directory to run a command in: list the pinned generation, or print one file.
  if (isS3Url(dir)) {
    if (split !== -1) throw new UsageError(NAME, `an s3:// snapshot is not a directory a command can run in: use --list or --get <path> (or openSnapshot() from txnfs/s3)`);
    if (extra.length > 0) throw new UsageError(NAME, `unexpected argument '${extra[0]}'`);
    if (values.list === true && values.get !== undefined) throw new UsageError(NAME, '--list and --get exclude each other');
    if (values.get === '') throw new UsageError(NAME, '--get needs a path');
    if (values.list !== true && values.get === undefined) throw new UsageError(NAME, `an s3:// snapshot needs --list or --get <path>: txnfs snapshot ${dir} --list`);
    return s3Snapshot(dir, values.get === undefined ? { list: true } : { get: values.get }, out);
  }
  if (values.list === true || values.get !== undefined) throw new UsageError(NAME, '--list and --get are for s3:// snapshots; a local snapshot runs a command: txnfs snapshot <dir> -- <command>');
  if (extra.length > 0) throw new UsageError(NAME, split === -1 ? `put '--' between <dir> and the command: txnfs snapshot ${dir} -- ${extra.join(' ')}` : `unexpected argument '${extra[0]}' before '--'`);
  if (split === -1) throw new UsageError(NAME, `missing '--' and the command to run: txnfs snapshot ${dir} -- <command> [args...]`);
  const [file, ...args] = command;
  if (file === undefined || file === '') throw new UsageError(NAME, "missing the command after '--'");
  const o = await runSnapshot({ dir, command: file, args, forward: forwardedSignals });
  if (o.signal !== null) return { signal: o.signal };
  return { code: o.exitCode ?? exitCodes.execFailed };
}
