/**
 * mounts.ts: the mount points inside a root, so that a target behind one is refused before the
 * commit point (docs/protocol.md, commit step 4).
 *
 * `rename(2)` cannot cross mounts (EXDEV), and the planner checks `st_dev` to catch another
 * filesystem inside the root. But a bind mount of a directory of the *same* filesystem (common in
 * containers: `-v /data/x:/app/out/x`, or `mount --bind -o ro`) has the same `st_dev`, and rename
 * across it still fails with EXDEV — after the commit point, where it costs a rollback (EAPPLY).
 * On Linux, /proc/self/mountinfo names every mount point, so they are read once per commit and a
 * target at or below one that lies strictly inside the root is refused up front (ECROSSDEV).
 * Elsewhere (no procfs) the list is empty and `st_dev` is the only check; see docs/guarantees.md.
 *
 * Cost: one read of /proc/self/mountinfo (a few KB; more on hosts with thousands of mounts) per
 * commit, and a prefix comparison per distinct parent directory. A one-file commit reads it only
 * when its rename fails with EXDEV (planner.ts, `deferMounts`).
 */
import * as path from 'node:path';
import { readProcFile } from '../io/fs.js';

/** Undo mountinfo's octal escapes (`\040` for a space, `\011`, `\012`, `\134`). */
function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Parse /proc/self/mountinfo text into mount point paths. */
export function parseMountPoints(text: string): string[] {
  const points: string[] = [];
  for (const line of text.split('\n')) {
    // Fields: id, parent id, major:minor, root, mount point, options, ... (proc(5)).
    const field = line.split(' ')[4];
    if (field !== undefined && field.startsWith('/')) points.push(unescape(field));
  }
  return points;
}

/**
 * Mount points strictly inside `realRoot` (an absolute, resolved path), longest first. Empty when
 * the platform has no /proc/self/mountinfo.
 */
export function mountPointsInside(realRoot: string): string[] {
  const text = readProcFile('/proc/self/mountinfo');
  if (text === undefined) return [];
  const prefix = realRoot.endsWith(path.sep) ? realRoot : realRoot + path.sep;
  return [...new Set(parseMountPoints(text).filter((p) => p !== realRoot && p.startsWith(prefix)))].sort((a, b) => b.length - a.length);
}

/** The mount point among `points` that `realPath` is at or below, if any. */
export function mountOf(realPath: string, points: readonly string[]): string | undefined {
  return points.find((p) => realPath === p || realPath.startsWith(p + path.sep));
}
