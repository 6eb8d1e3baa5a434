// Make every `bin` of package.json executable after tsc, which writes plain 0644 files. Without
// this, ./dist/cli.js would not run from a fresh build (npm sets the bit when it installs the
// package, but not in this checkout). Run by `npm run build` and by the test global setup.
import { chmodSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { bin } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
for (const file of Object.values(typeof bin === 'string' ? { bin } : bin ?? {})) chmodSync(join(root, file), 0o755);
