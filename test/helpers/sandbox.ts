import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tmpdir } from './tmp.js';

/**
 * A root with hostile neighbours, for tests that must prove nothing outside the root changes:
 *
 *   <base>/outside/secret.txt, victim, empty/     files a bad path might reach
 *   <base>/root/existing.txt, dir/, file           the root
 *   <base>/root/esc      -> ../outside             parent symlink escaping the root
 *   <base>/root/link-in  -> existing.txt           a target that is a symlink (inside)
 *   <base>/root/link-out -> ../outside/secret.txt  a target that is a symlink (outside)
 *   <base>/root/loop1 <-> loop2                    a symlink loop
 *   <base>/root/dang     -> nowhere                a dangling symlink
 *   <base>/root/fifo                               a FIFO
 */
export interface Sandbox {
  readonly base: string;
  readonly root: string;
  readonly outside: string;
}

export function sandbox(): Sandbox {
  const base = tmpdir('txnfs-hostile-');
  const root = path.join(base, 'root');
  const outside = path.join(base, 'outside');
  fs.mkdirSync(path.join(outside, 'empty'), { recursive: true });
  fs.writeFileSync(path.join(outside, 'secret.txt'), 'secret');
  fs.writeFileSync(path.join(outside, 'victim'), 'victim');
  fs.mkdirSync(path.join(root, 'dir'), { recursive: true });
  fs.writeFileSync(path.join(root, 'existing.txt'), 'existing');
  fs.writeFileSync(path.join(root, 'file'), 'a file');
  fs.symlinkSync('../outside', path.join(root, 'esc'));
  fs.symlinkSync('existing.txt', path.join(root, 'link-in'));
  fs.symlinkSync('../outside/secret.txt', path.join(root, 'link-out'));
  fs.symlinkSync('loop2', path.join(root, 'loop1'));
  fs.symlinkSync('loop1', path.join(root, 'loop2'));
  fs.symlinkSync('nowhere', path.join(root, 'dang'));
  execFileSync('mkfifo', [path.join(root, 'fifo')]);
  return { base, root, outside };
}

/**
 * Every entry under `dir`, never following a symlink: kind, permission bits, and content (files)
 * or link text (symlinks). `skip` lists relative paths whose subtree is left out.
 */
export function tree(dir: string, skip: readonly string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string): void => {
    for (const name of fs.readdirSync(path.join(dir, rel)).sort()) {
      const r = rel === '' ? name : `${rel}/${name}`;
      if (skip.includes(r)) continue;
      const p = path.join(dir, r);
      const st = fs.lstatSync(p);
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isSymbolicLink()) out[r] = `link ${fs.readlinkSync(p)}`;
      else if (st.isDirectory()) {
        out[r] = `dir ${mode}`;
        walk(r);
      } else if (st.isFile()) out[r] = `file ${mode} ${fs.readFileSync(p, 'utf8')}`;
      else out[r] = `other ${mode}`;
    }
  };
  walk('');
  return out;
}
