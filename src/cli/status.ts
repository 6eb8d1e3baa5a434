/**
 * status.ts (cli): `txnfs status <dir> [--json]`. Parsing and output only; the work is
 * src/protocol/status.ts (over inspect()). The exit code says what the root needs, so the command can gate
 * a deploy: 0 nothing, 3 recovery, 4 a person.
 */
import { status, type StatusReport, type TxnStatus } from '../protocol/status.js';
import { exitCodes, oneDir, parse, wantsHelp, type Exit } from './command.js';
import { formatAge, formatBytes, plural, shellQuote, table, toJson } from './format.js';
import { statusHelp } from './help.js';
import { graceOption, isS3Url, s3Status } from './s3.js';

const NAME = 'status';

function statusExit(report: StatusReport): Exit {
  if (report.health === 'corrupt') return { code: exitCodes.needsPerson };
  if (report.health === 'needs-recovery') return { code: exitCodes.needsRecovery };
  return { code: exitCodes.ok };
}

function headline(r: StatusReport): string {
  const live = r.transactions.filter((t) => t.needs === 'nothing').length;
  const dead = r.transactions.filter((t) => t.needs === 'recovery').length;
  const corrupt = r.transactions.filter((t) => t.needs === 'person' && t.state !== 'foreign').length;
  const foreign = r.transactions.filter((t) => t.needs === 'person' && t.state === 'foreign').length;
  const orphans = r.orphans.count;
  const lines: string[] = [];
  if (r.transactions.length === 0 && r.tombs.length === 0 && orphans === 0) lines.push(`${r.dir}: clean, no transaction pending.`);
  else if (r.transactions.length === 0 && orphans === 0) lines.push(`${r.dir}: no transaction pending.`);
  else if (dead === 0 && corrupt === 0 && foreign === 0 && orphans === 0 && r.transactions.length > 0) lines.push(`${r.dir}: nothing to recover; ${plural(live, 'transaction')} in progress.`);
  if (dead > 0) lines.push(`${r.dir}: ${plural(dead, 'dead transaction')} to recover. Run: txnfs recover ${shellQuote(r.dir)}`);
  if (r.tombs.length > 0) lines.push(`${r.dir}: ${plural(r.tombs.length, 'lock tomb')} left by crashed processes. Run: txnfs recover ${shellQuote(r.dir)}`);
  if (orphans > 0) {
    lines.push(`${r.dir}: ${plural(orphans, 'orphan')} of dead single-file writers (temp files and update() locks, ${formatBytes(r.orphans.bytes)}) to remove. Run: txnfs recover ${shellQuote(r.dir)}`);
  }
  if (corrupt > 0) {
    lines.push(`${r.dir}: ${plural(corrupt, 'corrupt journal')} need${corrupt === 1 ? 's' : ''} a person; commits in this root are refused until ${corrupt === 1 ? 'it is' : 'they are'} removed.`);
  }
  if (foreign > 0) {
    lines.push(`${r.dir}: ${foreign === 1 ? 'a staging dir' : `${foreign} staging dirs`} txnfs did not make (foreign: another user's, or holding a symlink) need${foreign === 1 ? 's' : ''} a person; recover leaves ${foreign === 1 ? 'it' : 'them'} untouched.`);
  }
  return lines.join('\n');
}

function row(t: TxnStatus): string[] {
  const owner = t.ownerAlive ? 'alive' : t.owner === 'absent' ? 'none' : 'dead';
  const staged = t.staged === 0 ? '-' : `${plural(t.staged, 'file')}, ${formatBytes(t.bytes)}`;
  return [t.id, t.state, owner, formatAge(t.ageMs), String(t.entries), staged];
}

/** Generations layout: the pointer, what is kept, and who pins what. */
function generationsLines(r: StatusReport): string {
  const g = r.generations;
  if (g === undefined) return '';
  const cur = g.current === undefined ? 'none (no pointer yet, or a plain directory)' : String(g.current);
  let text = `generation: ${cur}; in the home: ${g.generations.length === 0 ? 'none' : g.generations.join(', ')}\n`;
  if (g.pins.length === 0) text += 'pins: none\n';
  else text += `\n${table([['PIN', 'GENERATION', 'PID', 'AGE'], ...g.pins.map((p) => [p.id, String(p.generation), p.pid === undefined ? '-' : String(p.pid), formatAge(p.ageMs)])])}\n`;
  return text;
}

export function formatStatus(r: StatusReport): string {
  let text = `${headline(r)}\n${generationsLines(r)}`;
  if (r.transactions.length > 0) {
    text += `\n${table([['ID', 'STATE', 'OWNER', 'AGE', 'ENTRIES', 'STAGED'], ...r.transactions.map(row)])}\n`;
  }
  const corrupt = r.transactions.filter((t) => t.needs === 'person');
  for (const t of corrupt) {
    const what = t.state === 'foreign' ? 'foreign' : 'corrupt';
    text += `\n${what} ${t.id}: ${t.reason ?? (t.state === 'foreign' ? 'not made by txnfs' : 'journal rejected')}\n  inspect, then remove: ${t.path}\n`;
  }
  return text;
}

export async function statusCommand(argv: readonly string[], out: NodeJS.WritableStream): Promise<Exit> {
  if (wantsHelp(argv)) {
    out.write(statusHelp);
    return { code: exitCodes.ok };
  }
  const { values, positionals } = parse(NAME, argv, {
    json: { type: 'boolean' },
    grace: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  const dir = oneDir(NAME, positionals);
  const grace = graceOption(NAME, dir, values.grace);
  if (isS3Url(dir)) return s3Status(dir, values.json === true, out, grace);
  const report = await status(dir);
  out.write(values.json === true ? toJson(report) : formatStatus(report));
  return statusExit(report);
}
