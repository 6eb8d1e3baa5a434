// mutations.mjs: the deliberate protocol bugs that the crash harness switches on to prove it
// catches them. They live here, not in src/: the library only reports its operations and named
// steps to the fault hook (src/io/faults.ts), and each mutation is a filter on that stream, keyed on
// the operation, its path and the last steps seen. A filter may
//   - skip an operation: the hook's verdict 'skip', so the library never issues it (it resolves as
//     if it had succeeded) and the harness's own hook never sees it (no crash point, no record);
//   - act at a step (remove the journal at 'apply:start'), or rewrite bytes as they are written or
//     read, through a wrapper of the filesystem implementation (src/io/fs.ts FsImpl).
// Plain JavaScript with no imports from the library, so that the crash children (which run dist/)
// and the tests (which run src/) share this one table. Types: mutations.d.mts.
//
// Install both halves: `const m = mutationLayer(['skip-fsync-staged'])`, then
// `useFsImpl(m.impl(currentImpl))` and `faults.hook = m.hook(harnessHook)` (the layer's hook must be
// the outermost, so that a skipped operation is hidden from the harness's hook).
import { createHash } from 'node:crypto';

const STAGED_FILE = /\/\.txn-[^/]+\/files\/[0-9]+$/;
const BACKUP_FILE = /\/\.txn-[^/]+\/backup\/[0-9]+$/;
const BACKUP_DIR = /\/\.txn-[^/]+\/backup$/;
const STAGING_DIR = /^(.*)\/\.txn-[^/]+$/;
const NEW_HOME = /^(.*)\/\.txnfs$/;
const JOURNAL = /\/\.txn-[^/]+\/journal$/;
const JOURNAL_TMP = /\/\.txn-[^/]+\/journal\.tmp$/;
const FILE_TEMP = /\/\.tmp-[^/]*$/;
const PINS_DIR = /\/pins$/;
const PIN_RENAMED = /\/pins\/[^/]+$/;
const GEN_BUILD = /\/\.txn-[^/]+\/gen$/;
const POINTER_TMP = /\/\.txn-[^/]+\/pointer$/;

/** Journal bytes with the header's checksum made to match the body (journal.ts's format). */
function withMatchingChecksum(buf) {
  const nl = buf.indexOf(0x0a);
  if (nl === -1) return buf;
  const header = buf.subarray(0, nl).toString('latin1').split(' ');
  if (header.length !== 4) return buf;
  const body = buf.subarray(nl + 1);
  header[3] = createHash('sha256').update(body).digest('hex');
  return Buffer.concat([Buffer.from(header.join(' '), 'latin1'), Buffer.from('\n'), body]);
}

/**
 * Journal bytes whose copy backups are recorded as hard links: an entry's last field, its backup
 * kind, "c" becomes "l" (same length, so the write's byte count holds), under a matching checksum.
 */
function copiesAsLinks(buf) {
  const nl = buf.indexOf(0x0a);
  if (nl === -1) return buf;
  const body = buf.subarray(nl + 1).toString('utf8').replaceAll(',"c"]', ',"l"]');
  return withMatchingChecksum(Buffer.concat([buf.subarray(0, nl + 1), Buffer.from(body, 'utf8')]));
}

/**
 * A transaction's lone file (src/transaction/lone.ts) has a temp name in the home, as a single-file
 * write's temp has: it is the transaction's when no single-file write is under way (those report
 * their steps 'file:created' to 'file:done').
 */
const isLoneFile = (s, p) => FILE_TEMP.test(p) && (s.fileStep === undefined || s.fileStep === 'file:done');

const isMove = (e) => e.mutating && (e.op === 'rename' || e.op === 'unlink' || e.op === 'link');

/**
 * name → filter. `op(s, event)` returns 'skip' to drop the operation; `step(s, name)` acts at a
 * step; `write(s, path, bytes)` / `read(s, path, bytes)` rewrite bytes in the implementation.
 * `s` is the layer's state: the last steps seen (see `track`).
 */
export const MUTATIONS = {
  /** Do not fsync staged data files before the commit point (a lone file too: src/transaction/lone.ts). */
  'skip-fsync-staged': { op: (s, e) => (e.op === 'fsync' && !s.staged && (STAGED_FILE.test(e.path) || isLoneFile(s, e.path)) ? 'skip' : undefined) },
  /** Do not fsync the staging dir after renaming the journal into place. */
  'skip-fsync-journal-dir': {
    op: (s, e) => {
      if (e.op !== 'fsyncDir' || e.path !== s.journalRenamedIn) return undefined;
      s.journalRenamedIn = undefined;
      return 'skip';
    },
  },
  /** Do not fsync the directories changed by the apply before cleanup. */
  'skip-fsync-applied-dirs': { op: (s, e) => (e.op === 'fsyncDir' && s.applied ? 'skip' : undefined) },
  /**
   * Before its commit point, a commit does not fsync the directories of the files it relied on
   * (replaced, removed, or read by a precondition: commit.ts reliedOn), nor any other directory
   * outside the home: an earlier one-file commit's rename that is not durable yet can then be
   * lost while this commit survives.
   */
  'skip-fsync-relied-on': { op: (s, e) => (e.op === 'fsyncDir' && s.locked && !e.path.includes('/.txnfs') ? 'skip' : undefined) },
  /** A one-file commit (no journal) does not fsync the rename's directories (target's parent, files/ or the home). */
  'skip-fsync-direct-dir': { op: (s, e) => (e.op === 'fsyncDir' && s.directRenamed ? 'skip' : undefined) },
  /** Remove the journal before applying the renames (a live commit). */
  'cleanup-before-apply': { step: (s, name) => (name === 'apply:start' && s.live ? removeJournal(s) : undefined) },
  /** Recovery removes a committed transaction's journal before rolling it forward. */
  'recover-journal-first': { step: (s, name) => (name === 'apply:start' && !s.live ? removeJournal(s) : undefined) },
  /** The journal's checksum is not checked at recovery: every journal read has a matching one. */
  'skip-journal-checksum': { read: (s, p, bytes) => (JOURNAL.test(p) ? withMatchingChecksum(bytes) : bytes) },
  /** When a commit's apply fails, write the rollback marker and report EAPPLY without undoing. */
  'skip-rollback': { op: (s, e) => (s.rollingBack && s.live && e.mutating ? 'skip' : undefined) },
  /** Single-file writes: do not fsync the temp file before renaming it over the target. */
  'file-skip-fsync-temp': { op: (s, e) => (e.op === 'fsync' && s.fileStep === 'file:created' ? 'skip' : undefined) },
  /** Single-file writes: do not fsync the target's directory after the rename. */
  'file-skip-fsync-dir': { op: (s, e) => (e.op === 'fsyncDir' && s.fileStep === 'file:renamed' ? 'skip' : undefined) },
  /**
   * Single-file writes: one write(2) whose byte count is ignored (atomically's truncation bug). The
   * library loops over short writes, so the harness gives it the bug's view: a short write of the
   * temp file reports every byte as written.
   */
  'file-single-write': { writeCount: (s, p, n, length) => (s.fileStep === 'file:created' && FILE_TEMP.test(p) ? length : n) },
  /** Do not fsync the home before the commit point (the staging dir's own name is not durable). */
  'skip-fsync-home': {
    op: (s, e) => {
      if (e.op !== 'fsyncDir' || e.path !== s.stagingMadeIn) return undefined;
      s.stagingMadeIn = undefined;
      return 'skip';
    },
  },
  /**
   * Do not fsync the root after making its home (.txnfs/): the home's own name, and with it every
   * staging dir and journal below it, is not durable.
   */
  'skip-fsync-new-home': {
    op: (s, e) => {
      if (e.op !== 'fsyncDir' || e.path !== s.homeMadeIn) return undefined;
      s.homeMadeIn = undefined;
      return 'skip';
    },
  },
  /**
   * A commit does not fsync its home after its clean-up: the removal of its journal (and of the
   * staging dir) may not be durable when commit() resolves, and the journal may come back.
   */
  'skip-fsync-home-after-cleanup': { op: (s, e) => (e.op === 'fsyncDir' && s.cleaningLive && NEW_HOME.test(e.path) ? 'skip' : undefined) },
  /** Do not fsync backup/ before the commit point (the hard links to the originals may be lost). */
  'skip-fsync-backup-dir': { op: (s, e) => (e.op === 'fsyncDir' && !s.live && BACKUP_DIR.test(e.path) ? 'skip' : undefined) },
  /** Do not make directories created by the apply durable before renaming files into them. */
  'skip-fsync-created-dirs': { op: (s, e) => (e.op === 'fsyncDir' && s.applying && !s.moved ? 'skip' : undefined) },
  /** Record a backup that is a copy (hard links refused) as a hard link in the journal. */
  'copy-backup-as-link': { write: (s, p, bytes) => (JOURNAL_TMP.test(p) ? copiesAsLinks(bytes) : bytes) },
  /** Generations: do not fsync the new generation's directories before the pointer swap. */
  'gen-skip-fsync-dirs': { op: (s, e) => (e.op === 'fsyncDir' && s.genBuild !== undefined ? 'skip' : undefined) },
  /** Generations: do not fsync the pointer's directory (nor the staging dir) after the swap. */
  'gen-skip-fsync-pointer': { op: (s, e) => (e.op === 'fsyncDir' && s.pointerSwapped ? 'skip' : undefined) },
  /**
   * Generations: collect garbage without looking at pins. The collector's view of the pins
   * directory is empty (readPins lists it with readdir).
   */
  'gen-ignore-pins': { readdir: (s, p, names) => (PINS_DIR.test(p) ? [] : names) },
  /**
   * Generations: openSnapshot trusts its pin without reading the pointer again. Once a pin is
   * renamed into place, the next read of a symlink gives what its previous read gave, as if the
   * second read had not been made.
   */
  'gen-pin-no-recheck': {
    readlink: (s, p, target) => {
      const before = s.links?.get(p);
      s.links = (s.links ?? new Map()).set(p, target);
      if (!s.pinned || before === undefined) return target;
      s.pinned = false;
      return before;
    },
  },
  /**
   * A rollback does not make the directories it re-creates (tx.removeTree/emptyDir removed them)
   * durable before renaming backups into them: its directory fsyncs before its first move.
   */
  'skip-fsync-restored-dirs': { op: (s, e) => (e.op === 'fsyncDir' && s.rollingBack && !s.rollbackMoved ? 'skip' : undefined) },
  /** Do not fsync a backup that is a copy before the commit point. */
  'skip-fsync-backup-copy': { op: (s, e) => (e.op === 'fsync' && !s.live && BACKUP_FILE.test(e.path) ? 'skip' : undefined) },
};

/**
 * Have the next filesystem call wait for the journal's removal first (a hook cannot await). The
 * removal is reported to the harness's hook as the library's own unlink was, so it is a crash and
 * fault point of its own: a kill can land between it and the first rename.
 */
function removeJournal(s) {
  const journal = s.journal;
  if (journal === undefined) return;
  s.pending = (impl) => {
    s.inner?.({ kind: 'op', op: 'unlink', path: journal, mutating: true });
    return impl.unlink(journal);
  };
}

/** Update the state from one event, after the filters saw it. */
function track(s, e) {
  if (e.kind === 'step') {
    const name = e.name;
    if (name.startsWith('file:')) s.fileStep = name;
    if (name === 'staged') s.staged = true;
    // From the gate's end to the commit point (the journal's link, a one-file commit's rename).
    if (name === 'locked') s.locked = true;
    if (name === 'committed' || name === 'cleanup' || name === 'done') s.locked = false;
    if (name === 'committed') s.live = true;
    // A live commit's clean-up, from its start to the commit's end (recovery's own is not).
    if (name === 'cleanup') s.cleaningLive = s.live === true;
    if (name === 'done') s.cleaningLive = false;
    if (name === 'cleanup' || name === 'done') Object.assign(s, { live: false, staged: false, applying: false, applied: false, directRenamed: false });
    if (name === 'committed') s.directRenamed = false;
    if (name === 'apply:start') Object.assign(s, { applying: true, moved: false, applied: false });
    if (name === 'applied') Object.assign(s, { applying: false, applied: true });
    if (name === 'rollback:start') Object.assign(s, { rollingBack: true, rollbackMoved: false });
    if (name === 'rollback:end') s.rollingBack = false;
    return;
  }
  if (!e.mutating) {
    if (e.op === 'readFile' && JOURNAL.test(e.path)) s.journal = e.path;
    return;
  }
  if (s.applying && isMove(e)) s.moved = true;
  // A one-file commit: files/<n> renamed over its target before step 'committed' (no journal).
  if (e.op === 'rename' && !s.live && !s.applying && (STAGED_FILE.test(e.path) || (s.staged && isLoneFile(s, e.path))) && e.dest !== undefined && !e.dest.includes('/.txnfs/')) {
    s.directRenamed = true;
    s.locked = false;
  }
  if (s.rollingBack && isMove(e)) s.rollbackMoved = true;
  // The applied directories' fsyncs run until the next operation of another kind (the cleanup).
  if (s.applied && e.op !== 'fsyncDir') s.applied = false;
  // The commit point: journal.tmp gets the name `journal` (a link; a rename where links are refused).
  if ((e.op === 'rename' || e.op === 'link') && e.dest !== undefined && JOURNAL.test(e.dest)) {
    s.locked = false;
    s.journal = e.dest;
    s.journalRenamedIn = e.dest.slice(0, e.dest.lastIndexOf('/'));
  }
  if (e.op === 'mkdir') {
    const h = NEW_HOME.exec(e.path);
    if (h !== null) s.homeMadeIn = h[1];
    const m = STAGING_DIR.exec(e.path);
    if (m !== null) s.stagingMadeIn = m[1];
    // Generations: the new tree is built in <staging>/gen, then renamed to gen-<n>.
    if (GEN_BUILD.test(e.path)) s.genBuild = e.path;
  }
  if (e.op === 'rename' && e.path === s.genBuild) s.genBuild = undefined;
  if (e.op === 'rename' && e.dest !== undefined && PIN_RENAMED.test(e.dest)) s.pinned = true;
  // Generations: the pointer's swap is the rename of <staging>/pointer; its fsyncs follow it.
  if (s.pointerSwapped && e.op !== 'fsyncDir') s.pointerSwapped = false;
  if (e.op === 'rename' && POINTER_TMP.test(e.path)) s.pointerSwapped = true;
}

/**
 * The bug that reorders the generations commit (src/io/faults.ts explains why no filter can): still
 * switched inside the library (`faults.mutations`); the installer adds it there.
 */
export const LIBRARY_MUTATIONS = new Set(['gen-swap-before-build']);

/** The mutations named (unknown names throw: a typo must not silently test the real protocol). */
export function mutationLayer(names) {
  const all = [...names];
  const library = all.filter((n) => LIBRARY_MUTATIONS.has(n));
  const active = all.filter((n) => !LIBRARY_MUTATIONS.has(n)).map((n) => {
    const m = MUTATIONS[n];
    if (m === undefined) throw new Error(`unknown mutation '${n}'`);
    return m;
  });
  const s = {};
  const hook = (inner) => {
    s.inner = inner;
    return hook1(inner);
  };
  const hook1 = (inner) => (e) => {
    if (e.kind === 'step') {
      track(s, e);
      for (const m of active) m.step?.(s, e.name);
      return inner?.(e);
    }
    const skip = active.some((m) => m.op?.(s, e) === 'skip');
    track(s, e);
    if (skip) return 'skip';
    return inner?.(e);
  };
  const reads = active.filter((m) => m.read !== undefined);
  const writes = active.filter((m) => m.write !== undefined);
  const counts = active.filter((m) => m.writeCount !== undefined);
  // Only the filters that act at a step or on bytes need the implementation wrapped.
  const wraps = active.some((m) => m.step !== undefined || m.read !== undefined || m.write !== undefined || m.writeCount !== undefined || m.readdir !== undefined || m.readlink !== undefined);
  const readdirs = active.filter((m) => m.readdir !== undefined);
  const readlinks = active.filter((m) => m.readlink !== undefined);
  const impl = (inner) => {
    if (!wraps) return inner;
    const first = async (call) => {
      const pending = s.pending;
      if (pending !== undefined) {
        s.pending = undefined;
        await pending(inner);
      }
      return call();
    };
    const handle = (h, p) => ({
      ...Object.fromEntries(['sync', 'stat', 'chmod', 'chown', 'close'].map((k) => [k, (...a) => first(() => h[k](...a))])),
      write: (buffer, offset, length) =>
        first(async () => {
          let bytes = Buffer.from(buffer.buffer, buffer.byteOffset + offset, length);
          for (const m of writes) bytes = m.write(s, p, bytes);
          let n = await h.write(bytes, 0, bytes.length);
          for (const m of counts) n = m.writeCount(s, p, n, length);
          return n;
        }),
      // writev would bypass the byte filters: without it the seam writes one buffer per call.
    });
    return new Proxy(inner, {
      get(target, key) {
        const v = target[key];
        if (typeof v !== 'function' || String(key).endsWith('Sync') || key === 'watch') return v;
        if (key === 'create') return (p, mode) => first(async () => handle(await target.create(p, mode), p));
        if (key === 'readdir') {
          return (p) =>
            first(async () => {
              let names = await target.readdir(p);
              for (const m of readdirs) names = m.readdir(s, p, names);
              return names;
            });
        }
        if (key === 'readlink') {
          return (p) =>
            first(async () => {
              let link = await target.readlink(p);
              for (const m of readlinks) link = m.readlink(s, p, link);
              return link;
            });
        }
        if (key === 'readFile') {
          return (p) =>
            first(async () => {
              let bytes = await target.readFile(p);
              for (const m of reads) bytes = m.read(s, p, bytes);
              return bytes;
            });
        }
        return (...a) => first(() => v.apply(target, a));
      },
    });
  };
  return { names: all, library, hook, impl };
}
