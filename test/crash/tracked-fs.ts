/**
 * tracked-fs.ts: an FsImpl over the real one (src/io/fs.ts `nodeImpl`) for in-process fault loops.
 *
 * Two things on top of the real filesystem:
 *  - it counts calls in flight, so a test can wait until the library has truly stopped touching the
 *    disk (`idle()`) before it inspects the root. proper-lockfile, for one, starts a lock removal
 *    it does not wait for when its mtime probe fails; reading the root while that runs would judge
 *    a moving target;
 *  - with `syncs: false` it turns fsync into a no-op. The I/O-error loop runs a commit per fault
 *    point (thousands), and what it checks (error reporting, rollback, cleanup) does not depend on
 *    durability; the fsync calls still happen at the seam, so they are still fault points. Power
 *    loss is the business of the power-loss model (docs/power-loss-model.md), not of this loop.
 */
import { nodeImpl, type FsImpl, type Handle } from '../../src/io/fs.js';

export interface TrackedFs {
  readonly impl: FsImpl;
  /** Calls started and not yet settled. */
  readonly inFlight: () => number;
  /** Resolves once nothing has been in flight for a few event-loop turns. */
  idle(): Promise<void>;
}

export function trackedFs(options: { syncs: boolean }): TrackedFs {
  let active = 0;
  const track = <T>(p: Promise<T>): Promise<T> => {
    active++;
    return p.finally(() => {
      active--;
    });
  };
  const wrapHandle = (h: Handle): Handle => ({
    write: (b, o, l) => track(h.write(b, o, l)),
    sync: () => (options.syncs ? track(h.sync()) : Promise.resolve()),
    stat: () => track(h.stat()),
    chmod: (m) => track(h.chmod(m)),
    chown: (u, g) => track(h.chown(u, g)),
    close: () => track(h.close()),
  });
  const n = nodeImpl;
  const impl: FsImpl = {
    lstat: (p) => track(n.lstat(p)),
    stat: (p) => track(n.stat(p)),
    readdir: (p) => track(n.readdir(p)),
    readFile: (p) => track(n.readFile(p)),
    realpath: (p) => track(n.realpath(p)),
    readlink: (p) => track(n.readlink(p)),
    create: async (p, m) => wrapHandle(await track(n.create(p, m))),
    mkdir: (p, mode) => track(n.mkdir(p, mode)),
    rename: (a, b) => track(n.rename(a, b)),
    link: (a, b) => track(n.link(a, b)),
    unlink: (p) => track(n.unlink(p)),
    rmdir: (p) => track(n.rmdir(p)),
    removeTree: (p) => track(n.removeTree(p)),
    removeTreeSync: (p) => n.removeTreeSync(p),
    syncDir: (p) => (options.syncs ? track(n.syncDir(p)) : Promise.resolve()),
    syncFile: (p) => (options.syncs ? track(n.syncFile(p)) : Promise.resolve()),
    utimes: (p, a, m) => track(n.utimes(p, a, m)),
    chmod: (p, m) => track(n.chmod(p, m)),
    chown: (p, u, g) => track(n.chown(p, u, g)),
    symlink: (t, p) => track((n.symlink as NonNullable<FsImpl['symlink']>)(t, p)),
    readdirKinds: (p) => track((n.readdirKinds as NonNullable<FsImpl['readdirKinds']>)(p)),
  };
  return {
    impl,
    inFlight: () => active,
    async idle() {
      const deadline = Date.now() + 10_000;
      let quiet = 0;
      while (quiet < 3) {
        if (Date.now() > deadline) throw new Error(`the filesystem never went idle (${active} calls in flight)`);
        await new Promise((r) => setImmediate(r));
        quiet = active === 0 ? quiet + 1 : 0;
      }
    },
  };
}
