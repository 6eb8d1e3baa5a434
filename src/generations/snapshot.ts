/**
 * snapshot.ts (generations): pin one generation for as long as a reader needs it.
 *
 * openSnapshot(dir): read the pointer (generation g), write a pin on g (pins.ts), read the pointer
 * again. If it still names g or g + 1, the pin is safe: a collector removes g only after the
 * pointer reached g + 2, and it reads the pins after reading the pointer (gc.ts), so it sees this
 * pin. Otherwise two commits happened in between and g may already be going: move the pin to the
 * generation just read and check again. No lock is taken: a reader never waits for a writer.
 *
 * Cost: two readlinks, one small file written and renamed, one realpath; release() is one unlink.
 * While held, an unref'd timer refreshes the pin's mtime every 5 s (for collectors on other
 * hosts), and the pin is removed if the process exits without releasing it.
 */
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { nameId } from '../ids.js';
import * as fs from '../io/fs.js';
import { codes, TxnError } from '../errors.js';
import { keepFresh } from '../single/heartbeat.js';
import { checkTarget } from '../transaction/paths.js';
import { resolveDir } from '../options/options.js';
import { genHomeOf } from './names.js';
import { readPointer } from './pointer.js';
import { removePin, writePin } from './pins.js';
import { realPointer } from './setup.js';

/**
 * A pinned generation: it is not deleted until `release()`, however many commits follow.
 *
 * @example
 * ```ts
 * // Hand one consistent generation to a program that knows nothing of txnfs.
 * await using snap = await openSnapshot('site');
 * execFileSync('rsync', ['-a', `${snap.dir}/`, 'backup:/srv/site/']);
 * ```
 */
export interface Snapshot extends AsyncDisposable {
  /** The pinned generation's number. */
  readonly generation: number;
  /** The real path of the pinned generation: hand it to other programs. */
  readonly dir: string;
  /** Every file of the generation, relative, '/'-joined, sorted. */
  readonly list: () => Promise<string[]>;
  /** Read a file of the generation (a path relative to it). */
  readonly readFile: (rel: string) => Promise<Buffer>;
  /** Stream a file of the generation. */
  readonly createReadStream: (rel: string) => Readable;
  /** Let the generation go (idempotent). */
  readonly release: () => Promise<void>;
}

const MAX_ATTEMPTS = 100;

/**
 * Pin the current generation of the generations root `dir` and return it as a snapshot.
 * Rejects with `ETARGET` when `dir` is not a generations pointer (or has no generation yet).
 *
 * @example
 * ```ts
 * await using snap = await openSnapshot('out');
 * for (const rel of await snap.list()) load(rel, await snap.readFile(rel));
 * ```
 */
export async function openSnapshot(dir: string): Promise<Snapshot> {
  const pointer = await realPointer(resolveDir(dir, 'dir'));
  const genHome = genHomeOf(pointer);
  const id = nameId(16);
  let pinPath: string | undefined;
  let stopFresh: (() => void) | undefined;
  try {
    let g = await currentGeneration(pointer, genHome);
    for (let attempt = 0; ; attempt++) {
      pinPath = await writePin(genHome, id, g);
      stopFresh ??= keepFresh(pinPath);
      const now = await currentGeneration(pointer, genHome);
      if (now === g || now === g + 1) break;
      if (attempt >= MAX_ATTEMPTS) throw new TxnError(codes.ELOCKED, `Could not pin a generation of '${dir}': it moved on ${MAX_ATTEMPTS} times while pinning. Retry.`, { path: dir });
      g = now;
    }
    const real = await fs.realpath(path.join(genHome, `gen-${g}`));
    return new PinnedSnapshot(g, real, pinPath, stopFresh);
  } catch (err) {
    stopFresh?.();
    if (pinPath !== undefined) await removePin(pinPath).catch(() => undefined);
    if (err instanceof TxnError) throw err;
    throw new TxnError(codes.EFS, `Could not open a snapshot of '${dir}': ${(err as Error).message}. Fix the cause (see err.cause) and retry.`, { cause: err, path: dir });
  }
}

async function currentGeneration(pointer: string, genHome: string): Promise<number> {
  const state = await readPointer(pointer, genHome);
  if (state.kind === 'gen') return state.generation;
  throw new TxnError(
    codes.ETARGET,
    state.kind === 'missing'
      ? `'${pointer}' does not exist (yet): there is no generation to pin. Write one first: commit with layout: 'generations'.`
      : `'${pointer}' is a plain directory, not a generations pointer: there is no generation to pin. Write to it first with layout: 'generations' (that converts it).`,
    { path: pointer },
  );
}

class PinnedSnapshot implements Snapshot {
  readonly generation: number;
  readonly dir: string;
  readonly #pin: string;
  readonly #stopFresh: () => void;
  #released: Promise<void> | undefined;

  constructor(generation: number, dir: string, pin: string, stopFresh: () => void) {
    this.generation = generation;
    this.dir = dir;
    this.#pin = pin;
    this.#stopFresh = stopFresh;
  }

  #abs(rel: string): string {
    if (this.#released !== undefined) throw new TxnError(codes.ESTATE, `Snapshot of generation ${this.generation} was released. Call openSnapshot() again for a new one.`, { path: this.dir });
    return path.join(this.dir, checkTarget(this.dir, rel, 'rel').rel);
  }

  async list(): Promise<string[]> {
    this.#abs('x'); // refuses after release
    const out: string[] = [];
    const walk = async (rel: string): Promise<void> => {
      for (const e of await fs.readdirKinds(rel === '' ? this.dir : path.join(this.dir, rel))) {
        const child = rel === '' ? e.name : `${rel}/${e.name}`;
        if (e.kind === 'dir') await walk(child);
        else out.push(child);
      }
    };
    await walk('');
    return out.sort();
  }

  readFile(rel: string): Promise<Buffer> {
    try {
      return fs.readFile(this.#abs(rel));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  createReadStream(rel: string): Readable {
    return fs.createReadStream(this.#abs(rel));
  }

  release(): Promise<void> {
    this.#released ??= (async () => {
      this.#stopFresh();
      // A pin already gone is fine (removePin); another failure rejects release(), and the pin
      // then names a live process only until this one exits, when a collector drops it.
      await removePin(this.#pin);
    })();
    return this.#released;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.release();
  }
}
