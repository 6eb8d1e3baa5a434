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
/** The calls on a staged file (files/<n>) made by its staging job (its rename is the apply's). */
const STAGED_FILE_OPS: ReadonlySet<string> = new Set(['create', 'write', 'writev', 'fsync', 'fstat', 'close']);

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
    // A staged file's own calls (in files/, or the lone file in the home) belong to its staging,
    // whenever they come: its fsync and close may end after the commit took the root lock
    // (transaction/seal.ts).
    const at = STAGED_FILE_OPS.has(e.op) && /\/files\/\d+$|\/\.txnfs\/\.tmp-[^/]+$/.test(e.path) ? 'stage' : phase;
    if (isLock) lock += 1;
    else path[at] += 1;
    ops.push(`${at}${isLock ? ' (lock)' : ''} ${e.op} ${e.path}${e.dest === undefined ? '' : ` -> ${e.dest}`}`);
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
 * transaction of one written file stages it as its lone file, a temp in the home
 * (transaction/lone.ts: no owner lock, staging dir or files/), and commits by its rename
 * (protocol/direct.ts): no journal, no backup/, no fsync of the home's name.
 * stage = open the root and home (3, durability 'none' the same: the home is gone, since an empty
 * one is removed after every commit, and this process removed it, so it is made at once: mkdir,
 * lstat of the new home), the target's lstat beside them (1: the lone file is created with the
 * target's mode, never more readable than the file it becomes), the lone file (5, 4 without its
 * fsync: create, write, fsync, fstat, close); gate = the readdir of the home (1: the root lock's
 * listing, which the recovery gate reads instead of its own); prepare = the plan's lstat (1), the
 * roll-forward rule's lstat right before the rename (1), the rename and the fsyncs of its two
 * directories, the target's parent and the home (3, 1 without them): together the commit point;
 * a replaced file adds the undo link and its lstat (2); apply = nothing left to do (0); cleanup =
 * rmdir of the empty home (1), and the undo link's unlink for a replaced file (1).
 */
const BUDGET: Record<string, Record<Phase, number>> = {
  'full new': { stage: 9, gate: 1, prepare: 5, apply: 0, cleanup: 1 },
  'full replaced': { stage: 9, gate: 1, prepare: 7, apply: 0, cleanup: 2 },
  'none new': { stage: 8, gate: 1, prepare: 3, apply: 0, cleanup: 1 },
  // No undo link: with durability 'none' no fsync follows the rename, so nothing can need it.
  'none replaced': { stage: 8, gate: 1, prepare: 3, apply: 0, cleanup: 1 },
};
/**
 * What the locks (src/protocol/lock/) cost. An owner entry is an empty file (create and close;
 * unlink to release). The root lock, whose entries live in the home (flat, owners.ts): taking it
 * 2 calls (create and close of our entry; its listing of the home is counted with the gate, which
 * reads it; proper-lockfile's stat of a new entry is answered without a call), verifying it 1
 * (lstat of our entry), releasing it 1 (unlink of the entry). A lone file has no owner lock; a
 * staging dir's owner lock adds 3 to take (mkdir of its directory, create and close of the entry:
 * nobody else ever enters it, so one this commit made is not listed), 1 to verify, 2 to release
 * (unlink, rmdir). The locks of a one-file commit cost 26 before the owner-entry locks, 14 before
 * this budget, 11 before the lone file, 6 before the flat root lock (a lock directory made, listed
 * and removed on every commit), 3 with directories as entries (one call fewer than a file's
 * create and close, and about 80 µs dearer on ext4: a directory's removal frees a block).
 */
const LOCKS_ONE_FILE = 4;
/**
 * A process's first commit in a root it has never seen: the home is most likely not there (a root
 * at rest has none), so it is made with a mkdir first, as after this process's own removal, and
 * the path costs what the steady state's does. Only the locks differ: proper-lockfile probes the
 * mtime precision of the first lock under a home (a utimes and a stat of its entry).
 */
const FIRST_IN_ROOT_LOCKS = LOCKS_ONE_FILE + 2;
const LOCKS_JOURNALED = 10;

describe('filesystem calls of a one-file commit, counted through the seam', () => {
  it.each([
    ['full', false, 'full new'],
    ['full', true, 'full replaced'],
    ['none', false, 'none new'],
    ['none', true, 'none replaced'],
  ] as const)('durability %s, target existed %s: the per-step budget, exactly (a saving updates it here and in docs/protocol.md)', async (durability, existing, budget) => {
    const c = await oneFileCommit(durability, existing);
    if (process.env['TXNFS_COST'] !== undefined) {
      console.log(`${budget}: ${c.total} calls, commit path ${c.pathTotal}, locks ${c.lock}`, c.path);
      console.log(c.ops.join('\n'));
    }
    expect(c.path).toEqual(BUDGET[budget]);
    expect(c.lock).toBe(LOCKS_ONE_FILE);
    expect(await fsp.readFile(path.join(dir, 'a.json'), 'utf8')).toBe('{"n":1}');
  });

  it("a process's first commit in a root: the home made with a mkdir first, no failing lstat; the same budget", async () => {
    // A root this process has never committed to (a fresh temp dir each test).
    const c = await counted(async () => {
      const tx = begin({ dir, durability: 'full' });
      tx.write('a.json', JSON.stringify({ n: 1 }));
      await tx.commit();
    });
    if (process.env['TXNFS_COST'] !== undefined) console.log(c.ops.join('\n'));
    const home = c.ops.filter((o) => o.endsWith(`${path.sep}.txnfs`));
    expect(home.slice(0, 2)).toEqual([`stage mkdir ${path.join(dir, '.txnfs')}`, `stage lstat ${path.join(dir, '.txnfs')}`]);
    expect(c.path).toEqual(BUDGET['full new']);
    expect(c.lock).toBe(FIRST_IN_ROOT_LOCKS);
  });

  it('a first commit in a root whose home another writer holds: the mkdir fails with EEXIST, the home is used as it is', async () => {
    await fsp.mkdir(path.join(dir, '.txnfs'));
    await fsp.writeFile(path.join(dir, '.txnfs', 'someone-else'), '');
    const c = await counted(async () => {
      const tx = begin({ dir, durability: 'full' });
      tx.write('a.json', JSON.stringify({ n: 1 }));
      await tx.commit();
    });
    const home = c.ops.filter((o) => o.endsWith(`${path.sep}.txnfs`));
    expect(home.slice(0, 2)).toEqual([`stage mkdir ${path.join(dir, '.txnfs')}`, `stage lstat ${path.join(dir, '.txnfs')}`]);
    expect(await fsp.readFile(path.join(dir, 'a.json'), 'utf8')).toBe('{"n":1}');
    // The home holds another writer's file: it stays, with that file.
    expect(await fsp.readdir(path.join(dir, '.txnfs'))).toEqual(['someone-else']);
  });
});

/**
 * Two new files, written one after another: the journaled way (docs/protocol.md, steps 5-10).
 * stage = the home (3; the second write asks for the staging dir before the first makes a lone
 * file, so there is none and both go into files/, lone.ts), the staging dir and files/ (2) and two
 * staged files (10); prepare = two lstats, the fsyncs of the root (the new home's name), the home
 * (the staging dir's name), the staging dir and files/, journal.tmp (create, write, fsync, close),
 * the link to `journal` and the staging dir's fsync (12); apply = two lstats, two renames, fsyncs
 * of the root and files/ (6); cleanup = unlink journal and journal.tmp, rmdir files/ and the
 * staging dir, fsync of the home, rmdir of the home (6).
 */
const JOURNALED: Record<Phase, number> = { stage: 15, gate: 1, prepare: 12, apply: 6, cleanup: 6 };

/** A two-file commit (a.json, b.json) in a root already in use, counted. */
async function twoFileCommit(): Promise<Count> {
  const warm = begin({ dir });
  warm.write('warm.json', 'x');
  await warm.commit();
  return counted(async () => {
    const tx = begin({ dir });
    tx.write('a.json', 'a');
    tx.write('b.json', 'b');
    await tx.commit();
  });
}

describe('filesystem calls of a two-file commit (journaled), counted through the seam', () => {
  it('the per-step budget, exactly', async () => {
    const c = await twoFileCommit();
    if (process.env['TXNFS_COST'] !== undefined) console.log(`journaled: ${c.total} calls`, c.path, c.ops.join('\n'));
    expect(c.path).toEqual(JOURNALED);
    expect(c.lock).toBe(LOCKS_JOURNALED);
  });
});

describe('the order of a journaled commit\'s clean-up (protocol/cleanup.ts)', () => {
  it('releases the root lock before it removes the staging dir: backups\' unlinks never delay the next commit', async () => {
    for (const name of ['a.json', 'b.json']) await fsp.writeFile(path.join(dir, name), 'old');
    const c = await twoFileCommit();
    // Where the first call of the clean-up matching `re` is (the prepare fsyncs the home too).
    const at = (re: RegExp): number => c.ops.findIndex((op) => op.startsWith('cleanup') && re.test(op));
    const lockGone = at(/\(lock\) unlink \S*\/\.txnfs\/lock\.o\.[^/]+$/);
    const firstBackup = at(/ unlink \S*\/backup\/\d+$/);
    const ownerGone = at(/\(lock\) rmdir \S*\/\.txnfs\/\.txn-[^/]+\.lock$/);
    const homeSync = at(/ fsyncDir \S*\/\.txnfs$/);
    expect(lockGone).toBeGreaterThan(-1);
    expect(firstBackup).toBeGreaterThan(lockGone);
    // The owner lock goes before the home's fsync, which makes both removals durable.
    expect(homeSync).toBeGreaterThan(ownerGone);
    expect(ownerGone).toBeGreaterThan(firstBackup);
  });
});

describe('the recovery gate beside live transactions', () => {
  it('looks at a live transaction only for its journal (one lstat), not at its whole staging dir', async () => {
    const warm = begin({ dir });
    warm.write('warm.json', 'x');
    await warm.commit();
    // Two transactions of this process that have staged and not committed: alive, no journal.
    const live = [begin({ dir }), begin({ dir })];
    // Two files each: a staging dir (a transaction of one write so far is a lone file, lone.ts).
    for (const [i, tx] of live.entries()) await Promise.all([tx.write(`live${i}.json`, 'x'), tx.write(`more${i}.json`, 'y')]);
    const gate: string[] = [];
    let inGate = false;
    faults.hook = (e: FaultEvent) => {
      if (e.kind === 'step') {
        if (e.name === 'locked') inGate = false;
        return;
      }
      // From the root lock's listing of the home, which the gate reads instead of its own.
      if (e.op === 'readdir' && e.path === path.join(dir, '.txnfs')) inGate = true;
      if (inGate) gate.push(`${e.op} ${path.relative(dir, e.path)}`);
    };
    try {
      const tx = begin({ dir });
      tx.write('a.json', 'x');
      await tx.commit();
    } finally {
      faults.hook = undefined;
    }
    // The home's listing (the root lock's), then per live transaction its owner lock (here none: this thread's own
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
