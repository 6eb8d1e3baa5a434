/**
 * format.ts: how `txnfs` prints. Human text (sizes, ages, aligned tables) and JSON.
 *
 * JSON is pretty-printed with two spaces and a final newline; field names are those of the
 * library's own types, so `--json` output is the documented API and stays stable. Errors, which
 * JSON.stringify would print as `{}`, become `{ name, code, message, path, txnId, syscall, cause }`
 * (the fields that are set).
 */

/** An error as plain JSON data; `cause` is serialised the same way, recursively. */
export function errorToJson(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { message: String(err) };
  const out: Record<string, unknown> = { name: err.name, message: err.message };
  const e = err as unknown as Record<string, unknown>;
  for (const key of ['code', 'errno', 'syscall', 'path', 'txnId']) {
    if (e[key] !== undefined) out[key] = e[key];
  }
  if (err.cause !== undefined) out.cause = errorToJson(err.cause);
  return out;
}

/** `value` as the JSON txnfs prints: errors serialised, two-space indent, final newline. */
export function toJson(value: unknown): string {
  return `${JSON.stringify(value, (_key, v: unknown) => (v instanceof Error ? errorToJson(v) : v), 2)}\n`;
}

export { formatBytes } from '../platform/bytes.js';

/** 850ms, 12s, 3m 05s, 2h 10m, 3d 4h */
export function formatAge(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** `n thing` / `n things`. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Rows aligned in columns (two spaces apart), the last column unpadded. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd()).join('\n');
}

/** `s` as one shell word: unchanged when safe, else single-quoted (for "run: txnfs recover <dir>"). */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./@%+=:,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
