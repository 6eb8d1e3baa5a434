/**
 * progress.ts: the progress bar `txnfs recover` draws while it applies a large transaction.
 *
 * Drawn only on a terminal, on stdout: stderr is kept for errors alone, and a bar on stdout can
 * never end up in a pipe or a JSON consumer, because it is not drawn at all when stdout is not a
 * terminal (or with --json). It appears only for transactions of at least `minTotal` entries, is
 * redrawn at most every `intervalMs`, and is erased before the report is printed. One line,
 * rewritten in place with a carriage return and "erase to end of line".
 */

/** What the bar writes to; `process.stdout` in the command. */
export interface ProgressStream {
  write(text: string): unknown;
  readonly isTTY?: boolean | undefined;
  readonly columns?: number | undefined;
}

export interface ProgressOptions {
  /** Transactions smaller than this get no bar. @default 100 */
  readonly minTotal?: number | undefined;
  /** Least time between two redraws (ms); the final state is always drawn. @default 100 */
  readonly intervalMs?: number | undefined;
  readonly now?: (() => number) | undefined;
}

export interface ProgressEvent {
  readonly id: string;
  readonly direction: 'forward' | 'back';
  readonly done: number;
  readonly total: number;
}

const ERASE_LINE = '\r\x1b[K';

export class ProgressBar {
  readonly #stream: ProgressStream;
  readonly #minTotal: number;
  readonly #intervalMs: number;
  readonly #now: () => number;
  #last = Number.NEGATIVE_INFINITY;
  #drawn = false;

  constructor(stream: ProgressStream, options: ProgressOptions = {}) {
    this.#stream = stream;
    this.#minTotal = options.minTotal ?? 100;
    this.#intervalMs = options.intervalMs ?? 100;
    this.#now = options.now ?? Date.now;
  }

  /** Whether a bar would be drawn on this stream at all. */
  get enabled(): boolean {
    return this.#stream.isTTY === true;
  }

  update(p: ProgressEvent): void {
    if (!this.enabled || p.total < this.#minTotal) return;
    const t = this.#now();
    if (p.done < p.total && t - this.#last < this.#intervalMs) return;
    this.#last = t;
    // A pseudo-terminal that was never given a size reports 0 columns.
    this.#stream.write(ERASE_LINE + renderBar(p, this.#stream.columns || 80));
    this.#drawn = true;
  }

  /** Erase the bar, if one was drawn. */
  clear(): void {
    if (this.#drawn) this.#stream.write(ERASE_LINE);
    this.#drawn = false;
  }
}

/** One line, at most `columns - 1` characters: `rolling forward <id> [####------] 512/1000`. */
export function renderBar(p: ProgressEvent, columns: number): string {
  const label = `${p.direction === 'forward' ? 'rolling forward' : 'rolling back'} ${p.id}`;
  const count = `${p.done}/${p.total}`;
  const width = Math.max(0, Math.min(40, columns - 1 - label.length - count.length - 4));
  const filled = p.total === 0 ? width : Math.round((width * p.done) / p.total);
  const bar = width > 0 ? ` [${'#'.repeat(filled)}${'-'.repeat(width - filled)}]` : '';
  return `${label}${bar} ${count}`.slice(0, Math.max(0, columns - 1));
}
