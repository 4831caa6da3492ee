// The shipped `kubestead` (bin/kubestead, the image): dist/tools/cli/main.js and its dependencies in one
// tree-shaken bundle, dist/bundle/. client-node's index loads all 216 generated API classes; the
// operator uses five. Measured at 1,000 policies on Node 24 (docs/operator.md, "Scale"): V8's heap
// 95 → 73–77 MiB, the controller's RSS 223 → 206–209 MiB. In ASCII, because V8 keeps every module's
// source and one non-Latin-1 character makes a chunk a two-byte string (client-node's: 12.3 MiB).
// The sandbox package (@kubestead/sandbox) stays outside: `kubestead sandbox` and `demo` load it
// when it is installed, and the image has neither it nor its libraries.
//
// Run through rolldown's API rather than its CLI: the CLI prints a line per chunk (about 40) at
// every log level; here only warnings and errors are printed.
import { rolldown } from 'rolldown';

const input = {
  input: { kubestead: 'dist/tools/cli/main.js' },
  platform: 'node',
  // Loaded from node_modules as before: node-fetch 2 (client-node's HTTP client) calls url.parse,
  // whose deprecation warning Node prints for code outside node_modules.
  external: ['node-fetch', '@kubestead/sandbox'],
};
const output = {
  dir: 'dist/bundle',
  format: 'esm',
  cleanDir: true,
  charset: 'ascii',
  comments: { legal: true, annotation: false, jsdoc: false },
};

const build = await rolldown(input);
try {
  await build.write(output);
} finally {
  await build.close();
}
