// The file list of one generation, as a persistent structure: a generation's tree is its parent's
// tree plus the changes of one log entry, sharing everything else. Applying a 10-file entry to a
// 100,000-file tree costs 10 map insertions, not a 100,000-entry copy, and an older generation's
// tree (a pinned snapshot, a transaction's base) stays valid while newer ones are built on it.
// Lookups walk at most MAX_DEPTH layers; past that a tree is flattened once into one Map (O(files),
// once per MAX_DEPTH generations), and its layers are dropped.
import type { LogEntry } from './log.js';

/** A file in the tree: where its bytes are and the generation that last wrote it. */
export interface FileRef {
  readonly key: string;
  readonly size: number;
  /** SHA-256 of the bytes, lowercase hex: a content version without reading the data. */
  readonly sha256: string;
  readonly generation: number;
}

/** Layers before a lookup pays for a flatten: keeps get() O(1) in practice. */
const MAX_DEPTH = 32;

export class Tree {
  readonly generation: number;
  /** Number of files. */
  readonly size: number;
  #parent: Tree | undefined;
  /** This layer's changes (null: removed); for a flat tree, unused. */
  #own: ReadonlyMap<string, FileRef | null>;
  #depth: number;
  #flat: Map<string, FileRef> | undefined;
  #sorted: string[] | undefined;

  private constructor(generation: number, size: number, parent: Tree | undefined, own: ReadonlyMap<string, FileRef | null>, depth: number, flat: Map<string, FileRef> | undefined) {
    this.generation = generation;
    this.size = size;
    this.#parent = parent;
    this.#own = own;
    this.#depth = depth;
    this.#flat = flat;
  }

  static empty(): Tree {
    return Tree.of(0, new Map());
  }

  /** A tree that owns `files` (the caller must not change the map afterwards). */
  static of(generation: number, files: Map<string, FileRef>): Tree {
    return new Tree(generation, files.size, undefined, new Map(), 0, files);
  }

  get(path: string): FileRef | undefined {
    for (let t: Tree | undefined = this; t !== undefined; t = t.#parent) {
      if (t.#flat !== undefined) return t.#flat.get(path);
      const v = t.#own.get(path);
      if (v !== undefined) return v ?? undefined;
    }
    return undefined;
  }

  has(path: string): boolean {
    return this.get(path) !== undefined;
  }

  /** The tree of the next generation: this one with `entry`'s changes. */
  with(entry: LogEntry): Tree {
    if (entry.generation !== this.generation + 1) throw new Error(`txnfs/s3: entry ${entry.generation} does not follow generation ${this.generation}`);
    if (this.#depth >= MAX_DEPTH) this.flat();
    const own = new Map<string, FileRef | null>();
    let size = this.size;
    for (const [p, c] of Object.entries(entry.changes)) {
      const had = this.has(p);
      if (c === null) {
        if (had) size--;
        own.set(p, null);
      } else {
        if (!had) size++;
        own.set(p, { key: c.key, size: c.size, sha256: c.sha256, generation: entry.generation });
      }
    }
    return new Tree(entry.generation, size, this, own, this.#flat !== undefined ? 1 : this.#depth + 1, undefined);
  }

  /** Every file, as one Map (computed once, then kept; the layers below are released). */
  flat(): ReadonlyMap<string, FileRef> {
    if (this.#flat !== undefined) return this.#flat;
    const layers: ReadonlyMap<string, FileRef | null>[] = [];
    let t: Tree = this;
    while (t.#flat === undefined) {
      layers.push(t.#own);
      t = t.#parent!;
    }
    const out = new Map(t.#flat);
    for (let i = layers.length - 1; i >= 0; i--) {
      for (const [p, v] of layers[i]!) {
        if (v === null) out.delete(p);
        else out.set(p, v);
      }
    }
    this.#flat = out;
    this.#parent = undefined;
    this.#own = new Map();
    this.#depth = 0;
    return out;
  }

  /** Every path, sorted (computed once). */
  paths(): readonly string[] {
    this.#sorted ??= [...this.flat().keys()].sort();
    return this.#sorted;
  }

  keys(): IterableIterator<string> {
    return this.flat().keys();
  }

  entries(): IterableIterator<[string, FileRef]> {
    return this.flat().entries();
  }
}
