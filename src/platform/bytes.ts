/**
 * bytes.ts: a byte count for people (0 B, 512 B, 1.5 KiB, 12 MiB). Used by the CLI's tables and by
 * doctor()'s report, so it lives outside cli/: the library never imports from the command.
 */

/** 0 B, 512 B, 1.5 KiB, 12 MiB, ... */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}
