/**
 * doctor.ts (cli): `txnfs doctor [dir] [--json]`. Parsing and output only; the probes are
 * src/platform/doctor.ts. The exit code is the verdict: 0 holds, 5 conditional (a warning), 6 broken.
 */
import { doctor, type DoctorReport } from '../platform/doctor.js';
import { MAX_TIMER_MS } from '../options/options.js';
import { exitCodes, parse, UsageError, wantsHelp, type Exit } from './command.js';
import { table, toJson } from './format.js';
import { doctorHelp } from './help.js';

const NAME = 'doctor';

function doctorExit(report: DoctorReport): Exit {
  if (report.verdict === 'broken') return { code: exitCodes.broken };
  if (report.verdict === 'conditional') return { code: exitCodes.conditional };
  return { code: exitCodes.ok };
}

const ACTION: Record<string, string> = { none: 'ok', fallback: 'FALLBACK', refusal: 'REFUSES', warning: 'WARNING', unusable: 'BROKEN' };

function formatDoctor(r: DoctorReport): string {
  const verdict =
    r.verdict === 'holds' ? "txnfs's guarantees hold here."
    : r.verdict === 'conditional' ? "txnfs's guarantees hold here only under the conditions the warnings name."
    : 'A guarantee txnfs relies on does not hold here: do not use txnfs on this filesystem.';
  let text = `${r.dir}: ${r.fsType} (${r.locality}${r.mountPoint === undefined ? '' : `, mounted at ${r.mountPoint}`}). ${verdict}\n\n`;
  text += `${table([['CHECK', 'RESULT', 'FOUND'], ...r.checks.map((c) => [c.id, ACTION[c.action] ?? c.action, c.found])])}\n`;
  const notes = r.checks.filter((c) => c.action !== 'none');
  if (notes.length > 0) text += '\n';
  for (const c of notes) text += `${c.id}: txnfs relies on ${c.relies}.\n  ${c.does}.\n`;
  return text;
}

export async function doctorCommand(argv: readonly string[], out: NodeJS.WritableStream): Promise<Exit> {
  if (wantsHelp(argv)) {
    out.write(doctorHelp);
    return { code: exitCodes.ok };
  }
  const { values, positionals } = parse(NAME, argv, {
    json: { type: 'boolean' },
    'lock-stale': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  const [dir, extra] = positionals;
  if (extra !== undefined) throw new UsageError(NAME, `unexpected argument '${extra}'`);
  if (dir === '') throw new UsageError(NAME, '[dir] is empty');
  let lockStale: number | undefined;
  if (values['lock-stale'] !== undefined) {
    lockStale = Number(values['lock-stale']);
    if (!Number.isInteger(lockStale) || lockStale < 2000 || lockStale > MAX_TIMER_MS) throw new UsageError(NAME, `--lock-stale must be an integer from 2000 to ${MAX_TIMER_MS} (ms), as lockStale takes, not '${values['lock-stale']}'`);
  }
  const report = await doctor(dir ?? '.', { lockStale });
  out.write(values.json === true ? toJson(report) : formatDoctor(report));
  return doctorExit(report);
}
