// A transaction on an S3 store. Data goes to immutable staging keys (data/<txnId>/<n>) at write
// time; commit() then creates log entry head+1 with If-None-Match: * (the commit point). On 412
// the head moved: if no path this transaction read changed since, rebase onto the new head and try
// again (the staged keys stay valid: they are never overwritten); otherwise EPRECONDITION.
import { randomUUID } from 'node:crypto';
import { TxnError, codes } from '../errors.js';
import { dataKey } from './keys.js';
import { putEntry, writeHeadHint, type LogEntry } from './log.js';
import type { S3Store } from './store.js';

export interface S3BeginOptions {
  store: S3Store;
  /** Rebase attempts after a lost race before giving up with ELOCKED. Default 20. */
  maxRetries?: number;
}

export class S3Transaction {
  readonly id = randomUUID();
  readonly #store: S3Store;
  readonly #maxRetries: number;
  readonly #pending: Promise<unknown>[] = [];
  readonly #changes: LogEntry['changes'] = {};
  /** path -> the generation that last wrote it when read (0 = absent). */
  readonly #reads = new Map<string, number>();
  #base: number | undefined;
  #n = 0;
  #done = false;

  constructor(options: S3BeginOptions) {
    this.#store = options.store;
    this.#maxRetries = options.maxRetries ?? 20;
  }

  /** Stages `data` for `path`: the upload starts now; commit waits for it. */
  write(path: string, data: string | Uint8Array): void {
    this.#open();
    const key = dataKey(this.id, this.#n++);
    const body = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    this.#changes[path] = { key, size: body.byteLength };
    this.#pending.push(this.#store.seam.put(key, body));
  }

  remove(path: string): void {
    this.#open();
    this.#changes[path] = null;
  }

  /** Reads `path` as of this transaction's base (pinned at the first read); commit fails with
   * EPRECONDITION if another commit changes it before this one lands. */
  async read(path: string): Promise<Buffer | undefined> {
    this.#open();
    let tree;
    if (this.#base === undefined) {
      const cur = await this.#store.current();
      this.#base = cur.generation;
      tree = cur.tree;
    } else tree = await this.#store.at(this.#base);
    const ref = tree.get(path);
    this.#reads.set(path, ref?.generation ?? 0);
    return ref === undefined ? undefined : await this.#store.seam.get(ref.key);
  }

  async commit(): Promise<{ generation: number }> {
    this.#open();
    this.#done = true;
    // Every byte is staged before the commit point: a log entry never names a missing key.
    await Promise.all(this.#pending);
    let { generation: head, tree } = await this.#store.current();
    for (let attempt = 0; ; attempt++) {
      for (const [p, seen] of this.#reads) {
        if ((tree.get(p)?.generation ?? 0) !== seen) {
          throw new TxnError(codes.EPRECONDITION, `txnfs/s3: '${p}' changed since it was read; nothing of this transaction is visible. Read it again and retry`, { path: p, txnId: this.id });
        }
      }
      const generation = head + 1;
      if (await putEntry(this.#store.seam, { generation, txnId: this.id, changes: this.#changes })) {
        await writeHeadHint(this.#store.seam, generation);
        return { generation };
      }
      if (attempt >= this.#maxRetries) {
        throw new TxnError(codes.ELOCKED, `txnfs/s3: lost the race for a generation ${attempt + 1} times; nothing is visible. Retry later or raise maxRetries`, { path: this.#where(), txnId: this.id });
      }
      // Jitter spreads the losers so they do not collide again on the same next generation.
      await new Promise((r) => setTimeout(r, Math.random() * 20 * (attempt + 1)));
      ({ generation: head, tree } = await this.#store.current());
    }
  }

  /** Nothing reached the log: staged keys are left for a (not yet built) grace-period sweep. */
  async abort(): Promise<void> {
    this.#done = true;
    await Promise.allSettled(this.#pending);
  }

  /** The store, as a path for error details. */
  #where(): string {
    const { bucket, prefix } = this.#store.seam;
    return `s3://${bucket}/${prefix}`;
  }

  #open(): void {
    if (this.#done) throw new TxnError(codes.ESTATE, 'txnfs/s3: transaction already committed or aborted. Start a new one with begin()', { path: this.#where(), txnId: this.id });
  }
}

export function begin(options: S3BeginOptions): S3Transaction {
  return new S3Transaction(options);
}
