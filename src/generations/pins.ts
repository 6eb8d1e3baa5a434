/**
 * pins.ts (generations): a reader's claim on one generation, and how a collector judges it.
 *
 * A pin is a small JSON file `<genHome>/pins/<id>`: `{ generation, owner, created }`, where `owner`
 * is the process identity the locks use (identity.ts: host key, pid, start time). It is written to
 * a temp name and renamed into place, so a collector never reads half a pin. Its holder keeps its
 * mtime fresh (heartbeat.ts, every 5 s) and the exit handler removes it if the process exits
 * without releasing it.
 *
 * A collector judges a pin as the orphan rules judge a temp file (orphans.ts):
 *   owner on this host, certainly alive            → live, whatever its age
 *   owner on this host, certainly gone (pid reuse) → dead at once
 *   anything else (another host, unreadable /proc) → live until its mtime is `stale` old
 * A pin that cannot be parsed (a person edited it) names no generation, so it keeps nothing; it is
 * removed once it is stale.
 *
 * Cost: a pin is one create, write, rename (no fsync: a pin is about live processes, and after a
 * power loss there are none). Judging one is a readFile and two small /proc reads.
 */
import * as path from 'node:path';
import * as fs from '../io/fs.js';
import { errnoOf } from '../errors.js';
import { isProcessAlive, isProcessGone, parseIdentity, selfIdentity } from '../protocol/identity.js';
import { writeSmallFile } from '../io/durable.js';
import { readdirIfPresent, unlinkIfPresent } from '../io/if-present.js';
import { pinsDirOf } from './names.js';

const PIN_RE = /^[A-Za-z0-9_-]{8,64}$/;
const PIN_TMP_SUFFIX = '.tmp';

/** A reader's pin on a generation, as a collector judged it (status and recover() report these). */
export interface PinRecord {
  /** The pin's id (its file name in `<genHome>/pins/`). */
  readonly id: string;
  /** The generation it keeps. */
  readonly generation: number;
  /** Whether its holder is judged alive (a dead pin no longer keeps anything). */
  readonly live: boolean;
  /** Pid of the holder, when readable. */
  readonly pid: number | undefined;
  /** Milliseconds since the holder last refreshed it. */
  readonly ageMs: number;
}

/** Create `<genHome>/pins/` if needed. */
async function ensurePins(genHome: string): Promise<string> {
  const dir = pinsDirOf(genHome);
  try {
    await fs.mkdir(dir);
  } catch (err) {
    if (errnoOf(err) !== 'EEXIST') throw err;
  }
  return dir;
}

/** Write (or overwrite) pin `id` on `generation`, atomically. */
export async function writePin(genHome: string, id: string, generation: number): Promise<string> {
  const dir = await ensurePins(genHome);
  const final = path.join(dir, id);
  const tmp = `${final}${PIN_TMP_SUFFIX}`;
  await fs.unlink(tmp).catch(() => undefined);
  await writeSmallFile(tmp, `${JSON.stringify({ generation, owner: selfIdentity(), created: Date.now() })}\n`, false);
  await fs.rename(tmp, final);
  return final;
}

export async function removePin(pinPath: string): Promise<void> {
  await unlinkIfPresent(pinPath);
}

/**
 * Every pin in the home, judged. With `removeDead`, dead pins (and temps of dead pins) are
 * unlinked on the way: the collector's job.
 */
export async function readPins(genHome: string, stale: number, removeDead: boolean): Promise<PinRecord[]> {
  const dir = pinsDirOf(genHome);
  const names = await readdirIfPresent(dir);
  if (names === undefined) return [];
  const now = Date.now();
  const out: PinRecord[] = [];
  for (const name of names) {
    const isTmp = name.endsWith(PIN_TMP_SUFFIX);
    const id = isTmp ? name.slice(0, -PIN_TMP_SUFFIX.length) : name;
    if (!PIN_RE.test(id)) continue; // not a name txnfs makes: never touched
    const p = path.join(dir, name);
    let info: fs.Info;
    let text: string;
    try {
      info = await fs.lstat(p);
      text = isTmp ? '' : (await fs.readFile(p)).toString('utf8');
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') continue; // released while we looked
      throw err;
    }
    const ageMs = Math.max(0, now - info.mtimeMs);
    let generation: number | undefined;
    let owner: ReturnType<typeof parseIdentity>;
    try {
      const v = JSON.parse(text) as { generation?: unknown; owner?: unknown };
      if (typeof v.generation === 'number' && Number.isInteger(v.generation)) generation = v.generation;
      owner = parseIdentity(v.owner);
    } catch {
      // judged by age below
    }
    const live = owner !== undefined && isProcessAlive(owner) ? true : owner !== undefined && isProcessGone(owner) ? false : ageMs < stale;
    if (!live && removeDead) {
      await removePin(p);
      continue;
    }
    if (isTmp || generation === undefined) {
      // A temp is a pin being written: its generation is not known yet, and the writer re-checks
      // the pointer after the rename (snapshot.ts), so it protects nothing and needs nothing.
      continue;
    }
    out.push({ id, generation, live, pid: owner?.pid, ageMs });
  }
  return out;
}
