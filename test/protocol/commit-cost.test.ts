/**
 * The cost of a small commit, counted through the filesystem seam (src/io/fs.ts reports every call to
 * the fault hook of src/io/faults.ts, reads included). A one-file commit has a budget per protocol step
 * (docs/protocol.md, "The cost of a small commit"); a change that adds calls fails here, so a slower
 * commit path is a deliberate, documented decision, never an accident.
 */
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { begin } from '../../src/index.js';
import { faults, type FaultEvent } from '../../src/io/faults.js';

/** Where a call falls: the step the commit reported last (faults.step) names the protocol step. */
const PHASE: Record<string, Phase> = { stage: 'stage', staged: 'gate', locked: 'prepare', committed: 'apply', cleanup: 'cleanup', 'journal-removed': 'cleanup', done: 'cleanup' };
type Phase = 'stage' | 'gate' | 'prepare' | 'apply' | 'cleanup';

interface Count {
  /** Calls of the commit path (everything but the locks), per phase. */
  readonly path: Record<Phase, number>;
  readonly pathTotal: number;
  /** Calls of src/protocol/lock.ts: its directories, owner records and tombs. */
  readonly lock: number;
  readonly total: number;
  readonly ops: string[];
}

async function counted(fn: () => Promise<void>): Promise<Count> {
  const path: Record<Phase, number> = { stage: 0, gate: 0, prepare: 0, apply: 0, cleanup: 0 };
  const ops: string[] = [];
  let phase: Phase = 'stage';
  let lock = 0;
  faults.hook = (e: FaultEvent) => {
    if (e.kind === 'step') {
      phase = PHASE[e.name] ?? (e.name.startsWith('applied:') ? 'apply' : phase);
      return;
    }
    const isLock = /(?:\/lock|\.lock|\/\.tomb-)/.test(e.path);
    if (isLock) lock += 1;
    else path[phase] += 1;
    ops.push(`${phase}${isLock ? ' (lock)' : ''} ${e.op} ${e.path}${e.dest === undefined ? '' : ` -> ${e.dest}`}`);
  };
  try {
    await fn();
  } finally {
    faults.hook = undefined;
  }
  const pathTotal = Object.values(path).reduce((a, b) => a + b, 0);
  return { path, pathTotal, lock, total: pathTotal + lock, ops };
}

let dir: string;
beforeEach(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'txnfs-cost-'));
});
afterEach(async () => {
  faults.hook = undefined;
  await fsp.rm(dir, { recursive: true, force: true });
});

async function oneFileCommit(durability: 'full' | 'none', existing: boolean): Promise<Count> {
  if (existing) await fsp.writeFile(path.join(dir, 'a.json'), 'old');
  // The first backup under a root decides whether its hard links keep inode numbers (ino-trust.ts):
  // the warm-up replaces a file too, so that the count is the steady state's.
  if (existing) await fsp.writeFile(path.join(dir, 'warm.json'), 'old');
  // A first commit creates the home; the budget is for the steady state of a root in use.
  const warm = begin({ dir, durability });
  warm.write('warm.json', 'x');
  await warm.commit();
  return counted(async () => {
    const tx = begin({ dir, durability });
    tx.write('a.json', JSON.stringify({ n: 1 }));
    await tx.commit();
  });
}

/**
 * The budget of docs/protocol.md ("The cost of a small commit"), per phase, for one 4 KiB file. A
 * transaction of one written file commits by its rename (protocol/direct.ts): no journal, no
 * backup/, no fsync of the home or the staging dir.
 * stage = open the root and home (3, durability 'none' the same: the home is gone, since an empty
 * one is removed after every commit, and this process removed it, so it is made at once: mkdir,
 * lstat of the new home; the root's fsync it would need is owed to a journal, and there is none),
 * the staging dir and files/ (2), the staged file (5, 4 without its fsync); gate = the recovery
 * gate's readdir of the home (1); prepare = the plan's lstat (1), the roll-forward rule's lstat
 * right before the rename (1), the rename and the fsyncs of its two directories, the target's
 * parent and files/ (3, 1 without them): together the commit point; a replaced file adds the undo
 * link and its lstat (2); apply = nothing left to do (0); cleanup = rmdir files/ and the staging
 * dir, rmdir of the empty home (3), and the undo link's unlink for a replaced file (1).
 */
const BUDGET: Record<string, Record<Phase, number>> = {
  'full new': { stage: 10, gate: 1, prepare: 5, apply: 0, cleanup: 3 },
  'full replaced': { stage: 10, gate: 1, prepare: 7, apply: 0, cleanup: 4 },
  'none new': { stage: 9, gate: 1, prepare: 3, apply: 0, cleanup: 3 },
};
/**
 * What the locks (src/protocol/lock/) cost: taking the owner lock 2 calls (mkdir of the lock
 * directory, mkdir of our owner entry: nobody else enters an owner lock, so one this commit made is
 * not listed) and the root lock 3 (the same and a readdir; proper-lockfile's stat of a new entry is
 * answered without a call), verifying both 2 (lstat of our entry), releasing both 4 (rmdir of the
 * entry, rmdir of the directory). It was 26 before the owner-entry locks, 14 before this budget.
 */
const LOCK_TODAY = 11;

describe('filesystem calls of a one-file commit, counted through the seam', () => {
  it.each([
    ['full', false, 'full new'],
    ['full', true, 'full replaced'],
    ['none', false, 'none new'],
  ] as const)('durability %s, target existed %s: the per-step budget, exactly (a saving updates it here and in docs/protocol.md)', async (durability, existing, budget) => {
    const c = await oneFileCommit(durability, existing);
    if (process.env['TXNFS_COST'] !== undefined) {
      console.log(`${budget}: ${c.total} calls, commit path ${c.pathTotal}, locks ${c.lock}`, c.path);
      console.log(c.ops.join('\n'));
    }
    expect(c.path).toEqual(BUDGET[budget]);
    expect(c.lock).toBe(LOCK_TODAY);
    expect(await fsp.readFile(path.join(dir, 'a.json'), 'utf8')).toBe('{"n":1}');
  });
});

/**
 * Two new files: the journaled way (docs/protocol.md, steps 5-10). stage = the home (3), the
 * staging dir and files/ (2), two staged files (10); prepare = two lstats, the fsyncs of the root
 * (the new home's name), the home (the staging dir's name), the staging dir and files/, journal.tmp
 * (create, write, fsync, close), the link to `journal` and the staging dir's fsync (12); apply =
 * two lstats, two renames, fsyncs of the root and files/ (6); cleanup = unlink journal and
 * journal.tmp, rmdir files/ and the staging dir, fsync of the home, rmdir of the home (6).
 */
const JOURNALED: Record<Phase, number> = { stage: 15, gate: 1, prepare: 12, apply: 6, cleanup: 6 };

describe('filesystem calls of a two-file commit (journaled), counted through the seam', () => {
  it('the per-step budget, exactly', async () => {
    const warm = begin({ dir });
    warm.write('warm.json', 'x');
    await warm.commit();
    const c = await counted(async () => {
      const tx = begin({ dir });
      tx.write('a.json', 'a');
      tx.write('b.json', 'b');
      await tx.commit();
    });
    if (process.env['TXNFS_COST'] !== undefined) console.log(`journaled: ${c.total} calls`, c.path, c.ops.join('\n'));
    expect(c.path).toEqual(JOURNALED);
    expect(c.lock).toBe(LOCK_TODAY);
  });
});

describe('the recovery gate beside live transactions', () => {
  it('looks at a live transaction only for its journal (one lstat), not at its whole staging dir', async () => {
    const warm = begin({ dir });
    warm.write('warm.json', 'x');
    await warm.commit();
    // Two transactions of this process that have staged and not committed: alive, no journal.
    const live = [begin({ dir }), begin({ dir })];
    for (const [i, tx] of live.entries()) await tx.write(`live${i}.json`, 'x');
    const gate: string[] = [];
    let inGate = false;
    faults.hook = (e: FaultEvent) => {
      if (e.kind === 'step') {
        if (e.name === 'locked') inGate = false;
        return;
      }
      if (inGate) gate.push(`${e.op} ${path.relative(dir, e.path)}`);
      if (e.op === 'readdir' && e.path === path.join(dir, '.txnfs', 'lock')) inGate = true;
    };
    try {
      const tx = begin({ dir });
      tx.write('a.json', 'x');
      await tx.commit();
    } finally {
      faults.hook = undefined;
    }
    // The home's listing, then per live transaction its owner lock (here none: this thread's own
    // locks are known to its registry; another process's cost a readdir and an lstat of the entry)
    // and one lstat of its absent journal. A full look added the staging dir, files/, backup/,
    // rollback and a read of the journal: 6 calls each.
    expect(gate.filter((c) => c === 'readdir .txnfs')).toHaveLength(1);
    expect(gate.filter((c) => c.startsWith('lstat ') && c.endsWith('/journal'))).toHaveLength(live.length);
    expect(gate.filter((c) => /\/(files|backup|rollback)$|^readFile |^lstat \.txnfs\/\.txn-[^/]+$/.test(c))).toEqual([]);
    expect(gate).toHaveLength(1 + live.length);
    for (const tx of live) await tx.abort();
  });
});
