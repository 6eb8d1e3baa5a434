/**
 * soak.ts: random soak. Several writer processes commit in a loop over one shared set of targets
 * and are SIGKILLed at random moments (by this process, so at any instruction, including inside a
 * multi-syscall call such as rm -rf, which the op-by-op kill loop cannot reach); meanwhile this
 * process calls recover() at random moments, next to live writers. At the end of each round every
 * writer is killed, the root is recovered, and checked:
 *
 *  - one generation: every transaction writes or removes every target, and every file it writes
 *    starts with "gen <writer>.<n> <path> " followed by x's and a newline. So all present files
 *    must carry the same generation G, exactly the targets G wrote must be present, and each file
 *    must be whole (a mix of two commits, a torn file, a file under the wrong name all show);
 *  - nothing acknowledged is lost: a commit that printed ACK after commit() resolved, and that
 *    began after G had ended (its ACK, or its writer's observed death), was applied after G
 *    (the root lock orders commit points; a dead committed G is rolled forward before any later
 *    commit applies, invariant 7), so G cannot be the final state. Timestamps are the children's
 *    own Date.now() against this process's, one clock;
 *  - no writer saw an error (recover() beside them must never touch a live transaction,
 *    invariant 4); nothing is left in .txnfs/ after recovery; nothing outside the root changed.
 *
 * Then the next round starts on the recovered root. Seeded, so a failing run can be replayed
 * (the kill timing still varies with the machine's speed).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { codes, isTxnError, recover } from '../../src/index.js';
import { confinementProblems, homeEntries, sandbox, type Sandbox } from './check.js';
import { runChild } from './child.js';
import { recoverFully } from './kill-loop.js';
import { prng } from './workloads.js';

export interface SoakOptions {
  readonly scratch: string;
  /** Total wall time to soak for. */
  readonly durationMs: number;
  /** Length of one round (random kills within it, then recovery and the check). */
  readonly roundMs: number;
  readonly writers: number;
  readonly seed: number;
}

export interface SoakResult {
  readonly rounds: number;
  /** Writers killed, in all. */
  readonly kills: number;
  /** Of which killed at a random moment of a round (the others at its end). */
  readonly randomKills: number;
  readonly commits: number;
  readonly acks: number;
  /** recover() calls made next to live writers. */
  readonly liveRecoveries: number;
  readonly deferred: number;
  readonly violations: string[];
}

export const SOAK_TARGETS = ['a.json', 'b.csv', 'dir/c.txt', 'dir/sub/d.bin', 'e.txt'] as const;

export interface Txn {
  readonly gen: string;
  readonly began: number;
  readonly writes: readonly string[];
  ack?: number;
  /** When this process saw its writer die (for an unacknowledged one). */
  died?: number;
}

const GEN_LINE = /^gen (\S+) (\S+) (x*)\n$/;

/** The generation a root's files show, or a description of why they show none. */
function generationOf(root: string): { gen?: string; problem?: string; present: string[] } {
  const present: string[] = [];
  const gens = new Set<string>();
  for (const t of SOAK_TARGETS) {
    let text: string;
    try {
      text = fs.readFileSync(path.join(root, t), 'latin1');
    } catch {
      continue;
    }
    present.push(t);
    const m = GEN_LINE.exec(text);
    if (m === null) return { problem: `'${t}' is torn or foreign: ${JSON.stringify(text.slice(0, 60))}…`, present };
    if (m[2] !== t) return { problem: `'${t}' holds the data of '${m[2]}'`, present };
    gens.add(m[1] as string);
  }
  if (gens.size !== 1) return { problem: `files from ${gens.size} generations: ${[...gens].join(', ')}`, present };
  return { gen: [...gens][0] as string, present };
}

/**
 * Check a recovered root against what the writers reported: one whole generation, exactly its
 * files, and no acknowledged commit that must have come after it. `previous` is what the root
 * showed after the last round. Returns the generation found.
 */
export function judgeRound(root: string, txns: ReadonlyMap<string, Txn>, roundTxns: readonly Txn[], previous: string): { final?: string; violations: string[] } {
  const violations: string[] = [];
  const g = generationOf(root);
  if (g.problem !== undefined || g.gen === undefined) return { violations: [`after recovery: ${g.problem ?? 'no generation'}`] };
  const final = txns.get(g.gen);
  if (final === undefined) return { violations: [`the root shows generation ${g.gen}, which no writer began`] };
  const want = [...final.writes].sort().join(',');
  if (g.present.sort().join(',') !== want) violations.push(`generation ${g.gen} wrote [${want}] but [${g.present.join(',')}] are present`);
  const ended = final.ack ?? final.died ?? Number.POSITIVE_INFINITY;
  const lost = roundTxns.filter((t) => t.ack !== undefined && t.gen !== final.gen && t.began > ended);
  if (lost.length > 0) violations.push(`acknowledged commits lost: ${lost.map((t) => t.gen).join(', ')} began after ${g.gen} ended, yet the root shows ${g.gen}`);
  if (final.gen === previous && roundTxns.some((t) => t.ack !== undefined)) violations.push(`commits were acknowledged, yet the root still shows ${previous}`);
  return { final: final.gen, violations };
}

export function seedRoot(root: string): void {
  for (const t of SOAK_TARGETS) {
    fs.mkdirSync(path.dirname(path.join(root, t)), { recursive: true });
    fs.writeFileSync(path.join(root, t), `gen seed.0 ${t} xxxx\n`);
  }
}

export async function soak(o: SoakOptions): Promise<SoakResult> {
  const rand = prng(o.seed);
  const violations: string[] = [];
  fs.mkdirSync(path.join(o.scratch, 'soak'));
  const sb: Sandbox = sandbox(path.join(o.scratch, 'soak'));
  seedRoot(sb.root);
  const txns = new Map<string, Txn>();
  txns.set('seed.0', { gen: 'seed.0', began: 0, writes: [...SOAK_TARGETS], ack: 0 });
  let previous = 'seed.0';
  let rounds = 0;
  let kills = 0;
  let randomKills = 0;
  let liveRecoveries = 0;
  let deferred = 0;
  let writerSeq = 0;
  const deadline = Date.now() + o.durationMs;

  while (Date.now() < deadline || rounds === 0) {
    rounds++;
    const roundTxns: Txn[] = [];
    const live = new Set<{ kill: () => void; exited: Promise<void>; name: string; busy: () => boolean }>();
    const start = (): void => {
      const name = `r${rounds}w${++writerSeq}`;
      let current: Txn | undefined;
      const run = runChild(
        { mode: 'soak', root: sb.root, soak: { targets: [...SOAK_TARGETS], writer: name, seed: Math.floor(rand() * 2 ** 31) } },
        {
          dir: o.scratch,
          timeoutMs: o.durationMs + 60_000,
          onLine: (line) => {
            const [tag, gen, t, rest] = line.split(' ', 4);
            if (tag === 'BEGIN' && gen !== undefined) {
              const list = JSON.parse(line.slice(line.indexOf('[')) as string) as [string, string][];
              current = { gen, began: Number(t), writes: list.filter(([op]) => op === 'w').map(([, p]) => p) };
              txns.set(gen, current);
              roundTxns.push(current);
            } else if (tag === 'ACK' && current !== undefined && gen === current.gen) {
              current.ack = Number(t);
            } else if (tag === 'ERR') {
              violations.push(`round ${rounds}: writer ${name}: commit ${gen} failed: ${t} ${rest ?? ''}`);
            }
          },
        },
      );
      const entry = {
        name,
        // Killing a writer that has not begun a commit yet (node is still starting) tests nothing.
        busy: () => current !== undefined,
        kill: () => run.child?.kill('SIGKILL'),
        exited: run.then(
          (r) => {
            if (current !== undefined && current.ack === undefined) current.died = Date.now();
            if (r.signal !== 'SIGKILL') violations.push(`round ${rounds}: writer ${name} exited by itself (${r.code}): ${r.stderr.slice(0, 300)}`);
          },
          (err: unknown) => {
            violations.push(`round ${rounds}: writer ${name} could not run: ${String(err)}`);
          },
        ),
      };
      live.add(entry);
      void entry.exited.then(() => live.delete(entry));
    };
    for (let i = 0; i < o.writers; i++) start();

    // The round: kill a random writer at a random moment and start another; now and then recover
    // next to the live ones.
    // The round's clock starts once every writer is at work (a loaded machine starts node slowly).
    for (const until = Date.now() + 30_000; Date.now() < until && ![...live].every((w) => w.busy()); ) await new Promise((r) => setTimeout(r, 10));
    const roundEnd = Date.now() + o.roundMs;
    while (Date.now() < roundEnd) {
      await new Promise((r) => setTimeout(r, 20 + rand() * Math.min(250, o.roundMs / 2)));
      if (rand() < 0.25) {
        liveRecoveries++;
        await recover(sb.root, { lockTimeout: 1000 }).catch((err: unknown) => {
          // Busy is fine (a writer holds the root lock, or an ownerless one waits out lockStale).
          if (!(isTxnError(err) && err.code === codes.ELOCKED)) violations.push(`round ${rounds}: recover() next to live writers rejected: ${(err as Error).message}`);
        });
        continue;
      }
      const victims = [...live].filter((w) => w.busy());
      const victim = victims[Math.floor(rand() * victims.length)];
      if (victim === undefined) continue;
      victim.kill();
      kills++;
      randomKills++;
      await victim.exited;
      start();
    }
    const last = [...live];
    for (const w of last) w.kill();
    kills += last.length;
    await Promise.all(last.map((w) => w.exited));

    // Recover in this process (every writer is dead), then check.
    const v = await recoverFully(sb);
    if (v.deferred) deferred++;
    for (const p of v.problems) violations.push(`round ${rounds}: ${p}`);
    const judged = judgeRound(sb.root, txns, roundTxns, previous);
    violations.push(...judged.violations.map((p) => `round ${rounds}: ${p}`));
    previous = judged.final ?? previous;
    const left = homeEntries(sb.root);
    if (left.length > 0) violations.push(`round ${rounds}: left in .txnfs after recovery: ${left.join(', ')}`);
    violations.push(...confinementProblems(sb).map((p) => `round ${rounds}: ${p}`));
    if (violations.length > 0) break;
  }
  const all = [...txns.values()].filter((t) => t.gen !== 'seed.0');
  return { rounds, kills, randomKills, commits: all.length, acks: all.filter((t) => t.ack !== undefined).length, liveRecoveries, deferred, violations };
}

