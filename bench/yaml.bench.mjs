// Random-shaped YAML read in linear time (issue 21, row 38): for each shape — deep flow nesting,
// deep block nesting, wide maps, duplicate keys, anchors and aliases — the time to read 8× the input
// over the time to read 1×, measured in one run (best of 3 each). Linear is about 8×; a quadratic
// reader would show about 64×. Above the size cap nothing is parsed (bench: parse covers the cap).
import { performance } from 'node:perf_hooks';
import { loadPolicies } from '../dist/pipeline/policy/load.js';

const HEAD = 'apiVersion: kubestead.io/v1alpha1\nkind: RolloutPolicy\nmetadata: {name: t, namespace: ns}\n';
const SPEC = 'spec:\n  targetRef: {kind: Deployment, name: web}\n  steps: [{weight: 10}]\n';

const SHAPES = {
  'deep flow nesting': (n) => `x: ${'['.repeat(n)}1${']'.repeat(n)}\n`,
  'deep block nesting': (n) =>
    `x:\n${Array.from({ length: n }, (_, i) => `${'  '.repeat(i + 1)}k${i}:`).join('\n')} 1\n`,
  'wide map': (n) => `x:\n${Array.from({ length: n }, (_, i) => `  k${i}: v`).join('\n')}\n`,
  'duplicate keys': (n) => `x:\n${Array.from({ length: n }, () => '  dup: 1').join('\n')}\n`,
  'anchors and aliases': (n) =>
    `x:\n${Array.from({ length: n }, (_, i) => `  a${i}: &a${i} {v: ${i}}\n  b${i}: *a${i}`).join('\n')}\n`,
};
const SIZES = {
  'deep flow nesting': 500,
  'deep block nesting': 500,
  'wide map': 4000,
  'duplicate keys': 4000,
  'anchors and aliases': 40,
};

function best(fn) {
  let min = Infinity;
  for (let i = 0; i < 3; i++) {
    const start = performance.now();
    fn();
    min = Math.min(min, performance.now() - start);
  }
  return min;
}

export async function run() {
  for (const [name, build] of Object.entries(SHAPES)) {
    const n = SIZES[name];
    const small = `${HEAD}${SPEC}${build(n)}`;
    const large = `${HEAD}${SPEC}${build(8 * n)}`;
    const t1 = best(() => loadPolicies(small, 'small.yaml'));
    const t8 = best(() => loadPolicies(large, 'large.yaml'));
    const outcome = loadPolicies(large, 'large.yaml').errors[0] ?? 'read';
    console.log(
      `${name}: ${n} → ${8 * n}: ${(t8 / t1).toFixed(1)}× the time for 8× the input (${t1.toFixed(1)} → ${t8.toFixed(1)} ms; ${outcome.slice(0, 80)})`,
    );
  }
}
