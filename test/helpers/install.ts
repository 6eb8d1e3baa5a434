import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface PackageJson {
  readonly name: string;
  readonly version: string;
  readonly bin: Record<string, string>;
  readonly dependencies: Record<string, string>;
  readonly engines: { readonly node: string };
}

export const pkg = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')) as PackageJson;

export interface Installed {
  /** The consumer project: package.json, node_modules/txnfs, node_modules/.bin/txnfs. */
  readonly project: string;
  /** The tarball's file list, as `npm pack` reported it. */
  readonly files: readonly { readonly path: string; readonly mode: number }[];
  remove(): void;
}

/**
 * Pack the package as `npm publish` would and install the tarball into a fresh project in the
 * temp dir, the way npm lays it out: the tarball's `package/` extracted to node_modules/txnfs, each
 * `bin` linked into node_modules/.bin.
 *
 * Not `npm install <tarball>`: that resolves the dependencies' version ranges against the registry
 * (`npm ci` caches tarballs, not the metadata `--offline` would need), and tests must not need the
 * network. The dependencies are linked from this checkout's node_modules instead (Node resolves a
 * symlink to its real path, so their own dependencies come from there too). Nothing else of the
 * checkout is reachable from the project: the project lives outside it, so an import of a
 * devDependency or of a file the tarball lacks fails here as it would for a user.
 */
export function installTarball(): Installed {
  const base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'txnfs-install-')));
  const [packed] = JSON.parse(
    execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', base], { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }),
  ) as [{ filename: string; files: { path: string; mode: number }[] }];
  const project = path.join(base, 'project');
  const modules = path.join(project, 'node_modules');
  fs.mkdirSync(path.join(modules, '.bin'), { recursive: true });
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, dependencies: { txnfs: `file:../${packed.filename}` } }));
  execFileSync('tar', ['-xzf', path.join(base, packed.filename), '-C', modules]);
  fs.renameSync(path.join(modules, 'package'), path.join(modules, 'txnfs'));
  for (const dep of [...Object.keys(pkg.dependencies), '@types/node']) {
    fs.mkdirSync(path.dirname(path.join(modules, dep)), { recursive: true });
    fs.symlinkSync(path.join(repo, 'node_modules', dep), path.join(modules, dep), 'dir');
  }
  for (const [name, file] of Object.entries(pkg.bin)) {
    fs.symlinkSync(path.join('..', 'txnfs', file), path.join(modules, '.bin', name));
    fs.chmodSync(path.join(modules, 'txnfs', file), 0o755); // as npm's bin-links does at install
  }
  return { project, files: packed.files, remove: () => fs.rmSync(base, { recursive: true, force: true }) };
}
