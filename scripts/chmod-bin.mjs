// Make every `bin` of package.json executable after the build, which writes plain 0644 files.
// Without this, the bin would not run from a fresh build (npm sets the bit when it installs the
// package, but not in this checkout). The bin is the bundle (dist/bundle/cli.js); tsc's module of
// the same entry (dist/cli.js), which the tests run by its shebang, is made executable too. Run
// by `npm run build` and by the test global setup.
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { bin } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
for (const file of Object.values(typeof bin === 'string' ? { bin } : bin ?? {})) {
  chmodSync(join(root, file), 0o755);
  const module = join(root, file.replace(/\/bundle\//, '/'));
  if (existsSync(module)) chmodSync(module, 0o755);
}
