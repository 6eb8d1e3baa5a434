/**
 * report.ts: the benchmark's results, its targets, and their three renderings (a console table,
 * docs/benchmarks.md and an SVG chart of time per file against N). Pure functions of `Results`:
 * the same JSON always renders the same page.
 */
import type { ChildResult } from './child.js';
import type { FsyncProbe, MachineInfo } from './machine.js';
import { methods, type MethodId } from './methods.js';
import type { Plan } from './plan.js';
import type { GenerationsResults } from './generations.js';

export interface MethodResult {
  readonly runsMs: readonly number[];
  readonly medianMs: number;
  readonly perFileMs: number;
}

export interface MainSet {
  /** '1', '10', ... or 'mixed'. */
  readonly set: string;
  readonly files: number;
  readonly bytes: number;
  readonly runs: number;
  readonly methods: Readonly<Record<MethodId, MethodResult>>;
}

interface StreamSide {
  readonly runs: readonly ChildResult[];
  readonly medianMs: number;
  readonly throughputMiBs: number;
  readonly peakOverBaseMiB: number;
  readonly peakMiB: number;
}

export interface Target {
  readonly id: string;
  readonly text: string;
  readonly value: number;
  readonly limit: number;
  readonly op: '<=' | '<' | '>=';
  readonly unit: string;
  readonly pass: boolean;
}

export interface Results {
  readonly plan: Plan;
  readonly machine: MachineInfo;
  readonly fsync: FsyncProbe;
  readonly main: readonly MainSet[];
  readonly stream:
    | { readonly bytes: number; readonly txnfs: StreamSide; readonly fs: StreamSide; readonly throughputRatio: number }
    | undefined;
  readonly scale: readonly {
    readonly n: number;
    readonly runs: readonly ChildResult[];
    readonly medianMs: number;
    readonly perFileMs: number;
    /** (peak(n) - peak(smallest n)) / (n - smallest n): what each further entry costs. */
    readonly rssPerEntryBytes: number;
    /** (peak - RSS right before begin()) / n: includes what the commit pays once. */
    readonly rssOverBasePerEntryBytes: number;
    readonly peakMiB: number;
    readonly journalBytes: number;
    /** V8's young generation at the end of the run (median), MiB; absent in older results. */
    readonly youngMiB?: number | undefined;
  }[];
  readonly recovery:
    | {
        readonly committed: { readonly entries: number; readonly runsMs: readonly number[]; readonly medianMs: number; readonly perEntryMs: number };
        readonly uncommitted: { readonly transactions: number; readonly runsMs: readonly number[]; readonly medianMs: number; readonly perTxnMs: number };
        readonly clean: {
          readonly files: number;
          readonly cleanRunsMs: readonly number[];
          readonly emptyRunsMs: readonly number[];
          readonly cleanMedianMs: number;
          readonly emptyMedianMs: number;
          readonly ratio: number;
          readonly readdirRootMs: number;
        };
      }
    | undefined;
  /** The generations layout (benchmarks/generations.ts); absent in results measured before it. */
  readonly generations?: GenerationsResults | undefined;
  readonly targets: readonly Target[];
  readonly durationS: number;
}

function target(id: string, text: string, value: number, op: Target['op'], limit: number, unit: string): Target {
  const pass = op === '<=' ? value <= limit : op === '<' ? value < limit : value >= limit;
  return { id, text, value, limit, op, unit, pass: Number.isFinite(value) && pass };
}

const fmtN = (n: number): string => n.toLocaleString('en-US');

/** The targets of issue 4, evaluated on what was measured (a target whose data is absent is left out). */
export function checkTargets(r: Results): Target[] {
  const out: Target[] = [];
  const k1 = r.main.find((s) => s.set === '1000');
  if (k1 !== undefined) {
    const t = k1.methods.txnfs.medianMs;
    out.push(target('1k-vs-floor', '1,000 files: txnfs vs the durable floor', t / k1.methods['durable-floor'].medianMs, '<=', 1.3, '×'));
    out.push(target('1k-vs-wfa', '1,000 files: txnfs vs write-file-atomic one after another', t / k1.methods['wfa-seq'].medianMs, '<=', 0.25, '×'));
  }
  const base = r.scale.find((s) => s.n === 1000);
  for (const s of r.scale) {
    if (s.n <= 1000) continue;
    if (base !== undefined) out.push(target(`scale-time-${s.n}`, `${fmtN(s.n)} files: time per file vs 1,000 files`, s.perFileMs / base.perFileMs, '<=', 1.5, '×'));
    if (base !== undefined) out.push(target(`scale-rss-${s.n}`, `${fmtN(s.n)} files: peak RSS growth per entry over 1,000 files (data shared, so beyond the data)`, s.rssPerEntryBytes, '<', 1024, 'B'));
  }
  if (r.stream !== undefined) {
    const size = `${r.stream.bytes / 1024 ** 2 >= 1024 ? `${r.stream.bytes / 1024 ** 3} GiB` : `${r.stream.bytes / 1024 ** 2} MiB`}`;
    out.push(target('stream-throughput', `${size} stream: txnfs throughput vs fs.createWriteStream + fsync`, r.stream.throughputRatio, '>=', 0.9, '×'));
    out.push(target('stream-rss', `${size} stream: txnfs peak RSS over its baseline`, r.stream.txnfs.peakOverBaseMiB, '<', 64, 'MiB'));
  }
  if (r.recovery !== undefined) {
    out.push(target('recover-clean', `recover() on a clean root of ${fmtN(r.recovery.clean.files)} files vs an empty root`, r.recovery.clean.ratio, '<=', 2, '×'));
  }
  if (r.generations !== undefined) {
    const g = r.generations;
    out.push(target('gen-commit', `${fmtN(g.commit.files)} files: generations layout vs in-place`, g.commit.ratio, '<=', 1.3, '×'));
    out.push(target('gen-small', `10 files on a ${fmtN(g.small.generationFiles)}-file generation: time per unchanged file`, g.small.perUnchangedFileMs * 1000, '<=', 20, 'µs'));
  }
  return out;
}

const ms = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toFixed(3));
const ratio = (v: number): string => (Number.isFinite(v) ? v.toFixed(2) : 'n/a');
const value = (t: Target): string => (t.unit === '×' ? `${t.value.toFixed(2)}×` : `${t.value.toFixed(t.unit === 'B' ? 0 : 1)} ${t.unit}`);
const limit = (t: Target): string => `${t.op} ${t.limit}${t.unit === '×' ? '×' : ` ${t.unit}`}`;
const setTitle = (s: MainSet): string => (s.set === 'mixed' ? `mixed set: ${s.files} files, 1 KiB to 1 MiB (${(s.bytes / 1024 ** 2).toFixed(1)} MiB)` : `N = ${fmtN(s.files)} files of 4 KiB`);

function mainRows(s: MainSet): string[][] {
  const floor = s.methods['durable-floor'].medianMs;
  const wfa = s.methods['wfa-seq'].medianMs;
  return methods.map((m) => {
    const x = s.methods[m.id];
    return [m.label, ms(x.medianMs), ms(x.perFileMs), ratio(x.medianMs / floor), ratio(x.medianMs / wfa)];
  });
}

function pad(rows: string[][]): string {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join('  ')).join('\n');
}

export function consoleReport(r: Results): string {
  const lines: string[] = [''];
  for (const s of r.main) {
    lines.push(`${setTitle(s)}, median of ${s.runs} runs`);
    lines.push(pad([['method', 'ms', 'ms/file', '× floor', '× wfa-seq'], ...mainRows(s)]));
    lines.push('');
  }
  if (r.stream !== undefined) {
    lines.push(`stream of ${(r.stream.bytes / 1024 ** 2).toFixed(0)} MiB: txnfs ${r.stream.txnfs.throughputMiBs.toFixed(0)} MiB/s, peak RSS +${r.stream.txnfs.peakOverBaseMiB.toFixed(1)} MiB; fs.createWriteStream+fsync ${r.stream.fs.throughputMiBs.toFixed(0)} MiB/s, +${r.stream.fs.peakOverBaseMiB.toFixed(1)} MiB`);
  }
  for (const s of r.scale) {
    lines.push(`scale N=${fmtN(s.n)}: ${ms(s.medianMs)} ms, ${ms(s.perFileMs)} ms/file, peak RSS ${s.peakMiB.toFixed(0)} MiB, +${Number.isFinite(s.rssPerEntryBytes) ? s.rssPerEntryBytes.toFixed(0) : '-'} B/entry over the smallest N (${s.rssOverBasePerEntryBytes.toFixed(0)} B/entry over the base), journal ${fmtN(s.journalBytes)} B`);
  }
  if (r.recovery !== undefined) {
    const v = r.recovery;
    lines.push(`recover(): 1 dead committed txn of ${fmtN(v.committed.entries)} entries ${ms(v.committed.medianMs)} ms; ${v.uncommitted.transactions} dead uncommitted txns ${ms(v.uncommitted.medianMs)} ms; clean root of ${fmtN(v.clean.files)} files ${ms(v.clean.cleanMedianMs)} ms vs empty root ${ms(v.clean.emptyMedianMs)} ms (readdir of that root: ${ms(v.clean.readdirRootMs)} ms)`);
  }
  if (r.generations !== undefined) {
    const g = r.generations;
    lines.push(`generations: ${fmtN(g.commit.files)}-file commit ${ms(g.commit.generationsMs)} ms vs in-place ${ms(g.commit.inPlaceMs)} ms; 10 files on ${fmtN(g.small.generationFiles)} ${ms(g.small.medianMs)} ms (${g.small.perUnchangedFileMs.toFixed(4)} ms per unchanged file), collecting one such generation ${ms(g.small.collectMs)} ms; openSnapshot+release ${g.snapshot.medianUs.toFixed(0)} µs`);
  }
  lines.push('', `targets (${r.plan.name} plan${r.plan.name === 'quick' ? ': reduced sizes, indicative only' : ''}):`);
  for (const t of r.targets) lines.push(`  ${t.pass ? 'PASS' : 'MISS'}  ${t.text}: ${value(t)} (target ${limit(t)})`);
  lines.push('', `${r.durationS.toFixed(0)} s on ${r.machine.cpu}, ${r.machine.cores} cores, Node ${r.machine.node}, ${r.machine.fs.type} on ${r.machine.fs.device}`, '');
  return lines.join('\n');
}

const COLORS: Record<MethodId, string> = {
  txnfs: '#d62728',
  'wfa-seq': '#1f77b4',
  'wfa-par': '#6baed6',
  'atomically-seq': '#2ca02c',
  'atomically-par': '#98df8a',
  'fs-writeFile': '#7f7f7f',
  'durable-floor': '#000000',
  'staged-floor': '#9467bd',
};

/** A log-log line chart of the median time per file against N, one line per method. */
export function perFileSvg(r: Results): string {
  const sets = r.main.filter((s) => s.set !== 'mixed');
  const W = 760;
  const H = 460;
  const m = { l: 70, r: 250, t: 40, b: 50 };
  const xs = sets.map((s) => s.files);
  const ys = sets.flatMap((s) => methods.map((mm) => s.methods[mm.id].perFileMs)).filter((v) => v > 0 && Number.isFinite(v));
  if (xs.length === 0 || ys.length === 0) return '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>\n';
  const x0 = Math.log10(Math.min(...xs));
  const x1 = Math.max(x0 + 1, Math.log10(Math.max(...xs)));
  const y0 = Math.floor(Math.log10(Math.min(...ys)));
  const y1 = Math.ceil(Math.log10(Math.max(...ys)));
  const px = (n: number): number => m.l + ((Math.log10(n) - x0) / (x1 - x0)) * (W - m.l - m.r);
  const py = (v: number): number => H - m.b - ((Math.log10(v) - y0) / Math.max(1, y1 - y0)) * (H - m.t - m.b);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${m.l}" y="22" font-size="14" font-weight="bold">Time per file (median ms, log scale) against files written (N, log scale)</text>`,
  ];
  for (let e = y0; e <= y1; e++) {
    const y = py(10 ** e).toFixed(1);
    out.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${y}" y2="${y}" stroke="#ddd"/>`, `<text x="${m.l - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${10 ** e >= 1 ? 10 ** e : (10 ** e).toFixed(-e)} ms</text>`);
  }
  for (const n of xs) {
    const x = px(n).toFixed(1);
    out.push(`<line x1="${x}" x2="${x}" y1="${m.t}" y2="${H - m.b}" stroke="#eee"/>`, `<text x="${x}" y="${H - m.b + 18}" text-anchor="middle">${fmtN(n)}</text>`);
  }
  out.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 10}" text-anchor="middle">N (files of 4 KiB in one batch)</text>`);
  methods.forEach((mm, i) => {
    const pts = sets.map((s) => `${px(s.files).toFixed(1)},${py(s.methods[mm.id].perFileMs).toFixed(1)}`);
    const width = mm.id === 'txnfs' ? 3 : 1.5;
    const dash = mm.id.endsWith('-par') ? ' stroke-dasharray="6 4"' : '';
    out.push(`<polyline fill="none" stroke="${COLORS[mm.id]}" stroke-width="${width}"${dash} points="${pts.join(' ')}"/>`);
    for (const p of pts) {
      const [cx, cy] = p.split(',');
      out.push(`<circle cx="${cx}" cy="${cy}" r="3" fill="${COLORS[mm.id]}"/>`);
    }
    const ly = m.t + 10 + i * 22;
    out.push(
      `<line x1="${W - m.r + 15}" x2="${W - m.r + 45}" y1="${ly}" y2="${ly}" stroke="${COLORS[mm.id]}" stroke-width="${width}"${dash}/>`,
      `<text x="${W - m.r + 52}" y="${ly}" dominant-baseline="middle">${mm.label.replace(/ \(.*\)$/, '').replace('durable floor: parallel open/write/fsync/close + dir fsync', 'durable floor').replace(/^staged floor: .*$/, 'staged floor (no journal)').replace('fs.writeFile in parallel', 'fs.writeFile (not durable)').replace(', one after another', ', sequential').replace(', all in parallel', ', parallel')}</text>`,
    );
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** What the measurements themselves say about the targets that depend on the machine's state. */
function targetNotes(r: Results): string[] {
  const notes: string[] = [];
  const k1 = r.main.find((s) => s.set === '1000');
  if (k1 !== undefined) {
    const wfaOverFloor = k1.methods['wfa-seq'].medianMs / k1.methods['durable-floor'].medianMs;
    notes.push(
      `- 1,000 files: write-file-atomic one after another took ${wfaOverFloor.toFixed(2)}× the durable floor in this run. No durable method beats the floor, so txnfs ≤ 0.25× write-file-atomic is reachable only where that ratio is at least 4: it grows with the disk's fsync latency (each of its files waits for one fsync in turn), while the floor and txnfs keep many fsyncs in flight.`,
    );
  }
  const base = r.scale[0];
  for (const s of r.scale) {
    if (base === undefined || s === base || base.youngMiB === undefined || s.youngMiB === undefined || !Number.isFinite(s.youngMiB)) continue;
    if (s.youngMiB === base.youngMiB) continue;
    const young = ((s.youngMiB - base.youngMiB) * 1024 ** 2) / (s.n - base.n);
    notes.push(
      `- ${fmtN(s.n)} files: V8's young generation ended at ${s.youngMiB.toFixed(0)} MiB, against ${base.youngMiB.toFixed(0)} MiB at ${fmtN(base.n)} files. That one-off step (V8 doubles it once enough bytes have survived its minor collections since it last grew, whatever holds them) can account for up to ${young.toFixed(0)} B per entry of the ${s.rssPerEntryBytes.toFixed(0)} B of growth: its pages count in RSS once they are used.`,
    );
  }
  return notes.length === 0 ? [] : ['Reading these numbers:', '', ...notes, ''];
}

function mdTable(header: string[], rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

export function markdownReport(r: Results, jsonPath: string): string {
  const o: string[] = [];
  const mc = r.machine;
  o.push('# Benchmarks', '');
  o.push(`<!-- Generated by \`npm run bench\` (benchmarks/run.ts) from ${jsonPath}. Do not edit by hand: run it again. -->`, '');
  o.push(
    'txnfs writes a set of files all-or-nothing and durably. These numbers compare it, on one machine in one run, with the',
    'most used single-file libraries and with two floors: plain `fs.writeFile` (neither durable nor atomic), and the least',
    'work any durable method must do (open, write, fsync and close every file in parallel, then fsync the directory once).',
    '',
    `Measured ${mc.date.slice(0, 10)} with the **${r.plan.name}** plan in ${(r.durationS / 60).toFixed(1)} minutes. Every comparison alternates its methods`,
    'round by round (order rotated each round), each run on a fresh directory after a global `sync`, one warm-up round',
    'checked and discarded; numbers are medians. The machine is shared with other work, so absolute times are noisy:',
    '**the ratios, measured in the same run, are the result.** txnfs is measured as `import \'txnfs\'` loads it: the',
    'package\'s bundle (`dist/bundle/`, built by `npm run bench` first).',
    '',
  );
  o.push('## Targets', '');
  o.push(mdTable(['target', 'measured', 'limit', ''], r.targets.map((t) => [t.text, value(t), limit(t), t.pass ? 'met' : '**missed**'])), '');
  o.push(...targetNotes(r));
  o.push('## Many small files', '');
  o.push(`![Time per file against N](benchmarks-per-file.svg)`, '');
  for (const s of r.main) {
    o.push(`### ${setTitle(s)}`, '', `Median of ${s.runs} runs. "× floor": time over the durable floor's; "× wfa-seq": over write-file-atomic one after another.`, '');
    o.push(mdTable(['method', 'median ms', 'ms per file', '× floor', '× wfa-seq'], mainRows(s).map((row) => (row[0]?.startsWith('txnfs') ? row.map((c) => `**${c}**`) : row))), '');
  }
  if (r.stream !== undefined) {
    const s = r.stream;
    o.push(`## One large file: ${(s.bytes / 1024 ** 2).toFixed(0)} MiB streamed, median of ${s.txnfs.runs.length} runs`, '');
    o.push(
      'Same source (64 KiB chunks of one buffer) piped into `tx.createWriteStream()` + `commit()`, or into',
      '`fs.createWriteStream(path, { flush: true })` (fsync before close). Each run in its own process; peak RSS is',
      "getrusage's maxRSS, baseline is that value right before the stream starts.",
      '',
    );
    o.push(
      mdTable(
        ['method', 'median s', 'MiB/s', 'peak RSS MiB', 'over baseline MiB'],
        [
          ['txnfs `createWriteStream` + commit', (s.txnfs.medianMs / 1000).toFixed(2), s.txnfs.throughputMiBs.toFixed(0), s.txnfs.peakMiB.toFixed(1), s.txnfs.peakOverBaseMiB.toFixed(1)],
          ['`fs.createWriteStream` + fsync', (s.fs.medianMs / 1000).toFixed(2), s.fs.throughputMiBs.toFixed(0), s.fs.peakMiB.toFixed(1), s.fs.peakOverBaseMiB.toFixed(1)],
        ],
      ),
      '',
    );
  }
  if (r.scale.length > 0) {
    o.push('## Scale: one transaction of many files', '');
    o.push(
      'Each run in its own process, after a 200-file warm-up transaction. All files share one 4 KiB buffer, so RSS growth',
      'is what txnfs itself holds per entry. "Growth per entry" is (peak RSS at N − peak RSS at the smallest N) / (N −',
      'smallest N): the cost of each further entry, with what every commit pays once (V8\'s young generation at full size,',
      'timers, code) cancelled out; "over base" divides the whole rise from the RSS right before `begin()` by N. Journal size',
      'is read at the commit point.',
      '',
    );
    o.push(
      mdTable(
        ['files', 'median s', 'ms per file', 'peak RSS MiB', 'growth per entry', 'over base per entry', 'V8 young generation', 'journal'],
        r.scale.map((s) => [
          fmtN(s.n),
          (s.medianMs / 1000).toFixed(2),
          ms(s.perFileMs),
          s.peakMiB.toFixed(0),
          Number.isFinite(s.rssPerEntryBytes) ? `${s.rssPerEntryBytes.toFixed(0)} B` : '(reference)',
          `${s.rssOverBasePerEntryBytes.toFixed(0)} B`,
          s.youngMiB === undefined || !Number.isFinite(s.youngMiB) ? '' : `${s.youngMiB.toFixed(0)} MiB`,
          `${(s.journalBytes / 1024).toFixed(0)} KiB (${(s.journalBytes / s.n).toFixed(0)} B/entry)`,
        ]),
      ),
      '',
    );
  }
  if (r.recovery !== undefined) {
    const v = r.recovery;
    o.push('## Recovery', '');
    o.push(
      'Dead transactions are made by a child process that SIGKILLs itself (right after the commit point, or with its',
      'files staged and no journal); the parent then times `recover()`.',
      '',
    );
    o.push(
      mdTable(
        ['root holds', 'median ms', 'per item'],
        [
          [`one dead committed transaction of ${fmtN(v.committed.entries)} entries (rolled forward)`, ms(v.committed.medianMs), `${ms(v.committed.perEntryMs)} ms/entry`],
          [`${v.uncommitted.transactions} dead uncommitted transactions (discarded)`, ms(v.uncommitted.medianMs), `${ms(v.uncommitted.perTxnMs)} ms/transaction`],
          [`nothing pending, ${fmtN(v.clean.files)} ordinary files`, ms(v.clean.cleanMedianMs), ''],
          ['nothing at all (empty root)', ms(v.clean.emptyMedianMs), ''],
        ],
      ),
      '',
      `For scale: one \`readdir\` of the ${fmtN(v.clean.files)}-file root takes ${ms(v.clean.readdirRootMs)} ms; recover() reads only \`.txnfs/\`.`,
      '',
    );
  }
  if (r.generations !== undefined) {
    const g = r.generations;
    o.push('## Generations layout', '');
    o.push(
      `A ${fmtN(g.commit.files)}-file commit (4 KiB each) into a fresh root: ${ms(g.commit.generationsMs)} ms in the generations layout, ${ms(g.commit.inPlaceMs)} ms in place (${g.commit.ratio.toFixed(2)}×; medians of ${g.commit.runs} alternating runs).`,
      `A 10-file commit on a ${fmtN(g.small.generationFiles)}-file generation: ${ms(g.small.medianMs)} ms, ${g.small.perUnchangedFileMs.toFixed(4)} ms per unchanged file (one hard link each; no collection in the measured commit).`,
      `Collecting one such generation (what a commit pays once retention lets one go): ${ms(g.small.collectMs)} ms, ${g.small.collectPerFileMs.toFixed(4)} ms per file.`,
      `openSnapshot + release: ${g.snapshot.medianUs.toFixed(0)} µs median, p90 ${g.snapshot.p90Us.toFixed(0)} µs (${fmtN(g.snapshot.pairs)} pairs). See snapshots.md.`,
      '',
    );
  }
  const f = r.fsync;
  o.push('## The disk', '');
  o.push(
    `fsync of a fresh 4 KiB file, one at a time (${f.samples} samples): p10 ${ms(f.latencyMs.p10)} ms, p50 ${ms(f.latencyMs.p50)} ms, p90 ${ms(f.latencyMs.p90)} ms, p99 ${ms(f.latencyMs.p99)} ms, max ${ms(f.latencyMs.max)} ms.`,
    '',
    mdTable(['files in flight', ...Object.keys(f.perFileMsAtConcurrency)], [['ms per file (open, write 4 KiB, fsync, close)', ...Object.values(f.perFileMsAtConcurrency).map(ms)]]),
    '',
  );
  o.push('## Machine', '');
  o.push(
    mdTable(
      ['', ''],
      [
        ['CPU', `${mc.cpu}, ${mc.cores} cores`],
        ['memory', `${mc.memoryGiB} GiB`],
        ['OS', mc.os],
        ['Node', mc.node],
        ['libuv threadpool', mc.uvThreadpoolSize],
        ['filesystem', `${mc.fs.type} on ${mc.fs.device} at ${mc.fs.mountPoint} (${mc.fs.options})`],
        ['txnfs commit', mc.commit],
      ],
    ),
    '',
  );
  o.push('## Methods', '');
  o.push(
    '- **txnfs**: `begin()`, `tx.write()` of every file without awaiting, `await tx.commit()`, default options (`durability: \'full\'`).',
    '- **write-file-atomic** 7 and **atomically** 2, default options (both fsync each file, neither fsyncs the directory, so a',
    '  power loss can still lose a rename; neither makes several files all-or-nothing). *One after another*: `await` each',
    '  call in turn; *all in parallel*: `Promise.all` over every file.',
    '- **fs.writeFile**: `Promise.all` over every file; no fsync at all.',
    '- **durable floor**: `Promise.all` over every file of open(`wx`), write, fsync, close; then one fsync of the directory.',
    '- **staged floor**: what no staging protocol can skip, and nothing else: 16 files at a time open(`wx`), write, fsync,',
    '  fstat, close in a staging directory; fsync it; rename every file into place (16 at a time); fsync both directories.',
    '  No journal, no locks, no checks, not atomic. The distance from the durable floor to it is the price of staging and',
    '  renaming; the distance from it to txnfs is the price of the rest (journal, locks, recovery scan, checks).',
    '',
    'Reproduce: `npm run bench` (full plan, under an hour) or `npm run bench -- --quick` (about a minute; smaller sizes, does not',
    'touch this page). Raw runs: `benchmarks/results/`.',
    '',
  );
  return o.join('\n');
}
