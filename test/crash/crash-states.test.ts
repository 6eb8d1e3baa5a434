import { describe, expect, it } from 'vitest';
import { AGE_MS, allVariants, CrashPoint, crashPoints, fingerprint, type Reorder } from './crash-states.js';
import { ModelFs, SnapshotBuilder, type NodeImage, type Snapshot } from './model-fs.js';

/** Run `fn` on a model of `start`; return every crash image at the end of its log, as path lists. */
async function statesAfter(start: Snapshot, fn: (m: ModelFs) => Promise<void>, reorder: Reorder = 'prefix'): Promise<{ trees: string[]; point: CrashPoint; m: ModelFs }> {
  const m = new ModelFs(start);
  await fn(m);
  const point = new CrashPoint(start, m.log, m.log.length, reorder, allVariants);
  const trees = new Set<string>();
  for (const s of point.structures()) {
    const img = point.image(s);
    // Every content variant too, so that data loss shows up in the listing.
    const files = [...img.dirty.values()];
    const combos = files.reduce<number[][]>((acc, f) => acc.flatMap((c) => f.variants.map((_, v) => [...c, v])), [[]]);
    for (const combo of combos) {
      const chosen = new Map(files.map((f, i) => [f.id, combo[i] as number]));
      trees.add(describe_(point.image(s, (f) => chosen.get(f.id) ?? f.defaultIndex).snapshot));
    }
  }
  return { trees: [...trees].sort(), point, m };
}

/** "path=content" for every file, "path/" for every directory, sorted. */
function describe_(s: Snapshot): string {
  const out: string[] = [];
  const walk = (n: NodeImage, p: string): void => {
    for (const [name, id] of [...n.entries].sort()) {
      const c = s.nodes.get(id) as NodeImage;
      const q = `${p}/${name}`;
      if (c.kind === 'dir') {
        out.push(`${q}/`);
        walk(c, q);
      } else out.push(`${q}=${c.data.toString('latin1').replace(/[^\x20-\x7e]/g, '?')}`);
    }
  };
  walk(s.nodes.get(s.root) as NodeImage, '');
  return out.join(' ');
}

async function writeFile(m: ModelFs, p: string, data: string, sync: boolean): Promise<void> {
  const h = await m.create(p, 0o666);
  await h.write(Buffer.from(data), 0, data.length);
  if (sync) await h.sync();
  await h.close();
}

const start = (): Snapshot => new SnapshotBuilder().dir('/d').dir('/e').build();

describe('directory entries', () => {
  it('fsync of a file makes its data durable but not its name', async () => {
    const { trees } = await statesAfter(start(), (m) => writeFile(m, '/d/f', 'data', true));
    expect(trees).toEqual(['/d/ /d/f=data /e/', '/d/ /e/']);
  });

  it('fsync of the directory makes every earlier entry change in it durable', async () => {
    const { trees } = await statesAfter(start(), async (m) => {
      await writeFile(m, '/d/f', 'data', true);
      await m.mkdir('/d/sub');
      await m.syncDir('/d');
      await writeFile(m, '/e/late', 'x', true);
    });
    expect(trees).toEqual(['/d/ /d/f=data /d/sub/ /e/', '/d/ /d/f=data /d/sub/ /e/ /e/late=x']);
  });

  it('a rename across directories is atomic, and durable only once both directories are fsynced', async () => {
    const s = new SnapshotBuilder().file('/d/x', 'x').dir('/e').build();
    const onlyTarget = await statesAfter(s, async (m) => {
      await m.rename('/d/x', '/e/x');
      await m.syncDir('/e');
    });
    // Never in both places, never in neither.
    expect(onlyTarget.trees).toEqual(['/d/ /d/x=x /e/', '/d/ /e/ /e/x=x']);
    const both = await statesAfter(s, async (m) => {
      await m.rename('/d/x', '/e/x');
      await m.syncDir('/e');
      await m.syncDir('/d');
    });
    expect(both.trees).toEqual(['/d/ /e/ /e/x=x']);
  });

  it("'prefix': a directory keeps a prefix of its changes; 'per-name' may also reorder names", async () => {
    const ops = async (m: ModelFs): Promise<void> => {
      await writeFile(m, '/d/p', 'p', true);
      await writeFile(m, '/d/q', 'q', true);
    };
    expect((await statesAfter(start(), ops, 'prefix')).trees).toEqual(['/d/ /d/p=p /d/q=q /e/', '/d/ /d/p=p /e/', '/d/ /e/']);
    expect((await statesAfter(start(), ops, 'per-name')).trees).toEqual(['/d/ /d/p=p /d/q=q /e/', '/d/ /d/p=p /e/', '/d/ /d/q=q /e/', '/d/ /e/']);
  });

  it("'per-name' keeps the changes to one name in order (no file in two places after two renames)", async () => {
    const s = new SnapshotBuilder().file('/d/a', 'x').build();
    const { trees } = await statesAfter(
      s,
      async (m) => {
        await m.rename('/d/a', '/d/b');
        await m.rename('/d/b', '/d/c');
      },
      'per-name',
    );
    expect(trees).toEqual(['/d/ /d/a=x', '/d/ /d/b=x', '/d/ /d/c=x']);
  });

  it('a file created inside a directory whose mkdir was lost is lost with it', async () => {
    const { trees } = await statesAfter(start(), async (m) => {
      await m.mkdir('/d/new');
      await writeFile(m, '/d/new/f', 'f', true);
      await m.syncDir('/d/new');
    });
    expect(trees).toEqual(['/d/ /d/new/ /d/new/f=f /e/', '/d/ /e/']);
  });

  it('a cross-directory rename must agree between both directories (structures are counted, not guessed)', async () => {
    const s = new SnapshotBuilder().file('/d/a', '1').file('/d/b', '2').dir('/e').build();
    const { point } = await statesAfter(s, async (m) => {
      await m.rename('/d/a', '/e/a');
      await m.rename('/d/b', '/e/b');
    });
    // d and e each keep a prefix of [a, b]; only equal cuts agree: 3 structures, not 9.
    expect([...point.structures()]).toHaveLength(3);
  });
});

describe('file contents', () => {
  it('unsynced data may come back old, new, zero-filled, garbage or torn; synced data only new', async () => {
    const s = new SnapshotBuilder().file('/d/f', 'old content').build();
    const { trees } = await statesAfter(s, async (m) => {
      const h = await m.create('/d/tmp', 0o666);
      await h.write(Buffer.from('new content'), 0, 11);
      await h.close();
      await m.syncDir('/d');
    });
    // The name is durable (the directory was fsynced); the content is one of five.
    expect(trees).toHaveLength(5);
    const contents = trees.map((t) => t.split('/d/tmp=')[1]);
    expect(contents).toContain('new content');
    expect(contents).toContain(''); // old: never fsynced, so empty
    expect(contents).toContain('?'.repeat(11)); // zero-filled
    expect(contents.filter((c) => c !== undefined && c.length === 11 && c !== 'new content' && c !== '?'.repeat(11) && c !== 'new c??????')).toHaveLength(1); // garbage
    expect(contents).toContain('new c??????'); // torn
    const synced = await statesAfter(s, async (m) => {
      await writeFile(m, '/d/tmp', 'new content', true);
      await m.syncDir('/d');
    });
    expect(synced.trees).toEqual(['/d/ /d/f=old content /d/tmp=new content']);
  });

  it('distinguishes zero-filled from garbage, and keeps the last fsynced content as "old"', async () => {
    const s = new SnapshotBuilder().file('/d/f', 'v1').build();
    const m = new ModelFs(s);
    const h = await m.create('/d/g', 0o666);
    await h.write(Buffer.from('v2'), 0, 2);
    await h.sync();
    await h.write(Buffer.from('v3'), 0, 2);
    await h.close();
    await m.syncDir('/d');
    const point = new CrashPoint(s, m.log, m.log.length, 'prefix', allVariants);
    const [structure] = [...point.structures()];
    const img = point.image(structure as never);
    const dirty = [...img.dirty.values()][0];
    expect(dirty?.variants.map((v) => `${v.label}:${v.data.toString('hex')}`)).toEqual([
      `new:${Buffer.from('v2v3').toString('hex')}`,
      `old:${Buffer.from('v2').toString('hex')}`,
      'zero:00000000',
      expect.stringMatching(/^garbage:(?!00000000)[0-9a-f]{8}$/),
      `torn:${Buffer.from('v2').toString('hex')}0000`,
    ]);
  });

  it('a chmod not followed by an fsync of the file may be lost', async () => {
    const s = new SnapshotBuilder().file('/d/f', 'x', { mode: 0o644 }).build();
    const m = new ModelFs(s);
    await m.chmod('/d/f', 0o600);
    const point = new CrashPoint(s, m.log, m.log.length, 'prefix', allVariants);
    const img = point.image([...point.structures()][0] as never);
    expect([...img.dirty.values()][0]?.variants.map((v) => v.attrs.mode.toString(8))).toEqual(['600', '644']);
    await m.syncFile('/d/f');
    const after = new CrashPoint(s, m.log, m.log.length, 'prefix', allVariants);
    expect(after.image([...after.structures()][0] as never).dirty.size).toBe(0);
  });
});

describe('crash points and images', () => {
  it('offers a crash point after every state change, and none after a bare step marker', async () => {
    const m = new ModelFs(start());
    await m.mkdir('/d/a');
    m.step('halfway');
    await m.syncDir('/d');
    // node record (no point), entry, step (no point), fsyncdir
    expect(m.log.map((r) => r.t)).toEqual(['node', 'entry', 'step', 'fsyncdir']);
    expect(crashPoints(m.log)).toEqual([0, 2, 4]);
  });

  it('ages every mtime so that any lock in a crash image looks abandoned, and keeps inode numbers', async () => {
    const s = start();
    const m = new ModelFs(s);
    await m.mkdir('/d/lock');
    await m.syncDir('/d');
    const point = new CrashPoint(s, m.log, m.log.length, 'prefix', allVariants);
    const img = point.image([...point.structures()][0] as never).snapshot;
    const lock = [...img.nodes.values()].find((n) => n.entries.size === 0 && n.id === m.peek('/d/lock')?.id);
    expect(lock?.ino).toBe(m.peek('/d/lock')?.ino);
    for (const n of img.nodes.values()) expect(n.mtimeMs).toBeLessThan(Date.now() - AGE_MS + 1000);
  });

  it('fingerprints ignore mtimes but not contents, modes or inode numbers', () => {
    const a = new SnapshotBuilder().file('/f', 'x').build();
    const b = new SnapshotBuilder().file('/f', 'x').build();
    for (const n of b.nodes.values()) n.mtimeMs -= 5000;
    expect(fingerprint(a)).toBe(fingerprint(b));
    expect(fingerprint(a)).not.toBe(fingerprint(new SnapshotBuilder().file('/f', 'y').build()));
    expect(fingerprint(a)).not.toBe(fingerprint(new SnapshotBuilder().file('/f', 'x', { mode: 0o600 }).build()));
  });
});
