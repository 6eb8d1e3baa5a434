/**
 * recover.ts (generations): what recover(dir) does when `dir` is a generations pointer.
 *
 * Under the root lock (`<genHome>/.txnfs/lock`), the same lock commits take:
 *   1. recoverLocked() on the txnfs home inside the generation home: a dead transaction's staging
 *      dir is removed whole, and with it any half-built generation or half-deleted old one;
 *   2. a missing pointer with generations present is pointed at the newest one (pointer.ts);
 *   3. the pointer is read, then old generations are collected (gc.ts), dead pins with them.
 * With `dryRun`, nothing changes and no lock is taken: the report says what would be collected.
 * Every step is idempotent, so a crash during recovery followed by recovery gives the same result.
 */
import { nameId } from '../ids.js';
import { errnoOf } from '../errors.js';
import { syncDir } from '../io/durable.js';
import { homeOf, rootLockPath } from '../protocol/layout.js';
import { withRootLock } from '../protocol/lock.js';
import { recoverLocked, type RecoverContext, type RecoverReport } from '../protocol/recover.js';
import * as fs from '../io/fs.js';
import { createStaging, openHome, removeStaging, trustHome } from '../protocol/staging.js';
import { TEMP_STALE_MS } from '../single/heartbeat.js';
import type { ResolvedCommon } from '../options/options.js';
import { collect, listGenerations } from './gc.js';
import { currentState } from './commit.js';
import { genHomeOf } from './names.js';
import { readPointer } from './pointer.js';
import { type PinRecord, readPins } from './pins.js';
import { realPointer } from './setup.js';
import { now } from '../clock.js';

/** What recover() reports about a generations root (RecoverReport.generations). */
export interface GenerationsRecovery {
  /** The pointer's generation after recovery (undefined: no pointer, or a plain directory). */
  readonly current: number | undefined;
  /** The pointer was missing and was pointed at the newest generation. */
  readonly repaired: boolean;
  /** Generations removed (dry run: that would be). */
  readonly collected: number[];
  /** Generations kept: current, retained, pinned. */
  readonly kept: number[];
  /** Pins found (dead ones removed unless dry run). */
  readonly pins: PinRecord[];
}

export async function recoverGenerations(
  dir: string,
  common: ResolvedCommon,
  o: { readonly dryRun: boolean; readonly keep: number; readonly onProgress?: RecoverContext['onProgress'] },
): Promise<RecoverReport & { generations: GenerationsRecovery }> {
  const started = now();
  const pointer = await realPointer(dir);
  const genHome = genHomeOf(pointer);
  const pinStale = Math.max(TEMP_STALE_MS, common.timing.stale);
  const ctxOf = (home: string, trusted: ReadonlySet<number> | undefined): RecoverContext => ({ root: genHome, home, trusted, durable: common.durable, timing: common.timing, concurrency: common.concurrency, dryRun: o.dryRun, onProgress: o.onProgress });
  if (o.dryRun) {
    // Read-only, as inspect(): a home recovery would refuse trusts nobody (staging.ts).
    const homeInfo = await fs.lstat(homeOf(genHome)).catch(() => undefined);
    const trusted = homeInfo === undefined ? undefined : await trustHome(genHome, homeOf(genHome), homeInfo).catch((): ReadonlySet<number> => new Set<number>());
    const rec = await recoverLocked(ctxOf(homeOf(genHome), trusted));
    const state = await readPointer(pointer, genHome);
    const gens = await listGenerations(genHome);
    const current = state.kind === 'gen' ? state.generation : state.kind === 'missing' ? gens[gens.length - 1] : undefined;
    const c = await collect({ genHome, current, keep: o.keep, stale: pinStale, retireDir: '', durable: false, dryRun: true });
    return { ...rec, orphans: [], generations: { current, repaired: false, collected: c.removed, kept: c.kept, pins: c.pins }, durationMs: now() - started };
  }
  const home = await openHome(genHome, common.durable);
  return withRootLock(rootLockPath(home.home), common.timing, common.signal, async () => {
    const rec = await recoverLocked(ctxOf(home.home, home.trusted));
    // Our own staging dir: where a repaired pointer is made and victims are renamed before their
    // deletion, so that a crash of this recovery leaves only a dead staging dir behind.
    const staging = await createStaging(home.home, nameId(12), common.timing);
    try {
      const before = await readPointer(pointer, genHome);
      const state = await currentState(pointer, genHome, staging.dir, common.durable);
      const current = state.kind === 'gen' ? state.generation : undefined;
      const c = await collect({ genHome, current, keep: o.keep, stale: pinStale, retireDir: staging.dir, durable: common.durable, concurrency: common.concurrency });
      await removeStaging(staging.dir, common.durable, true);
      if (common.durable) await syncDir(home.home);
      return {
        ...rec,
        orphans: [],
        generations: { current, repaired: before.kind === 'missing' && state.kind === 'gen', collected: c.removed, kept: c.kept, pins: c.pins },
        durationMs: now() - started,
      };
    } finally {
      await staging.ownerLock.release().catch(() => undefined);
    }
  });
}

/** What `txnfs status` shows about a generations root. Read-only. */
export interface GenerationsStatus {
  readonly pointer: string;
  readonly current: number | undefined;
  /** Every generation in the home, ascending. */
  readonly generations: number[];
  /** Live pins (generation, pid, age). */
  readonly pins: PinRecord[];
}

export async function generationsStatus(dir: string, stale = TEMP_STALE_MS): Promise<GenerationsStatus> {
  const pointer = await realPointer(dir);
  const genHome = genHomeOf(pointer);
  const state = await readPointer(pointer, genHome).catch((err: unknown) => {
    if (errnoOf(err) === 'ENOENT') return { kind: 'missing' as const };
    throw err;
  });
  const generations = await listGenerations(genHome);
  const pins = (await readPins(genHome, stale, false)).filter((p) => p.live);
  return { pointer, current: state.kind === 'gen' ? state.generation : undefined, generations, pins };
}
