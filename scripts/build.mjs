// `npm run build`: the sandbox package (packages/sandbox/dist, with its types), then the product
// (dist/), then the bundle bin/kubestead runs (dist/bundle, scripts/bundle.mjs). Each output folder
// is emptied first: tsc never removes what a moved or deleted source left behind.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const run = (script, ...args) => execFileSync(process.execPath, [script, ...args], { cwd: root, stdio: 'inherit' });

for (const dir of ['packages/sandbox/dist', 'dist']) rmSync(join(root, dir), { recursive: true, force: true });
run(tsc, '-p', 'packages/sandbox/tsconfig.json');
run(tsc, '-p', 'tsconfig.build.json');
run(join(root, 'scripts', 'bundle.mjs'));
