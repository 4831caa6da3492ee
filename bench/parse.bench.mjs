// Parsing a large policy: 64k keys (about 1.3 MB, under the 1.5 MiB cap) through Kubestead's
// parser, and the yaml package's own duplicate-key check (quadratic) beside ours at 8k keys.
import { performance } from 'node:perf_hooks';
import { parseAllDocuments } from 'yaml';
import { loadPolicies } from '../dist/pipeline/policy/load.js';

function policyWithLabels(count) {
  const labels = Array.from({ length: count }, (_, i) => `    label-${i}: value`).join('\n');
  return `apiVersion: kubestead.io/v1alpha1\nkind: RolloutPolicy\nmetadata:\n  name: t\n  labels:\n${labels}\nspec:\n  targetRef: {kind: Deployment, name: web}\n  steps: [{weight: 10}]\n`;
}

function time(fn) {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

export async function run() {
  const big = policyWithLabels(65_536);
  const ours64k = time(() => loadPolicies(big, 'big.yaml'));
  console.log(`64k keys (${(big.length / 1e6).toFixed(2)} MB), validate: ${ours64k.toFixed(0)} ms`);
  const small = policyWithLabels(8_192);
  const ours8k = time(() => loadPolicies(small, 'small.yaml'));
  const quadratic8k = time(() => parseAllDocuments(small, { uniqueKeys: true }));
  console.log(
    `8k keys, validate: ${ours8k.toFixed(0)} ms; the yaml package's duplicate-key check alone: ${quadratic8k.toFixed(0)} ms (${(quadratic8k / ours8k).toFixed(1)}× ours)`,
  );
  console.log(`64k / 8k validate time: ${(ours64k / ours8k).toFixed(1)}× for 8× the keys (linear)`);
}
