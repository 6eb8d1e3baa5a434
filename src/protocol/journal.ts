/**
 * journal.ts: what a committed transaction will do, encoded so that damage is always detected.
 * docs/protocol.md: "The journal"; written at step 7 and made the commit point at step 8 of "Commit".
 *
 * Format: one ASCII header line, then a JSON body.
 *
 *     txnfs-journal 2 <body length in bytes> <sha256 of the body, hex>\n
 *     {"v":2,"id":"…","created":…,"dirs":["a","a/b"],"rmdirs":["old/x","old"],"entries":[[op,target,staged,existed,ino,stagedIno,mode,size,mtimeNs,stagedSize,backup],…]}
 *
 * "rmdirs" (optional, only when a transaction used tx.removeTree or tx.emptyDir): directories the
 * roll-forward removes after the entries, children first; a rollback re-creates them first.
 *
 * An entry is an array, not an object, to keep a 100,000-entry journal near 8 MB. Its fields:
 * op ('w' write, 'd' delete), target (real path relative to the real root, '/'-joined), staged
 * (n of files/<n>, or -1), existed (0/1), ino (the original's inode, decimal string, or null),
 * stagedIno (the staged file's inode, or null), mode (permission bits given to the staged file, or
 * null); then, new in version 2, the rest of the identity the roll-forward checks before it
 * replaces or removes the original (apply.ts): size (bytes) and mtimeNs (decimal string) of the
 * original, or null when there was none; stagedSize (bytes of the staged file, for a write, else
 * null); backup ('l' a hard link to the original, 'c' a copy of it where hard links are refused,
 * null when there was no original).
 *
 * Version 1 journals (seven fields, always hard-link backups, no size or mtime) written by an
 * older txnfs are still decoded and applied, with the checks they allow (inode and backup link).
 *
 * Decoding is strict: a wrong magic, version, length or checksum, a body that is not exactly the
 * schema, or a target that is not a clean relative path inside the root, all make the journal
 * corrupt. A truncation at any byte or a flip of any byte is therefore rejected, never applied.
 *
 * Durable write = the commit point: write `journal.tmp`, fsync it, rename it to `journal`, fsync
 * the staging dir. Before the rename the transaction never happened; after the directory fsync it
 * will happen, whatever crashes. The first two steps make nothing visible, so a commit runs them
 * at the same time as the fsyncs of what the journal names; only the rename waits for all of them.
 */
import { createHash } from 'node:crypto';
import * as fs from '../io/fs.js';
import { codes, TxnError } from '../errors.js';
import { linkRefused } from '../io/links.js';
import { readFileIfPresentStrict } from '../io/if-present.js';
import { startSmallFile, syncDir, writeSmallFile, type WrittenFile } from '../io/durable.js';
import { journalPath, journalTmpPath, rollbackReadyPath } from './layout.js';
import { isJournalTarget } from '../transaction/paths.js';
import type { JournalEntries } from './entries.js';

const JOURNAL_MAGIC = 'txnfs-journal';
const JOURNAL_VERSION = 2;
/** The oldest version still decoded (a journal left by an older txnfs must still be finished). */
const OLDEST_VERSION = 1;

/** How the original of an entry is kept in backup/<i>; see layout.ts and docs/protocol.md. */
export type BackupKind = 'link' | 'copy';

export interface JournalEntry {
  readonly op: 'write' | 'delete';
  readonly target: string;
  /** n of files/<n> for a write; -1 for a delete. */
  readonly staged: number;
  readonly existed: boolean;
  /** Inode of the original file (decimal), when it existed. */
  readonly ino: string | null;
  /** Inode of the staged file (decimal), for a write. */
  readonly stagedIno: string | null;
  /** Permission bits the staged file carries, for a write. */
  readonly mode: number | null;
  /**
   * Size of the original at the plan, when it existed. Null or absent: not recorded (a version 1
   * journal), and then not checked.
   */
  readonly size?: number | null | undefined;
  /** mtime of the original in ns (decimal) at the plan, when it existed; null/absent as `size`. */
  readonly mtimeNs?: string | null | undefined;
  /** Size of the staged file, for a write; null/absent as `size`. */
  readonly stagedSize?: number | null | undefined;
  /** How backup/<i> keeps the original, when there was one; absent means 'link' (version 1). */
  readonly backup?: BackupKind | null | undefined;
}

/**
 * A journal. `E` is how its entries are held: a commit builds them packed (entries.ts); a journal
 * read back from disk has them as a plain array.
 */
export interface Journal<E extends JournalEntries = JournalEntries> {
  readonly id: string;
  /** When the commit point was reached (ms since epoch); orders dead transactions. */
  readonly created: number;
  /** Directories the commit creates (real, relative, parents first); a rollback removes them. */
  readonly dirs: readonly string[];
  /**
   * Directories tx.removeTree/emptyDir remove after the entries (children first; planned by
   * src/transaction/tree.ts, applied by src/protocol/tree-apply.ts); absent when none.
   */
  readonly rmdirs?: readonly string[] | undefined;
  readonly entries: E;
}

/** A journal decoded from bytes: its entries are an array. */
export type DecodedJournal = Journal<readonly JournalEntry[]>;

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Room left in front of the body for the header line (at most 13 + 1 + 1 + 1 + 12 + 1 + 64 + 1). */
const HEADER_ROOM = 96;

/** A byte buffer that is written in place and doubles when full. */
class ByteWriter {
  #buf: Buffer;
  #end: number;
  constructor(size: number, start: number) {
    this.#buf = Buffer.allocUnsafe(Math.max(size, start + 64));
    this.#end = start;
  }
  get end(): number {
    return this.#end;
  }
  get buffer(): Buffer {
    return this.#buf;
  }
  write(text: string): void {
    // A string of n UTF-16 units is at most 3n bytes of UTF-8.
    if (this.#end + text.length * 3 > this.#buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#end + text.length * 3));
      this.#buf.copy(bigger, 0, 0, this.#end);
      this.#buf = bigger;
    }
    this.#end += this.#buf.write(text, this.#end, 'utf8');
  }
}

/**
 * Encode a journal to bytes. The body is exactly `JSON.stringify` of the documented form, but it
 * is written entry by entry into one buffer that also has room for the header in front: a
 * 100,000-entry journal is never held as arrays of arrays, a string and two copies of the bytes.
 */
export function encodeJournal(journal: Journal): Buffer {
  const w = new ByteWriter(HEADER_ROOM + 128 + journal.entries.length * 64, HEADER_ROOM);
  const start = w.end;
  // Tree hook: "rmdirs" only when there are some, so every other journal is byte-for-byte as before.
  const rmdirs = journal.rmdirs !== undefined && journal.rmdirs.length > 0 ? `,"rmdirs":${JSON.stringify(journal.rmdirs)}` : '';
  w.write(`{"v":${JOURNAL_VERSION},"id":${JSON.stringify(journal.id)},"created":${JSON.stringify(journal.created)},"dirs":${JSON.stringify(journal.dirs)}${rmdirs},"entries":[`);
  let first = true;
  for (const e of journal.entries) {
    const fields = [e.op === 'write' ? 'w' : 'd', e.target, e.staged, e.existed ? 1 : 0, e.ino, e.stagedIno, e.mode, e.size ?? null, e.mtimeNs ?? null, e.stagedSize ?? null, !e.existed ? null : e.backup === 'copy' ? 'c' : 'l'];
    w.write(first ? JSON.stringify(fields) : `,${JSON.stringify(fields)}`);
    first = false;
  }
  w.write(']}');
  const body = w.buffer.subarray(start, w.end);
  const header = `${JOURNAL_MAGIC} ${JOURNAL_VERSION} ${body.length} ${sha256(body)}\n`;
  const headerStart = start - header.length;
  w.buffer.write(header, headerStart, 'ascii');
  return w.buffer.subarray(headerStart, w.end);
}

/** Why a journal was rejected. */
export class CorruptJournal extends TxnError {
  constructor(reason: string, path?: string) {
    super(
      codes.ECORRUPT,
      `The journal${path === undefined ? '' : ` '${path}'`} is corrupt (${reason}). It was left in place: inspect it, then remove its staging directory by hand. Commits in this root are refused until then.`,
      path === undefined ? {} : { path },
    );
  }
}

const INO_RE = /^[0-9]{1,20}$/;

function isMode(v: unknown): v is number | null {
  return v === null || (Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0o7777);
}

/** Decode and verify journal bytes. Throws CorruptJournal on any damage. */
export function decodeJournal(data: Uint8Array, where?: string): DecodedJournal {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const nl = buf.indexOf(0x0a);
  if (nl === -1 || nl > 200) throw new CorruptJournal('no header line', where);
  // latin1, not ascii: Node's ascii decoder drops the high bit, so a flipped bit 7 would pass.
  const headerText = buf.subarray(0, nl).toString('latin1');
  if (!/^[\x20-\x7e]+$/.test(headerText)) throw new CorruptJournal('bad header', where);
  const header = headerText.split(' ');
  if (header.length !== 4 || header[0] !== JOURNAL_MAGIC) throw new CorruptJournal('bad header', where);
  const version = Number(header[1]);
  if (!/^[0-9]{1,3}$/.test(header[1] ?? '') || version < OLDEST_VERSION || version > JOURNAL_VERSION) throw new CorruptJournal(`unknown version ${JSON.stringify(header[1])}`, where);
  const length = header[2] ?? '';
  if (!/^[0-9]{1,12}$/.test(length)) throw new CorruptJournal('bad length', where);
  const body = buf.subarray(nl + 1);
  if (body.length !== Number(length)) throw new CorruptJournal(`length is ${body.length} bytes, header says ${length} (truncated or extended)`, where);
  if (sha256(body) !== header[3]) throw new CorruptJournal('checksum mismatch', where);
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw new CorruptJournal('body is not JSON', where);
  }
  return validate(value, version, where);
}

const MTIME_RE = /^-?[0-9]{1,20}$/;

function isSize(v: unknown): v is number {
  return Number.isSafeInteger(v) && (v as number) >= 0;
}

function validate(value: unknown, version: number, where: string | undefined): DecodedJournal {
  const fail = (what: string): never => {
    throw new CorruptJournal(what, where);
  };
  if (typeof value !== 'object' || value === null) return fail('body is not an object');
  const v = value as Record<string, unknown>;
  if (v.v !== version) fail('body version mismatch');
  if (typeof v.id !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(v.id)) fail('bad id');
  if (typeof v.created !== 'number' || !Number.isFinite(v.created)) fail('bad created time');
  if (!Array.isArray(v.dirs) || !v.dirs.every(isJournalTarget)) fail('bad directory list (a path that is not a clean relative path inside the root)');
  // Tree hook: optional, never empty when present.
  if (v.rmdirs !== undefined && (version === 1 || !Array.isArray(v.rmdirs) || v.rmdirs.length === 0 || !v.rmdirs.every(isJournalTarget))) fail('bad removed-directory list (a path that is not a clean relative path inside the root)');
  if (!Array.isArray(v.entries)) return fail('bad entry list');
  const entries: JournalEntry[] = [];
  for (const [i, raw] of (v.entries as unknown[]).entries()) {
    if (!Array.isArray(raw) || raw.length !== (version === 1 ? 7 : 11)) fail(`entry ${i} has the wrong shape`);
    const [op, target, staged, existed, ino, stagedIno, mode, size = null, mtimeNs = null, stagedSize = null, backup = existed === 1 ? 'l' : null] = raw as unknown[];
    if (op !== 'w' && op !== 'd') fail(`entry ${i} has an unknown operation`);
    if (!isJournalTarget(target)) fail(`entry ${i} names a path that is not a clean relative path inside the root`);
    if (!Number.isInteger(staged) || (staged as number) < -1) fail(`entry ${i} has a bad staged index`);
    if (existed !== 0 && existed !== 1) fail(`entry ${i} has a bad existed flag`);
    if (ino !== null && !(typeof ino === 'string' && INO_RE.test(ino))) fail(`entry ${i} has a bad inode`);
    if (stagedIno !== null && !(typeof stagedIno === 'string' && INO_RE.test(stagedIno))) fail(`entry ${i} has a bad staged inode`);
    if (!isMode(mode)) fail(`entry ${i} has a bad mode`);
    if (op === 'w' && ((staged as number) < 0 || stagedIno === null)) fail(`write entry ${i} has no staged file`);
    if (existed === 1 && ino === null) fail(`entry ${i} existed but has no inode`);
    // Version 2: what the roll-forward checks is all there, or all absent with the original.
    if (version > 1) {
      const withOriginal = existed === 1;
      if (withOriginal ? !isSize(size) : size !== null) fail(`entry ${i} has a bad size`);
      if (withOriginal ? !(typeof mtimeNs === 'string' && MTIME_RE.test(mtimeNs)) : mtimeNs !== null) fail(`entry ${i} has a bad mtime`);
      if (op === 'w' ? !isSize(stagedSize) : stagedSize !== null) fail(`entry ${i} has a bad staged size`);
      if (withOriginal ? backup !== 'l' && backup !== 'c' : backup !== null) fail(`entry ${i} has a bad backup kind`);
    }
    entries.push({
      op: op === 'w' ? 'write' : 'delete',
      target: target as string,
      staged: staged as number,
      existed: existed === 1,
      ino: ino as string | null,
      stagedIno: stagedIno as string | null,
      mode: mode as number | null,
      size: size as number | null,
      mtimeNs: mtimeNs as string | null,
      stagedSize: stagedSize as number | null,
      backup: backup === 'c' ? 'copy' : backup === 'l' ? 'link' : null,
    });
  }
  return { id: v.id as string, created: v.created as number, dirs: v.dirs as string[], ...(v.rmdirs === undefined ? {} : { rmdirs: v.rmdirs as string[] }), entries };
}

/**
 * Write `journal.tmp` (create it, write every byte), left open: the caller fsyncs it (durable) in
 * the round of fsyncs before the commit point, and closes it. Makes nothing visible: recovery
 * reads only `journal`, and a staging dir with a `journal.tmp` alone is one that never reached its
 * commit point.
 */
export async function writeJournalTmp(staging: string, journal: Journal): Promise<WrittenFile> {
  // The caller fsyncs before the commit point: otherwise the link can reach the disk before the
  // bytes, and a power loss leaves a `journal` that is empty or garbage (then the checksum refuses
  // it: all-old, but the root is blocked for a person to look at).
  return startSmallFile(journalTmpPath(staging), encodeJournal(journal));
}

/**
 * Give `journal.tmp` its name `journal` and fsync the staging dir: the commit point. Everything the
 * journal names must be durable before this is called.
 *
 * The name is added with link(2), not moved with rename(2): `journal.tmp` stays, a second name of
 * the journal, and is the inode a rollback marker is renamed from if the apply fails (staging.ts,
 * writeRollbackMarker). A rename allocates nothing, so a full disk (or no inode left) cannot stop
 * a rollback from being marked; the marker used to be an empty `rollback.tmp` made with every
 * staging dir for that (create, close and unlink on every commit). Where hard links are refused,
 * that `rollback.tmp` is made here, before the commit point (a failure still changes nothing), and
 * `journal.tmp` is renamed as before.
 */
export async function commitJournal(staging: string, durable: boolean): Promise<void> {
  try {
    await fs.link(journalTmpPath(staging), journalPath(staging));
  } catch (err) {
    if (!linkRefused(err)) throw err;
    await writeSmallFile(rollbackReadyPath(staging), '', false);
    await fs.rename(journalTmpPath(staging), journalPath(staging), 0);
  }
  // fsync the staging dir: the new name is only durable once its directory is. Without it a power
  // loss after the apply began can lose the journal while some targets are already replaced.
  if (durable) await syncDir(staging);
}

/** Read the journal of `staging`: undefined when there is none; CorruptJournal when damaged. */
export async function readJournal(staging: string): Promise<DecodedJournal | undefined> {
  const p = journalPath(staging);
  const data = await readFileIfPresentStrict(p);
  if (data === undefined) return undefined;
  return decodeJournal(data, p);
}
