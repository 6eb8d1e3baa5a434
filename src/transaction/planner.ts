/**
 * planner.ts: a commit's plan, made under the root lock (docs/protocol.md, step 4): the
 * preconditions checked, every target resolved (real parents inside the root, same device, no
 * mount point, no directory or symlink as a target), two names of one file collapsed or refused,
 * the directories to create, and the journal's entries with the mode and owner fix-ups they need.
 * No change to the disk: what it returns is what the commit point will promise.
 */
import { join } from 'node:path';
import * as fs from '../io/fs.js';
import { codes, TxnError } from '../errors.js';
import { PackedEntries } from '../protocol/entries.js';
import { eachLimit } from '../io/limit.js';
import type { Planned } from '../protocol/commit.js';
import type { TrustedHome } from '../protocol/staging.js';
import { allFolded, caseCollisions, nameOneFile } from './casefold.js';
import { Resolver, type TargetPath } from './paths.js';
import { unmetCondition, type FileVersion } from './preconditions.js';
import type { StagedFacts } from './staged.js';

/** In the op log, the value of a removal; a write's value is its staging number (>= 0). */
export const DELETE = -1;

/** A precondition on the state of a path before this transaction. */
export interface Condition {
  readonly target: TargetPath;
  readonly expected: FileVersion;
  /** How the caller set it, for messages. */
  readonly via: 'ifUnchanged' | 'exclusive' | 'expect';
}

/** What a plan is made of: the transaction's operations and what it staged. */
export interface PlanInput {
  /** The transaction's id (the journal's, and for messages). */
  readonly id: string;
  /** The real root the targets are resolved in. */
  readonly root: string;
  readonly home: TrustedHome;
  /** The last operation on each target, in the order of those operations (OpLog.last()). */
  readonly ops: { readonly targets: readonly string[]; readonly codes: Int32Array };
  readonly staged: StagedFacts;
  /** Staging number → the mode given for it, when one was. */
  readonly modes: ReadonlyMap<number, number>;
  readonly conditions: readonly Condition[];
  /** tx.mkdir/removeTree/emptyDir, planned (tree.ts). */
  readonly tree: { readonly mkdirs: readonly string[]; readonly rmdirs: readonly string[] } | undefined;
  readonly concurrency: number;
  /**
   * Leave the check for mount points inside the root to `Planned.checkMounts` (a one-file commit:
   * its rename across a mount fails with EXDEV before anything changed, and then names the mount).
   */
  readonly deferMounts?: boolean | undefined;
}

/** Check every precondition against the root as it is now. Under the root lock, before the commit point. */
async function checkConditions(conditions: readonly Condition[], resolver: Resolver, root: string, txnId: string): Promise<string[]> {
  const read = new Set<string>();
  for (const c of conditions) {
    const r = await resolver.target(c.target.rel);
    const abs = join(root, r.rel);
    if (r.existing !== undefined) read.add(abs);
    const unmet = await unmetCondition(c.expected, r.existing, () => fs.readFile(abs));
    if (unmet !== undefined && c.via === 'exclusive') {
      // Nothing was read, and a retry would meet the same file: say what exclusive refused.
      throw new TxnError(
        codes.EPRECONDITION,
        `The exclusive (create-only) condition on '${c.target.rel}' does not hold: ${unmet}. { exclusive: true } refuses to replace an existing file, so nothing was committed. Remove it first, or write without exclusive to replace it.`,
        { path: c.target.rel, txnId },
      );
    }
    if (unmet !== undefined) {
      const how = c.via === 'expect' ? 'expect()' : 'ifUnchanged';
      throw new TxnError(
        codes.EPRECONDITION,
        `The ${how} condition on '${c.target.rel}' does not hold: ${unmet}. Another writer changed it since it was read; nothing was committed. Read it again and retry.`,
        { path: c.target.rel, txnId },
      );
    }
  }
  return [...read];
}

/**
 * Resolve every target and build the journal. Per entry this keeps the journal entry and, while
 * it runs, three array slots (real path, existing file, missing parents); nothing per entry is
 * built and thrown away in between, so a 100,000-entry plan does not fill the heap with garbage.
 */
export async function buildPlan(input: PlanInput): Promise<Planned> {
  const { id, root, home, staged, modes, tree } = input;
  const resolver = new Resolver(root, home.dev, input.deferMounts === true);
  // Entries apply in the order of each target's last operation.
  const { targets: rels, codes: opCodes } = input.ops;
  const count0 = rels.length;
  resolver.expect(rels);
  const readFiles = await checkConditions(input.conditions, resolver, root, id);
  // Only what differs from the usual case is kept per entry (a real path other than the path as
  // given, an existing file, directories to create): a commit into a new directory keeps
  // nothing here, instead of three arrays of 10,000 slots for the garbage collector to copy.
  const realOf = new Map<number, string>();
  const existingOf = new Map<number, fs.Info>();
  const missingOf = new Map<number, readonly string[]>();
  await eachLimit(rels, input.concurrency, async (rel, i) => {
    const r = await resolver.target(rel);
    if (r.rel !== rel) realOf.set(i, r.rel);
    if (r.existing !== undefined) existingOf.set(i, r.existing);
    if (r.missingDirs.length > 0) missingOf.set(i, r.missingDirs);
  });
  const renamed = realOf.size > 0;
  const reals: readonly string[] = renamed ? rels.map((rel, i) => realOf.get(i) ?? rel) : rels;
  // Two paths may name one file (a symlinked parent inside the root): the later operation wins,
  // in the place of its last operation. Only then is an order by real path built; the usual case
  // (every real path is the path as given, already unique) needs no per-entry copy.
  let order: number[] | undefined;
  if (renamed) {
    const byReal = new Map<string, number>();
    reals.forEach((real, i) => {
      byReal.delete(real);
      byReal.set(real, i);
    });
    order = [...byReal.values()];
  }
  const count = order?.length ?? count0;
  const at = (k: number): number => (order === undefined ? k : (order[k] as number));
  // On a case-folding filesystem two spellings can name one file: refuse such a pair rather than
  // write one file twice in an order nobody chose (casefold.ts).
  const finalReals = order === undefined ? reals : order.map((i) => reals[i] as string);
  // The entries' targets are distinct strings (one operation per target, one per real path);
  // when each is also its own loose key, they are distinct files everywhere, and no pair can
  // collide (one scan of the targets answers both).
  const distinct = allFolded(finalReals);
  const collisions = distinct ? [] : caseCollisions(finalReals);
  if (collisions.length > 0) {
    const homeInfo = await fs.lstat(home.home);
    for (const [a, b] of collisions) {
      if (await nameOneFile(root, homeInfo, a, b)) {
        throw new TxnError(codes.ETARGET, `'${a}' and '${b}' name the same file on this case-insensitive filesystem. Write it under one name.`, { path: b, txnId: id });
      }
    }
  }
  const dirs: string[] = [];
  const dirSet = new Set<string>();
  for (let k = 0; k < count; k++) {
    for (const d of missingOf.get(at(k)) ?? []) {
      if (!dirSet.has(d)) {
        dirSet.add(d);
        dirs.push(d);
      }
    }
  }
  // Directories tx.mkdir/emptyDir create join those the new files need.
  for (const d of tree?.mkdirs ?? []) {
    if (!dirSet.has(d)) {
      dirSet.add(d);
      dirs.push(d);
    }
  }
  const isRoot = process.getuid?.() === 0;
  // In the usual case (nothing removed that was absent) the entries' targets are `finalReals` in
  // order (`rels` itself where nothing is renamed): the entries use it rather than a copy
  // (entries.ts).
  const entries = new PackedEntries(count, finalReals);
  const fixups: Planned['fixups'] = [];
  let bytes = 0;
  let written = 0;
  let removed = 0;
  for (let k = 0; k < count; k++) {
    const i = at(k);
    const rel = rels[i] as string;
    const real = reals[i] as string;
    const old = existingOf.get(i);
    const code = opCodes[i] as number;
    if (dirSet.has(real)) {
      throw new TxnError(codes.ETARGET, `'${real}' is both a file and a parent directory of another target in this transaction. Write one or the other.`, { path: real, txnId: id });
    }
    if (code === DELETE) {
      if (old === undefined) continue; // rm -f: nothing to remove
      entries.addDelete(real, old);
      removed++;
      continue;
    }
    const s = staged.get(code);
    if (s === undefined) throw new TxnError(codes.ESTAGE, `'${rel}' was not staged (a bug in txnfs: please report it). Nothing was committed.`, { path: rel, txnId: id });
    // Keep an existing file's mode unless one was given; as root, keep its owner too (like
    // write-file-atomic's chown), so replacing /etc-style files does not hand them to root.
    const mode = modes.get(code) ?? old?.mode ?? s.mode;
    const owner = isRoot && old !== undefined && (old.uid !== s.uid || old.gid !== s.gid) ? { uid: old.uid, gid: old.gid } : undefined;
    // With a new owner the mode is set again even when unchanged: the chown cleared any set-id bits.
    if (mode !== s.mode || owner !== undefined) fixups.push({ staged: code, mode: mode !== s.mode || owner !== undefined ? mode : undefined, owner });
    entries.addWrite(real, code, old, s.ino, s.bytes, mode);
    bytes += s.bytes;
    written++;
  }
  const checkMounts = input.deferMounts === true ? () => resolver.refuseMounts(finalReals) : undefined;
  return { journal: { id, created: Date.now(), dirs, ...(tree !== undefined && tree.rmdirs.length > 0 ? { rmdirs: tree.rmdirs } : {}), entries }, fixups, bytes, written, removed, distinct, readFiles, ...(checkMounts === undefined ? {} : { checkMounts }) };
}
