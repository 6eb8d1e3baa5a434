/**
 * crash-states.ts: every disk state a power loss may leave after a prefix of a recorded run.
 *
 * Input: the disk image the run started from (fully durable) and the run's log (model-fs.ts). A
 * crash at point k keeps some subset of the first k records. Which subsets are possible is the
 * power-loss model (docs/power-loss-model.md):
 *
 *  Directory entries. A record that changes entries (create, mkdir, rename, link, unlink, rmdir,
 *  one step of rm -rf) is durable once every directory it touches has been fsynced after it: an
 *  fsync of a directory makes every earlier entry change in it durable; a rename across two
 *  directories needs both (the conservative choice); fsync of a file never makes its name durable.
 *  A record that is not durable may be lost; a rename survives whole or not at all.
 *   - 'prefix' (default): per directory, a prefix (in time order) of its non-durable records
 *     survives; a record touching two directories survives only if it is inside both prefixes.
 *   - 'per-name': any set of non-durable records that is closed under "an earlier record on the
 *     same name survives too" (a superset of 'prefix': changes to different names in one
 *     directory may be reordered).
 *
 *  File contents and attributes. A file written (or chmod/chown-ed) since its last fsync may come
 *  back as: 'old' (its content at its last fsync; empty for a file never fsynced), 'new' (what the
 *  process last wrote), 'zero' (the new length, all zero bytes), 'garbage' (the new length, bytes
 *  that were never written), 'torn' (the new content up to a 4 KiB boundary, or half of a smaller
 *  file, then zeros). Attributes come back old or new independently of the content. Identical
 *  variants are merged.
 *
 *  Everything else: inode numbers are kept; an inode is in the crash state iff it is reachable
 *  from '/'; nlink is recounted from the surviving entries (what fsck would do). Every mtime is
 *  moved a day into the past: the machine rebooted, and every lock's owner is gone.
 *
 * Cost per crash point: O(k) to classify the prefix, then one tree build (O(records)) per
 * enumerated structure. The number of structures is the product of (non-durable records + 1) over
 * directories, less the combinations that split a cross-directory rename.
 */
import { createHash } from 'node:crypto';
import { cloneNode, type NodeImage, type NodeKind, type Rec, type Snapshot } from './model-fs.js';

export type Reorder = 'prefix' | 'per-name';
export type DataVariant = 'old' | 'new' | 'zero' | 'garbage' | 'torn';
export const allVariants: readonly DataVariant[] = ['old', 'new', 'zero', 'garbage', 'torn'];

interface Attrs {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

/** One way a non-durable file may come back. */
export interface Variant {
  readonly label: string;
  readonly data: Buffer;
  readonly attrs: Attrs;
}

/** A file whose content or attributes were changed since its last fsync, and how it may come back. */
export interface DirtyFile {
  readonly id: number;
  /** At least two distinct variants; index `defaultIndex` is the 'new' one. */
  readonly variants: readonly Variant[];
  readonly defaultIndex: number;
}

/** Which non-durable entry records survive: one "structure" of the crash state. */
export interface Structure {
  readonly survivors: ReadonlySet<number>;
}

/** A materialised crash state. */
export interface CrashImage {
  readonly snapshot: Snapshot;
  /** Files reachable in this image whose content is not fixed by the model. */
  readonly dirty: ReadonlyMap<number, DirtyFile>;
}

/** Mtimes of crash states are moved this far back: every lock in them looks abandoned. */
export const AGE_MS = 24 * 3600 * 1000;

const hashes = new WeakMap<Buffer, string>();
/** sha1 of a buffer, cached per buffer object (content buffers are immutable). */
export function hashOf(b: Buffer): string {
  let h = hashes.get(b);
  if (h === undefined) {
    h = createHash('sha1').update(b).digest('hex');
    hashes.set(b, h);
  }
  return h;
}

/** Deterministic "garbage": bytes that were never written, different for each file and length. */
function garbage(id: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  let x = (id * 2654435761 + length) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

function torn(data: Buffer): Buffer {
  const keep = data.length > 8192 ? Math.floor(data.length / 2 / 4096) * 4096 : Math.floor(data.length / 2);
  const out = Buffer.alloc(data.length);
  data.copy(out, 0, 0, keep);
  return out;
}

function sameAttrs(a: Attrs, b: Attrs): boolean {
  return a.mode === b.mode && a.uid === b.uid && a.gid === b.gid;
}

interface NodeState {
  readonly kind: NodeKind;
  readonly ino: number;
  readonly target: string;
  data: Buffer;
  attrs: Attrs;
  durableData: Buffer;
  durableAttrs: Attrs;
}

/** What a crash at one point may leave: build structures, then images. */
export class CrashPoint {
  readonly k: number;
  readonly #base: Snapshot;
  readonly #log: readonly Rec[];
  readonly #nodes = new Map<number, NodeState>();
  /** Indices of entry records before k, and whether each is durable. */
  readonly #entries: { readonly i: number; readonly durable: boolean }[] = [];
  readonly #reorder: Reorder;
  readonly #variants: readonly DataVariant[];
  /** Per node: its variants at this point (they do not depend on the structure), built once. */
  readonly #dirtyMemo = new Map<number, DirtyFile | undefined>();

  constructor(base: Snapshot, log: readonly Rec[], k: number, reorder: Reorder, variants: readonly DataVariant[]) {
    this.k = k;
    this.#base = base;
    this.#log = log;
    this.#reorder = reorder;
    this.#variants = variants;
    for (const n of base.nodes.values()) {
      const attrs = { mode: n.mode, uid: n.uid, gid: n.gid };
      this.#nodes.set(n.id, { kind: n.kind, ino: n.ino, target: n.target, data: n.data, attrs, durableData: n.data, durableAttrs: attrs });
    }
    const lastSync = new Map<number, number>();
    const entryIdx: number[] = [];
    for (let i = 0; i < k; i++) {
      const r = log[i] as Rec;
      switch (r.t) {
        case 'node':
          // A new inode: nothing of its content is durable yet.
          this.#nodes.set(r.id, { kind: r.kind, ino: r.ino, target: r.target, data: Buffer.alloc(0), attrs: r.attrs, durableData: Buffer.alloc(0), durableAttrs: r.attrs });
          break;
        case 'data':
          (this.#nodes.get(r.id) as NodeState).data = r.data;
          break;
        case 'attr':
          (this.#nodes.get(r.id) as NodeState).attrs = r.attrs;
          break;
        case 'fsync': {
          const n = this.#nodes.get(r.id) as NodeState;
          n.durableData = n.data;
          n.durableAttrs = n.attrs;
          break;
        }
        case 'fsyncdir':
          lastSync.set(r.id, i);
          break;
        case 'entry':
          entryIdx.push(i);
          break;
        case 'step':
          break;
      }
    }
    for (const i of entryIdx) {
      const r = log[i] as Extract<Rec, { t: 'entry' }>;
      const durable = r.changes.every((c) => (lastSync.get(c.dir) ?? -1) > i);
      this.#entries.push({ i, durable });
    }
  }

  /** Log indices of the entry records that may be lost at this point. */
  nonDurable(): number[] {
    return this.#entries.filter((e) => !e.durable).map((e) => e.i);
  }

  #changes(i: number): Extract<Rec, { t: 'entry' }>['changes'] {
    return (this.#log[i] as Extract<Rec, { t: 'entry' }>).changes;
  }

  /** Every structure the model allows at this point (lazily). */
  *structures(): Generator<Structure> {
    const nd = this.nonDurable();
    if (nd.length === 0) {
      yield { survivors: new Set() };
      return;
    }
    if (this.#reorder === 'prefix') yield* this.#prefixStructures(nd);
    else yield* this.#perNameStructures(nd);
  }

  *#prefixStructures(nd: number[]): Generator<Structure> {
    const byDir = new Map<number, number[]>();
    for (const i of nd) {
      for (const d of new Set(this.#changes(i).map((c) => c.dir))) {
        let list = byDir.get(d);
        if (list === undefined) byDir.set(d, (list = []));
        list.push(i);
      }
    }
    const dirs = [...byDir.values()];
    const included = new Map<number, boolean>();
    const walk = function* (di: number): Generator<Structure> {
      if (di === dirs.length) {
        yield { survivors: new Set(nd.filter((i) => included.get(i) === true)) };
        return;
      }
      const list = dirs[di] as number[];
      for (let cut = 0; cut <= list.length; cut++) {
        const assigned: number[] = [];
        let ok = true;
        for (let j = 0; j < list.length; j++) {
          const idx = list[j] as number;
          const inc = j < cut;
          const prev = included.get(idx);
          if (prev === undefined) {
            included.set(idx, inc);
            assigned.push(idx);
          } else if (prev !== inc) {
            ok = false; // a cross-directory rename inside one directory's prefix but not the other's
            break;
          }
        }
        if (ok) yield* walk(di + 1);
        for (const idx of assigned) included.delete(idx);
      }
    };
    yield* walk(0);
  }

  *#perNameStructures(nd: number[]): Generator<Structure> {
    // preds[j]: earlier non-durable records that change one of the same names as record nd[j].
    const lastOnName = new Map<string, number>();
    const preds: number[][] = [];
    nd.forEach((i, j) => {
      const p = new Set<number>();
      for (const c of this.#changes(i)) {
        const key = `${c.dir}/${c.name}`;
        const prev = lastOnName.get(key);
        if (prev !== undefined) p.add(prev);
        lastOnName.set(key, j);
      }
      preds.push([...p]);
    });
    const chosen: boolean[] = [];
    const walk = function* (j: number): Generator<Structure> {
      if (j === nd.length) {
        yield { survivors: new Set(nd.filter((_, x) => chosen[x] === true)) };
        return;
      }
      chosen[j] = false;
      yield* walk(j + 1);
      if ((preds[j] as number[]).every((p) => chosen[p] === true)) {
        chosen[j] = true;
        yield* walk(j + 1);
      }
      chosen.length = j;
    };
    yield* walk(0);
  }

  #variantsOf(id: number, n: NodeState): DirtyFile | undefined {
    const dataDirty = !n.data.equals(n.durableData);
    const attrsDirty = !sameAttrs(n.attrs, n.durableAttrs);
    if (!dataDirty && !attrsDirty) return undefined;
    const datas: { label: string; data: Buffer }[] = [];
    const add = (label: string, data: Buffer): void => {
      if (!datas.some((d) => d.data.equals(data))) datas.push({ label, data });
    };
    add('new', n.data);
    if (dataDirty) {
      for (const v of this.#variants) {
        if (v === 'old') add('old', n.durableData);
        else if (v === 'zero') add('zero', Buffer.alloc(n.data.length));
        else if (v === 'garbage') add('garbage', garbage(id, n.data.length));
        else if (v === 'torn') add('torn', torn(n.data));
      }
    }
    const attrsList: { label: string; attrs: Attrs }[] = [{ label: '', attrs: n.attrs }];
    if (attrsDirty) attrsList.push({ label: '+old-attrs', attrs: n.durableAttrs });
    const variants: Variant[] = [];
    for (const a of attrsList) for (const d of datas) variants.push({ label: `${d.label}${a.label}`, data: d.data, attrs: a.attrs });
    if (variants.length < 2) return undefined;
    return { id, variants, defaultIndex: 0 };
  }

  /**
   * The crash image for one structure, with each dirty file's content chosen by `choose` (default:
   * the 'new' content). Only inodes reachable from '/' are kept.
   */
  image(structure: Structure, choose: (file: DirtyFile) => number = (f) => f.defaultIndex): CrashImage {
    // Directory entries: the start image, then every durable or surviving change, in order.
    const entries = new Map<number, Map<string, number>>();
    for (const n of this.#base.nodes.values()) if (n.kind === 'dir') entries.set(n.id, new Map(n.entries));
    for (const e of this.#entries) {
      if (!e.durable && !structure.survivors.has(e.i)) continue;
      for (const c of this.#changes(e.i)) {
        let m = entries.get(c.dir);
        if (m === undefined) entries.set(c.dir, (m = new Map()));
        if (c.to === null) m.delete(c.name);
        else m.set(c.name, c.to);
      }
    }
    const nodes = new Map<number, NodeImage>();
    const dirty = new Map<number, DirtyFile>();
    const stack = [this.#base.root];
    while (stack.length > 0) {
      const id = stack.pop() as number;
      if (nodes.has(id)) continue;
      const n = this.#nodes.get(id);
      if (n === undefined) throw new Error(`crash-states: entry points to unknown node ${id}`);
      const oldMtime = Date.now() - AGE_MS;
      const img: NodeImage = {
        id,
        kind: n.kind,
        ino: n.ino,
        mode: n.attrs.mode,
        uid: n.attrs.uid,
        gid: n.attrs.gid,
        mtimeMs: oldMtime,
        data: n.data,
        entries: new Map(),
        target: n.target,
      };
      if (n.kind === 'dir') {
        img.entries = new Map(entries.get(id) ?? []);
        for (const child of img.entries.values()) stack.push(child);
      } else if (n.kind === 'file') {
        let d = this.#dirtyMemo.get(id);
        if (!this.#dirtyMemo.has(id)) this.#dirtyMemo.set(id, (d = this.#variantsOf(id, n)));
        if (d !== undefined) {
          dirty.set(id, d);
          const v = d.variants[choose(d)] as Variant;
          img.data = v.data;
          img.mode = v.attrs.mode;
          img.uid = v.attrs.uid;
          img.gid = v.attrs.gid;
        }
      }
      nodes.set(id, img);
    }
    return { snapshot: { nodes, root: this.#base.root }, dirty };
  }
}

/** Crash points worth visiting in a log: 0, and every k right after a record that changes state. */
export function crashPoints(log: readonly Rec[]): number[] {
  const out = [0];
  log.forEach((r, i) => {
    if (r.t !== 'step' && r.t !== 'node') out.push(i + 1);
  });
  return out;
}

/** The index just after the first 'step' record named `name`, or undefined. */
export function stepIndex(log: readonly Rec[], name: string): number | undefined {
  const i = log.findIndex((r) => r.t === 'step' && r.name === name);
  return i === -1 ? undefined : i + 1;
}

/**
 * A fingerprint of an image: the tree (names, kinds, inode numbers, node ids, modes, owners,
 * contents, symlink targets), not mtimes (every crash image is aged alike).
 */
export function fingerprint(s: Snapshot, from: number = s.root): string {
  const h = createHash('sha1');
  const seen = new Set<number>();
  const walk = (id: number, p: string): void => {
    const n = s.nodes.get(id);
    if (n === undefined) return;
    h.update(`${p}\0${n.kind}\0${n.id}\0${n.ino}\0${n.mode}\0${n.uid}\0${n.gid}\0`);
    if (seen.has(id)) return; // a hard link: named, not walked twice
    seen.add(id);
    if (n.kind === 'file') h.update(hashOf(n.data));
    else if (n.kind === 'symlink') h.update(n.target);
    else for (const name of [...n.entries.keys()].sort()) walk(n.entries.get(name) as number, `${p}/${name}`);
  };
  walk(from, '');
  return h.digest('hex');
}

/** A deep copy of a snapshot (entry maps copied, buffers shared). */
export function copySnapshot(s: Snapshot): Snapshot {
  return { nodes: new Map([...s.nodes].map(([id, n]) => [id, cloneNode(n)])), root: s.root };
}

/** What a recovery run of one crash image must tell the explorer: which non-durable files it looked at. */
export interface Observed {
  /** Ids of dirty files recovery read. */
  readonly observed: ReadonlySet<number>;
  /** Ids of dirty files visible among the targets afterwards. */
  readonly visible: ReadonlySet<number>;
}

/**
 * Branch on the content of every non-durable file of one structure that recovery observed or
 * that ends up among the targets, and call `leaf` once per distinct outcome. A file nobody looked
 * at keeps its default content: its other contents cannot change the outcome. `fixed` maps each
 * file branched on to its variant.
 */
export async function eachContent<O extends Observed>(
  point: CrashPoint,
  s: Structure,
  run: (img: CrashImage) => Promise<O>,
  leaf: (img: CrashImage, out: O, fixed: ReadonlyMap<number, number>) => void,
  stop: () => boolean = () => false,
): Promise<void> {
  const fixed = new Map<number, number>();
  const go = async (): Promise<void> => {
    if (stop()) return;
    const img = point.image(s, (f) => fixed.get(f.id) ?? f.defaultIndex);
    const out = await run(img);
    const x = [...img.dirty.keys()].find((id) => !fixed.has(id) && (out.observed.has(id) || out.visible.has(id)));
    if (x === undefined) {
      leaf(img, out, fixed);
      return;
    }
    const d = img.dirty.get(x);
    for (let v = 0; v < (d?.variants.length ?? 0); v++) {
      fixed.set(x, v);
      await go();
    }
    fixed.delete(x);
  };
  await go();
}

