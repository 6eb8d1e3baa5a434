/**
 * lock/owners.ts: the owner entries of a lock directory, and this thread's registry of locks.
 *
 * An owner entry is an empty file in the lock directory whose name is its owner's record,
 * `o.<host>.<pid>.<start>.<thread>.<stale>.<token>`. This module makes and parses those names. It
 * also holds this thread's registry of held and acquiring locks, shared by every loaded copy of
 * txnfs (invariant 4), which judging an entry (judge.ts) needs as much as acquiring one does.
 * docs/protocol.md, "Locks and liveness".
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { threadId } from 'node:worker_threads';
import { newId } from '../../ids.js';
import { selfIdentity, type ProcessIdentity } from '../identity.js';

/** Who owns an entry: all of it is in the entry's name. */
export interface OwnerRecord {
  /** `hostTag()` of the owner's host key (identity.ts): equal only on this host, in this boot. */
  readonly host: string;
  readonly pid: number;
  /** Process start time (identity.ts), '' where it is unknown. */
  readonly start: string;
  /** The worker thread (`threadId`, 0 for the main thread) that made the entry. */
  readonly thread: number;
  /** The owner's stale time (ms): a waiter with a shorter one gives it this long. */
  readonly stale: number;
  readonly token: string;
}

/**
 * This thread's locks, shared by every copy of txnfs loaded in it. The shape is versioned in the
 * key: a later txnfs that changes it must use a new key, never reinterpret this one. (`moving` was
 * used by the tomb scheme of earlier versions; it stays so that the shape does not change.)
 */
interface Registry {
  /** Tokens of the acquisitions under way in this thread. */
  readonly acquiring: Set<string>;
  /** Lock directory → owner record, for the locks this thread holds. */
  readonly held: Map<string, { readonly token: string }>;
  readonly moving: Set<string>;
  /** Root lock directory → the tail of its in-thread queue (withRootLock). */
  readonly rootQueues: Map<string, Promise<unknown>>;
}
const REGISTRY = Symbol.for('txnfs.locks.v1');
const registry: Registry = ((globalThis as Record<symbol, unknown>)[REGISTRY] ??= {
  acquiring: new Set(),
  held: new Map(),
  moving: new Set(),
  rootQueues: new Map(),
} satisfies Registry) as Registry;
export const { acquiring, held, rootQueues } = registry;

// proper-lockfile's own minimum stale time; also the floor for judging others' entries.
export const staleFloor = 2000;

// ---------------------------------------------------------------------------------------------
// Owner entries

const ENTRY_PREFIX = 'o.';
const ENTRY_RE = /^(?:lock\.)?o\.([A-Za-z0-9_-]{16})\.([0-9]{1,10})\.([0-9]{0,20})\.([0-9]{1,10})\.([0-9]{1,16})\.([A-Za-z0-9_-]{8,64})$/;

/**
 * A flat lock (the root lock, `<home>/lock`) keeps its owner entries beside its path, in the
 * directory that would hold it, named `lock.o.<...>`: there is no lock directory to make and
 * remove on every commit (a directory's removal is the dearest call on ext4, about 100 µs right
 * after an fsync). Any other lock is a directory that holds its entries.
 */
export const FLAT_PREFIX = 'lock.';

/**
 * Where the entries of the lock at `lockPath` live, and the prefix of their names. A flat lock's
 * are FLAT_PREFIX ones (the root lock, `<home>/lock`, is the only flat lock), which is how the
 * adapter and recovery tell them among the other names of the home (`isFlatEntry`).
 */
export function entryPlace(lockPath: string, flat: boolean): { readonly dir: string; readonly prefix: string } {
  return flat ? { dir: path.dirname(lockPath), prefix: FLAT_PREFIX } : { dir: lockPath, prefix: '' };
}

/** Whether `name` is the entry of a flat lock (see FLAT_PREFIX). */
export function isFlatEntry(name: string): boolean {
  return name.startsWith(FLAT_PREFIX) && ENTRY_RE.test(name);
}

const tags = new Map<string, string>();
/**
 * A short, name-safe tag of a host key. The key (boot id and pid namespace on Linux) is too long
 * for a name that must also carry the rest; 96 bits of its hash tell hosts apart as well.
 */
export function hostTag(host: string): string {
  let tag = tags.get(host);
  if (tag === undefined) {
    tag = createHash('sha256').update(host).digest('base64url').slice(0, 16);
    tags.set(host, tag);
  }
  return tag;
}

/** The tag owner entries of this host carry (for tests that model a reboot). */
export function thisHostTag(): string {
  return hostTag(selfIdentity().host);
}

export function entryName(r: OwnerRecord): string {
  return `${ENTRY_PREFIX}${r.host}.${r.pid}.${r.start}.${r.thread}.${r.stale}.${r.token}`;
}

export function parseEntry(name: string): OwnerRecord | undefined {
  const m = ENTRY_RE.exec(name);
  if (m === null) return undefined;
  return { host: m[1] as string, pid: Number(m[2]), start: m[3] as string, thread: Number(m[4]), stale: Number(m[5]), token: m[6] as string };
}

/** The owner's identity in identity.ts's terms: its host key only when it is this host's. */
export function identityOf(r: OwnerRecord): ProcessIdentity {
  const me = selfIdentity();
  return { host: r.host === hostTag(me.host) ? me.host : `tag:${r.host}`, pid: r.pid, start: r.start };
}

/**
 * A new owner record. `since` (ms since the epoch): when the acquisition this attempt belongs to
 * began. It leads the token as 9 base-36 digits (`arrivalOf`), so that waiters that meet in a
 * lock directory agree, from the names alone, on who came first (lock/adapter.ts: the earliest
 * stays, the others step back). The token stays unique per attempt (a new nanoid after it).
 */
export function newRecord(stale: number, since?: number): OwnerRecord {
  const me = selfIdentity();
  const arrival = since === undefined ? '' : Math.max(0, Math.floor(since)).toString(36).padStart(ARRIVAL_DIGITS, '0').slice(-ARRIVAL_DIGITS);
  return { host: hostTag(me.host), pid: me.pid, start: /^[0-9]{0,20}$/.test(me.start) ? me.start : '', thread: threadId, stale, token: arrival + newId() };
}

/** Base-36 digits of an arrival time: 36^9 ms is about 3,200 years. */
const ARRIVAL_DIGITS = 9;
/** A nanoid is 21 characters: a token of 30 whose first 9 are base-36 digits carries an arrival. */
const ARRIVAL_TOKEN_RE = /^([0-9a-z]{9})[A-Za-z0-9_-]{21}$/;

/**
 * The order of an owner entry among waiters: its arrival time and token, comparable as strings
 * (fixed width). Undefined for a name without an arrival (an entry of an older txnfs, or one made
 * without `since`), which never goes before anyone.
 */
export function arrivalOf(name: string): string | undefined {
  const r = parseEntry(name);
  if (r === undefined) return undefined;
  return ARRIVAL_TOKEN_RE.test(r.token) ? r.token : undefined;
}

