/**
 * gc.ts (generations): remove the generations nobody can still need.
 *
 * Kept: the current generation and the `keep - 1` below it (keep >= 2, so the previous one is
 * always kept: a plain reader that resolved the pointer just before a swap still finishes its
 * read), and every generation a live pin names. Removed: everything else, including generations
 * above the current one (built by a commit that died before its pointer swap).
 *
 * Ordering with pins (snapshot.ts): the caller reads the pointer *before* this reads the pins. A
 * reader writes its pin and then re-reads the pointer, and trusts its pin only if the pointer still
 * names its generation or the next one; a collector that removes generation g saw the pointer at
 * g + 2 or later, so it read the pins after that reader's check, hence after its pin existed.
 *
 * A victim is first renamed into the caller's staging dir (`retired-<n>`), atomically, and that
 * rename is made durable before the tree is deleted: a crash mid-delete leaves a dead staging dir
 * (which recovery removes whole), never a half-deleted `gen-<n>` under its own name. Cost: one
 * readdir of the home and of pins/, one rename per victim, one fsync, then rm -rf of each victim
 * (one unlink per file in it, which dominates; build.ts `removeTree`).
 */
import * as path from 'node:path';
import * as fs from '../io/fs.js';
import { syncDir } from '../io/durable.js';
import { readdirIfPresent } from '../io/if-present.js';
import { genDirOf, generationsIn, RETIRED_PREFIX } from './names.js';
import { removeTree } from './build.js';
import { readPins, type PinRecord } from './pins.js';

export interface CollectOptions {
  readonly genHome: string;
  /** The pointer's generation, read before this call; undefined when there is no pointer. */
  readonly current: number | undefined;
  readonly keep: number;
  /** Stale time of pins whose owner cannot be judged by identity (ms). */
  readonly stale: number;
  /** Where victims are renamed before deletion: a staging dir this process owns. */
  readonly retireDir: string;
  readonly durable: boolean;
  readonly dryRun?: boolean | undefined;
  /** Unlinks in flight when the filesystem has no synchronous unlink. @default 16 */
  readonly concurrency?: number | undefined;
}

export interface CollectResult {
  /** Generations removed (or, dry run, that would be). */
  readonly removed: number[];
  /** Generations kept. */
  readonly kept: number[];
  readonly pins: PinRecord[];
}

/** List the generation numbers in the home. */
export async function listGenerations(genHome: string): Promise<number[]> {
  return generationsIn((await readdirIfPresent(genHome)) ?? []);
}

export async function collect(o: CollectOptions): Promise<CollectResult> {
  const gens = await listGenerations(o.genHome);
  // Pins only after the pointer was read (see the header). Dead pins go on the way.
  const pins = await readPins(o.genHome, o.stale, o.dryRun !== true);
  const pinned = new Set(pins.filter((p) => p.live).map((p) => p.generation));
  const keep = Math.max(2, o.keep);
  const retained = (n: number): boolean => pinned.has(n) || (o.current !== undefined && n <= o.current && n > o.current - keep);
  const victims = gens.filter((n) => !retained(n));
  const kept = gens.filter(retained);
  if (o.dryRun === true || victims.length === 0) return { removed: victims, kept, pins };
  const retired: string[] = [];
  for (const n of victims) {
    const to = path.join(o.retireDir, `${RETIRED_PREFIX}${n}`);
    await fs.rename(genDirOf(o.genHome, n), to);
    retired.push(to);
  }
  // The renames must be durable before the deletes (both ends: the home and the staging dir):
  // otherwise a power loss could keep the unlinks inside a victim but lose its rename, bringing
  // back a half-empty gen-<n>.
  if (o.durable) await Promise.all([syncDir(o.genHome), syncDir(o.retireDir)]);
  for (const p of retired) await removeTree(p, o.concurrency ?? 16);
  return { removed: victims, kept, pins };
}
