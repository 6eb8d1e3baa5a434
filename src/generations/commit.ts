/**
 * commit.ts (generations): build the next generation and swap the pointer to it.
 *
 * Runs under the root lock (`<genHome>/.txnfs/lock`), after the staged files are written and
 * fsynced and after dead transactions were recovered, in this order (durability 'full'):
 *
 *   1. read the pointer: generation N (a missing pointer with generations present is repaired
 *      first, pointer.ts; a plain directory is generation 0 of a conversion);
 *   2. plan against generation N (the transaction's own planner: targets, preconditions, modes);
 *   3. fix staged files' modes and owners; fsync them (inode metadata the new generation relies on);
 *   4. link every unchanged file of N into `<staging>/gen` (build.ts), create the missing parents,
 *      rename each staged file into place;
 *   5. fsync every directory of the new tree, and files/ (which the staged files left): its entries
 *      must be durable before anything names it;
 *      a conversion also fsyncs each carried-over file once (a plain directory's files may never
 *      have been fsynced);
 *   6. rename `<staging>/gen` to `<genHome>/gen-<N+1>`, fsync the home and the staging dir (both
 *      ends of the rename): the name is durable;
 *   7. conversion only: rename the plain directory to `<genHome>/gen-0` (readers see ENOENT from
 *      here to step 8; see docs/snapshots.md);
 *   8. rename a new symlink over the pointer ◀── commit point; fsync the pointer's directory and
 *      the staging dir it came from;
 *   9. collect old generations (gc.ts). A failure here is a warning: the commit stands.
 *
 * A crash before 8 leaves the pointer on N; the half-built tree is inside a dead staging dir
 * (removed by recovery) and a complete `gen-<N+1>` that no pointer names is collected. A crash
 * between 7 and 8 leaves no pointer; recovery (or the next commit) points it at the newest
 * generation, N+1. Nothing ever writes into a generation once it has its `gen-<n>` name.
 */
import * as path from 'node:path';
import * as fs from '../io/fs.js';
import { codes, errnoOf, TxnError } from '../errors.js';
import { syncDir, syncDirs } from '../io/durable.js';
import { mutated } from '../io/faults.js';
import { filesDir, stagedFile } from '../protocol/layout.js';
import { readdirIfPresent } from '../io/if-present.js';
import { eachLimit } from '../io/limit.js';
import type { JournalEntries } from '../protocol/entries.js';
import { HOME_NAME } from '../protocol/layout.js';
import { linkTree } from './build.js';
import { collect, listGenerations } from './gc.js';
import { BUILD_NAME, genDirOf } from './names.js';
import { readPointer, repairPointer, swapPointer, syncPointer, type PointerState } from './pointer.js';

/** What the transaction's planner produced, as far as this layout needs it. */
export interface GenPlan {
  readonly entries: JournalEntries;
  /** Directories to create (relative, parents first). */
  readonly dirs: readonly string[];
  readonly fixups: readonly { readonly staged: number; readonly mode: number | undefined; readonly owner: { uid: number; gid: number } | undefined }[];
}

export interface GenCommitContext<P extends GenPlan> {
  /** The pointer (absolute, its parent a real path). */
  readonly pointer: string;
  readonly genHome: string;
  readonly stagingDir: string;
  readonly durable: boolean;
  readonly concurrency: number;
  readonly keep: number;
  readonly pinStale: number;
  readonly signal: AbortSignal | undefined;
  /** Plan the transaction against `root`, the current generation (a realpath). */
  plan(root: string): Promise<P>;
  /** Called right after the pointer rename: from here on the commit happened. */
  onCommitPoint(): void;
}

export interface GenCommitResult<P> {
  readonly plan: P;
  readonly generation: number;
  /** Generations removed by the collection that followed. */
  readonly collected: number[];
  readonly warnings: string[];
}

/**
 * link(2) holds no descriptor, so the build may have more calls in flight than `concurrency`
 * (which bounds open files); 64 keeps libuv's threads busy while the event loop queues more
 * (measured: 0.017 ms per file at 16, 0.013 ms at 64, 100,000 files, 2 cores).
 */
const LINK_CONCURRENCY = 64;

/** Read the pointer under the root lock; repair a missing one when generations exist. */
export async function currentState(pointer: string, genHome: string, stagingDir: string, durable: boolean): Promise<PointerState> {
  const state = await readPointer(pointer, genHome);
  if (state.kind !== 'missing') return state;
  const gens = await listGenerations(genHome);
  const newest = gens[gens.length - 1];
  return newest === undefined ? state : repairPointer(pointer, genHome, stagingDir, newest, durable);
}

export async function commitGeneration<P extends GenPlan>(ctx: GenCommitContext<P>): Promise<GenCommitResult<P>> {
  const state = await currentState(ctx.pointer, ctx.genHome, ctx.stagingDir, ctx.durable);
  const current = state.kind === 'gen' ? state.generation : 0;
  const next = current + 1;
  const retire = { genHome: ctx.genHome, keep: ctx.keep, stale: ctx.pinStale, retireDir: ctx.stagingDir, durable: ctx.durable, concurrency: ctx.concurrency };
  // A gen-<N+1> left by a writer that died before its swap would block our rename: collect first
  // (which also removes anything that fell out of retention while nobody committed).
  await collect({ ...retire, current: state.kind === 'gen' ? current : undefined });
  const build = path.join(ctx.stagingDir, BUILD_NAME);
  await fs.mkdir(build);
  let from: string | undefined;
  if (state.kind === 'gen') from = state.dir;
  else if (state.kind === 'dir') {
    from = await fs.realpath(ctx.pointer);
    await refuseInPlaceHome(from, ctx.pointer);
  }
  const plan = await ctx.plan(from ?? build);
  const { entries } = plan;

  await eachLimit(plan.fixups, ctx.concurrency, async (f) => {
    const p = stagedFile(ctx.stagingDir, f.staged);
    if (f.mode !== undefined) await fs.chmod(p, f.mode);
    if (f.owner !== undefined) await fs.chown(p, f.owner.uid, f.owner.gid);
    // The new mode or owner is inode metadata the new generation relies on (a 0600 secret must
    // not come back 0644 after a power loss).
    if (ctx.durable) await fs.syncFile(p);
  });

  const skip = new Set<string>();
  for (let i = 0; i < entries.length; i++) skip.add(entries.at(i)?.target as string);
  const conversion = state.kind === 'dir';
  const built = from === undefined
    ? { dirs: [build], linked: 0, files: [] as string[] }
    : await linkTree(from, build, { skip, skipTop: conversion ? new Set([HOME_NAME]) : undefined, concurrency: Math.max(ctx.concurrency, LINK_CONCURRENCY), listFiles: conversion && ctx.durable });

  let target = build;
  if (mutated('gen-swap-before-build')) {
    // Deliberately wrong (crash tests): publish the tree before the commit's own files are in it.
    target = genDirOf(ctx.genHome, next);
    await fs.rename(build, target);
    await swapPointer(ctx.pointer, ctx.stagingDir, next);
  }
  const created: string[] = [];
  for (const d of plan.dirs) {
    const abs = path.join(target, d);
    try {
      await fs.mkdir(abs);
      created.push(abs);
    } catch (err) {
      if (errnoOf(err) !== 'EEXIST') throw err;
    }
  }
  const writes: { staged: number; target: string }[] = [];
  for (const e of entries) if (e.op === 'write') writes.push({ staged: e.staged, target: e.target });
  await eachLimit(writes, ctx.concurrency, (w) => fs.rename(stagedFile(ctx.stagingDir, w.staged), path.join(target, w.target)));

  if (ctx.durable) {
    // A plain directory's files may never have been fsynced by whoever wrote them; once they are
    // part of a generation, txnfs promises them. Paid once, at the conversion.
    if (conversion) await eachLimit(built.files, ctx.concurrency, (f) => fs.syncFile(f));
    // Every entry of the new tree must be durable before a name points at the tree: otherwise a
    // power loss after the swap could leave the pointer on a generation missing files.
    const dirs = target === build ? built.dirs : built.dirs.map((d) => target + d.slice(build.length));
    // files/ too: each staged file's rename left it, and a rename across two directories is
    // durable only once both are synced (the conservative model of docs/power-loss-model.md).
    await syncDirs([...dirs, ...created.map((d) => path.dirname(d)), ...created, filesDir(ctx.stagingDir)], ctx.concurrency);
  }
  ctx.signal?.throwIfAborted(); // the last moment an abort can still win
  const genDir = genDirOf(ctx.genHome, next);
  if (target === build) {
    await fs.rename(build, genDir);
    // The name gen-<N+1> must be durable before the pointer names it (both ends of the rename).
    if (ctx.durable) await syncDirs([ctx.genHome, ctx.stagingDir], ctx.concurrency);
    const moveAway = conversion ? () => fs.rename(ctx.pointer, genDirOf(ctx.genHome, 0)) : undefined;
    await swapPointer(ctx.pointer, ctx.stagingDir, next, moveAway);
  }
  ctx.onCommitPoint();
  try {
    if (ctx.durable) {
      await syncPointer(ctx.pointer, ctx.stagingDir);
      if (conversion) await syncDir(ctx.genHome); // gen-0's name
    }
  } catch (err) {
    throw new TxnError(
      codes.EINCOMPLETE,
      `Generation ${next} of '${ctx.pointer}' is published (the pointer names it), but the pointer could not be made durable (${(err as Error).message}); after a power loss it may name generation ${current} again. Fix the cause (see err.cause); the next commit or recover() makes it durable.`,
      { cause: err, path: ctx.pointer },
    );
  }
  const warnings: string[] = [];
  let collected: number[] = [];
  try {
    collected = (await collect({ ...retire, current: next })).removed;
  } catch (err) {
    warnings.push(`Old generations could not be collected (${(err as Error).message}); the next commit or recover() retries.`);
  }
  return { plan, generation: next, collected, warnings };
}

/**
 * A plain directory that was an in-place root keeps txnfs records in `.txnfs/`; they are not
 * carried into the generation. Refuse the conversion while they hold anything (a pending
 * transaction there would be lost): recover() it with the in-place layout first.
 */
async function refuseInPlaceHome(real: string, pointer: string): Promise<void> {
  const names = await readdirIfPresent(path.join(real, HOME_NAME));
  if (names === undefined) return;
  if (names.length > 0) {
    throw new TxnError(codes.ETARGET, `Cannot convert '${pointer}' to the generations layout: its '${HOME_NAME}/' still holds txnfs records of the in-place layout (${names.slice(0, 3).join(', ')}). Run recover('${pointer}') and make sure no in-place transaction uses it, remove '${HOME_NAME}/', then retry.`, { path: pointer });
  }
}
