/**
 * recover.ts (cli): `txnfs recover <dir> [--dry-run] [--json]`. Parsing and output only; the work
 * is the library's recover(). --json prints its report as is (errors serialised), so scripts and
 * the library see the same fields.
 */
import { recover, type RecoveredTxn, type RecoverReport } from '../protocol/recover.js';
import { openRootDir } from '../protocol/root.js';
import { isGenerationsRoot } from '../generations/setup.js';
import { exitCodes, oneDir, parse, wantsHelp, type Exit } from './command.js';
import { formatAge, formatBytes, plural, table, toJson } from './format.js';
import { recoverHelp } from './help.js';
import { graceOption, isS3Url, s3Recover } from './s3.js';
import { ProgressBar } from './progress.js';

const NAME = 'recover';

function recoverExit(r: RecoverReport): Exit {
  if (r.corrupt.length > 0 || r.foreign.length > 0 || r.failed.length > 0) return { code: exitCodes.needsPerson };
  const acted = r.rolledForward.length + r.rolledBack.length + r.discarded.length + r.orphans.length;
  if (r.dryRun && acted > 0) return { code: exitCodes.needsRecovery };
  return { code: exitCodes.ok };
}

function changed(t: RecoveredTxn, dryRun: boolean): string {
  return dryRun ? plural(t.entries, 'entry', 'entries') : `${plural(t.entries, 'entry', 'entries')}, ${t.changed} changed now`;
}

function formatRecover(r: RecoverReport): string {
  const would = r.dryRun;
  const rows: string[][] = [];
  for (const t of r.rolledForward) rows.push([would ? 'would roll forward' : 'rolled forward', t.id, changed(t, would)]);
  for (const t of r.rolledBack) rows.push([would ? 'would roll back' : 'rolled back', t.id, changed(t, would) + (t.reason === undefined ? '' : `; ${t.reason}`)]);
  for (const t of r.discarded) rows.push([would ? 'would discard' : 'discarded', t.id, 'never committed']);
  for (const t of r.skipped) rows.push(['skipped', t.id, `${t.state}, owner alive`]);
  for (const t of r.corrupt) rows.push(['CORRUPT', t.id, 'left in place for a person (below)']);
  for (const t of r.foreign) rows.push(['FOREIGN', t.id, 'not made by txnfs as txnfs makes it; left untouched (below)']);
  for (const t of r.failed) rows.push(['FAILED', t.id, 'could not be resolved, left in place (below)']);
  const acted = r.rolledForward.length + r.rolledBack.length + r.discarded.length;
  const orphans = r.orphans.length;
  let head: string;
  if (rows.length === 0 && orphans === 0) head = `${r.dir}: nothing to recover.`;
  else if (rows.length === 0) head = `${r.dir}: no transaction to recover.`;
  else if (would) head = acted === 0 ? `${r.dir}: nothing to recover (dry run).` : `${r.dir}: would recover ${plural(acted, 'transaction')} (dry run, nothing changed):`;
  else head = acted === 0 ? `${r.dir}: nothing was recovered:` : `${r.dir}: recovered ${plural(acted, 'transaction')} in ${formatAge(r.durationMs)}:`;
  let text = `${head}\n`;
  const g = r.generations;
  if (g !== undefined) {
    const verb = would ? 'would collect' : 'collected';
    text += `generation: ${g.current ?? 'none'}${g.repaired ? ' (pointer re-created)' : ''}; kept: ${g.kept.join(', ') || 'none'}; ${verb}: ${g.collected.join(', ') || 'none'}\n`;
  }
  // Temps and update() locks of dead single-file writers: said apart, with their size, because a
  // killed createWriteStream can leave hundreds of MB behind.
  if (orphans > 0) {
    text += `${would ? 'would remove' : 'removed'} ${plural(orphans, 'orphan')} of dead single-file writers (temp files and update() locks, ${formatBytes(r.orphanBytes)})${would ? ' (dry run, nothing changed)' : ''}.\n`;
  }
  if (rows.length > 0) text += `${table(rows.map((cells) => ['', ...cells]))}\n`;
  for (const t of r.corrupt) text += `\ncorrupt ${t.id}: ${t.reason}\n  inspect, then remove: ${t.path}\n`;
  for (const t of r.foreign) text += `\nforeign ${t.id}: ${t.reason}\n  inspect, then remove: ${t.path}\n`;
  for (const t of r.failed) text += `\nfailed ${t.id}: ${t.reason}\n  fix the cause, then run txnfs recover again; its records are in ${t.path}\n`;
  if (r.superseded.length > 0) {
    text += `\nkept newer versions (changed by someone else after the commit point; the transaction's copy was dropped):\n`;
    for (const t of r.superseded) text += `  ${t.target} (transaction ${t.id})\n`;
  }
  return text;
}

export async function recoverCommand(argv: readonly string[], out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number }): Promise<Exit> {
  if (wantsHelp(argv)) {
    out.write(recoverHelp);
    return { code: exitCodes.ok };
  }
  const { values, positionals } = parse(NAME, argv, {
    'dry-run': { type: 'boolean', short: 'n' },
    json: { type: 'boolean' },
    grace: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  const dir = oneDir(NAME, positionals);
  const json = values.json === true;
  const grace = graceOption(NAME, dir, values.grace);
  if (isS3Url(dir)) return s3Recover(dir, values['dry-run'] === true, json, out, grace);
  // A generations pointer is passed as given: resolving it would name one generation, not the root.
  const root = (await isGenerationsRoot(dir)) ? dir : await openRootDir(dir, 'look');
  const bar = json ? undefined : new ProgressBar(out);
  let report: RecoverReport;
  try {
    report = await recover(root, { dryRun: values['dry-run'] === true, onProgress: bar?.enabled === true ? (p) => bar.update(p) : undefined });
  } finally {
    bar?.clear();
  }
  out.write(json ? toJson(report) : formatRecover(report));
  return recoverExit(report);
}
