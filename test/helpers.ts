import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compilePolicy, type CompiledPolicy } from '../src/pipeline/compile/compile.js';
import { loadPolicies } from '../src/pipeline/policy/load.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** A fixture file's text. */
export function fixtureText(path: string): string {
  return readFileSync(resolve(ROOT, 'fixtures', path), 'utf8');
}

/** A JSON fixture, parsed anew on every call so that tests cannot change each other's copy. */
export function fixtureJson<T = unknown>(path: string): T {
  return JSON.parse(fixtureText(path)) as T;
}

/** The one policy of a fixture file, compiled; throws with the error lines if it is invalid. */
export function compiledFixture(path: string): CompiledPolicy {
  const { policies, errors } = loadPolicies(fixtureText(path), path);
  if (errors.length > 0 || !policies[0]) throw new Error(`fixture ${path}: ${errors.join('\n')}`);
  return compilePolicy(policies[0].policy);
}

/** Policy YAML around a spec body, for schema tests. */
export function policyYaml(spec: string): string {
  const indented = spec
    .trim()
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
  return `apiVersion: kubestead.io/v1alpha1\nkind: RolloutPolicy\nmetadata: {name: t, namespace: ns}\nspec:\n${indented}\n`;
}
