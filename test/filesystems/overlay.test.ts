/**
 * overlayfs as Docker mounts it: an image layer (lower, read-only) with a baked tree, a container
 * layer (upper) and a work dir. A commit replacing or removing a file of the image copies it up or
 * whites it out; rename(2) within the merged tree works for files and for directories made in the
 * upper layer (the only ones txnfs renames: its lock directories).
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { begin } from '../../src/index.js';
import { files, filesystemSuite, homeNames, localDisk } from './suite.js';

const m = await filesystemSuite('overlay', localDisk('overlay'));

describe.skipIf(m === undefined)('overlay: a root baked into the image layer', () => {
  it('replaces and removes files of the lower layer, all or nothing', async () => {
    const dir = path.join(path.dirname(m?.root ?? ''), 'image');
    expect(files(dir)).toEqual({ 'sub/baked.txt': 'from the image' });
    const tx = begin({ dir });
    tx.write('sub/baked.txt', 'changed in the container');
    tx.write('sub/new.txt', 'new');
    await tx.commit();
    const tx2 = begin({ dir });
    tx2.remove('sub/baked.txt');
    await tx2.commit();
    expect(files(dir)).toEqual({ 'sub/new.txt': 'new' });
    expect(homeNames(dir).filter((e) => e.startsWith('.txn-'))).toEqual([]);
  });
});
