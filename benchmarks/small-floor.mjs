// The journaled floor (issue 14, "10 files <= 2x the durable floor"): how long the calls of a
// journaled commit take when nothing else runs: no locks, no plan, no checks, no JavaScript of
// txnfs's own, every metadata call made synchronously (as txnfs's inline calls are) and every
// fsync of a round issued at once in the thread pool. It replaces N files of a directory the way
// a 10-file commit does (docs/protocol.md, the journaled way and its fsync table):
//   staging   the home, the staging dir and files/ made; each file created, written and fstat-ed;
//   round 1   the staged files' fsyncs, with backup/ and a hard link of each original in it,
//             journal.tmp written, and its fsync and those of the root, the home, the staging
//             dir, files/ and backup/ at once;
//   round 2   the commit point: journal.tmp linked to journal, the staging dir fsynced;
//   round 3   the apply: each staged file renamed over its target; the root and files/ fsynced;
//   round 4   the clean-up: the journal, the backups (which frees the replaced files), journal.tmp,
//             files/, backup/ and the staging dir removed; the home fsynced, then removed.
// Alternating every round in one process with the durable floor (N parallel open/write/fsync/
// close and one fsync of the directory, as in small.mjs) and a txnfs commit of the same N files.
// txnfs over the journaled floor is what its own work costs; the journaled floor over the durable
// floor is what the protocol's rounds, creates and frees cost before any of it.
//   node benchmarks/small-floor.mjs [rounds] [files]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
const { begin } = await import(new URL('../dist/bundle/index.js', import.meta.url).href);
const rounds = Number(process.argv[2] ?? 200);
const n = Number(process.argv[3] ?? 10);
const base = fs.mkdtempSync(path.join(os.tmpdir(), 'txnfs-small-floor-'));
// Each round writes other bytes (its number first), so that the check at the end can tell a way
// that left the files as they were.
let data = Buffer.alloc(4096, 'x');
// About the size of txnfs's journal for n entries (journal.ts): a header and one line per entry.
const journal = Buffer.alloc(200 + 100 * n, 'j');
const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };

const fsync = (fd) => new Promise((resolve, reject) => fs.fsync(fd, (err) => (err ? reject(err) : resolve())));
/** A directory's fsync as txnfs makes it: open inline, fsync in the pool, close not waited for. */
const syncDir = (p) => { const fd = fs.openSync(p, 'r'); return fsync(fd).finally(() => fs.close(fd, () => {})); };

async function durableFloor(dir) {
  await Promise.all(Array.from({ length: n }, async (_, i) => {
    const h = await fs.promises.open(path.join(dir, `f${i}`), 'w');
    await h.writeFile(data); await h.sync(); await h.close();
  }));
  await syncDir(dir);
}

async function journaledFloor(dir) {
  const home = path.join(dir, '.txnfs');
  const s = path.join(home, '.txn-floor');
  const files = path.join(s, 'files');
  const backup = path.join(s, 'backup');
  fs.mkdirSync(home); fs.mkdirSync(s, 0o700); fs.mkdirSync(files);
  const fds = [];
  for (let i = 0; i < n; i++) {
    const fd = fs.openSync(path.join(files, String(i)), 'wx');
    fs.writeSync(fd, data); fs.fstatSync(fd, { bigint: true });
    fds.push(fd);
  }
  const staged = fds.map(fsync);
  fs.mkdirSync(backup);
  for (let i = 0; i < n; i++) fs.linkSync(path.join(dir, `f${i}`), path.join(backup, String(i)));
  const tmp = path.join(s, 'journal.tmp');
  const jfd = fs.openSync(tmp, 'wx'); fs.writeSync(jfd, journal);
  await Promise.all([...staged, fsync(jfd), syncDir(dir), syncDir(home), syncDir(s), syncDir(files), syncDir(backup)]);
  for (const fd of [...fds, jfd]) fs.closeSync(fd);
  fs.linkSync(tmp, path.join(s, 'journal'));
  await syncDir(s);
  for (let i = 0; i < n; i++) fs.renameSync(path.join(files, String(i)), path.join(dir, `f${i}`));
  await Promise.all([syncDir(dir), syncDir(files)]);
  fs.unlinkSync(path.join(s, 'journal'));
  // The backups hold the replaced files' last names: their unlinks free them, side by side.
  await Promise.all(Array.from({ length: n }, (_, i) => fs.promises.unlink(path.join(backup, String(i)))));
  fs.unlinkSync(tmp); fs.rmdirSync(files); fs.rmdirSync(backup); fs.rmdirSync(s);
  await syncDir(home);
  fs.rmdirSync(home);
}

async function txnfs(dir) {
  const tx = begin({ dir });
  for (let i = 0; i < n; i++) tx.write(`f${i}`, data);
  await tx.commit();
}

const cases = { floor: durableFloor, journaled: journaledFloor, txnfs };
const dirs = {};
for (const k of Object.keys(cases)) {
  dirs[k] = path.join(base, k);
  fs.mkdirSync(dirs[k]);
  for (let i = 0; i < n; i++) fs.writeFileSync(path.join(dirs[k], `f${i}`), data);
}
const t = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
const order = Object.keys(cases);
for (let r = 0; r < rounds + 3; r++) {
  data = Buffer.alloc(4096, 'x');
  data.write(String(r));
  for (const k of r % 2 ? order : [...order].reverse()) {
    const s = performance.now();
    await cases[k](dirs[k]);
    if (r >= 3) t[k].push(performance.now() - s);
  }
}
// Each way must have done its work: the N files in place with their bytes, nothing else left
// (a floor that skipped a step would look faster than it is).
for (const [k, dir] of Object.entries(dirs)) {
  const names = fs.readdirSync(dir).sort();
  const want = Array.from({ length: n }, (_, i) => `f${i}`).sort();
  if (names.join() !== want.join()) throw new Error(`${k}: ${dir} holds ${names.join(', ')}`);
  for (const name of names) if (!fs.readFileSync(path.join(dir, name)).equals(data)) throw new Error(`${k}: ${name} has other bytes`);
}
const m = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, med(v)]));
console.log(JSON.stringify({
  rounds, files: n,
  medians_ms: Object.fromEntries(Object.entries(m).map(([k, v]) => [k, +v.toFixed(3)])),
  journaled_vs_floor: +(m.journaled / m.floor).toFixed(2),
  txnfs_vs_journaled: +(m.txnfs / m.journaled).toFixed(2),
  txnfs_vs_floor: +(m.txnfs / m.floor).toFixed(2),
}));
fs.rmSync(base, { recursive: true, force: true });
