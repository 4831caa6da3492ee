// Part of `npm run lint`: no import cycle in the shipped code, between files or between folders.
// eslint's no-restricted-imports (eslint.config.js) holds the layering one import at a time; a cycle
// needs the whole graph, so it is found here: the relative imports of src/ and packages/*/src/
// (static, dynamic and type-only: a type cycle is a cycle of concepts too), then Tarjan's strongly
// connected components, of files and of the folders that hold them. Prints each cycle, exits 1.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const IMPORT = /(?:^|[\s;])(?:import|export)\b[^'"]*?\bfrom\s*['"](\.[^'"]+)['"]|\bimport\(\s*['"](\.[^'"]+)['"]\s*\)/g;

function sources(dir) {
  return readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.d.ts'))
    .map((f) => join(dir, f));
}

function graphOf(files) {
  const known = new Set(files);
  const edges = new Map(files.map((f) => [f, new Set()]));
  for (const file of files) {
    for (const match of readFileSync(join(root, file), 'utf8').matchAll(IMPORT)) {
      const target = relative(root, resolve(root, dirname(file), match[1] ?? match[2])).replace(/\.js$/, '.ts');
      if (known.has(target) && target !== file) edges.get(file).add(target);
    }
  }
  return edges;
}

/** Strongly connected components with more than one node (or a node importing itself). */
function cycles(edges) {
  let index = 0;
  const state = new Map();
  const stack = [];
  const found = [];
  const visit = (node) => {
    state.set(node, { index, low: index, onStack: true });
    index += 1;
    stack.push(node);
    for (const next of edges.get(node) ?? []) {
      if (!state.has(next)) {
        visit(next);
        state.get(node).low = Math.min(state.get(node).low, state.get(next).low);
      } else if (state.get(next).onStack) state.get(node).low = Math.min(state.get(node).low, state.get(next).index);
    }
    if (state.get(node).low !== state.get(node).index) return;
    const component = [];
    for (let member = stack.pop(); ; member = stack.pop()) {
      state.get(member).onStack = false;
      component.push(member);
      if (member === node) break;
    }
    if (component.length > 1) found.push(component.sort());
  };
  for (const node of edges.keys()) if (!state.has(node)) visit(node);
  return found;
}

/** The folder a file belongs to for the folder graph: src/<kind>/<folder>, or packages/<name>. */
const folderOf = (file) =>
  file
    .split('/')
    .slice(0, file.startsWith('packages/') ? 2 : 3)
    .join('/');

const packages = readdirSync(join(root, 'packages')).map((name) => join('packages', name, 'src'));
const files = ['src', ...packages].flatMap(sources);
const fileEdges = graphOf(files);
const folderEdges = new Map();
for (const [file, targets] of fileEdges) {
  const from = folderOf(file);
  if (!folderEdges.has(from)) folderEdges.set(from, new Set());
  for (const target of targets) if (folderOf(target) !== from) folderEdges.get(from).add(folderOf(target));
}

const problems = [
  ...cycles(fileEdges).map((c) => `import cycle between files: ${c.join(' -> ')}`),
  ...cycles(folderEdges).map((c) => `import cycle between folders: ${c.join(' <-> ')}`),
];
for (const problem of problems) console.error(problem);
process.exitCode = problems.length ? 1 : 0;
