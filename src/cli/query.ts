import { parseArgs } from 'node:util';
import { loadPolicyFile } from '../policy/load.js';
import type { ProviderSpec, RolloutPolicy } from '../policy/schema.js';
import { measureContext } from '../metrics/measure.js';
import { createMetricsRuntime, createProvider, providerKind } from '../metrics/provider.js';
import type { Measurement } from '../metrics/types.js';
import { envSecretReader } from '../secrets/env.js';
import type { Command } from './commands.js';
import { UsageError } from './usage-error.js';

const HELP = `Usage: kubestead query POLICY CHECK [--provider-url URL] [--time T] [--canary-revision REV] [--json]

Runs one check of a RolloutPolicy file against its live provider, the way the operator would in
a tick, and prints the rendered query, the shape of the answer, the value, the bounds and whether
the value passes. The tool for authoring a check.

Options:
  --provider-url URL      use this address for the check's provider (a port-forward, say)
  --time T                evaluate at T: an RFC 3339 time or Unix seconds (default: now)
  --canary-revision REV   the value of {{ rollout.canaryRevision }} (default: none; a query using it is then unavailable)
  --json                  print the Measurement as JSON

Secrets: a provider's Secret refs are read from environment variables named
KUBESTEAD_SECRET_<NAME>_<KEY>: the Secret's name and key, upper-cased, with every character other
than A-Z and 0-9 turned into _. For example apiKeySecretRef {name: datadog, key: api-key} is read
from KUBESTEAD_SECRET_DATADOG_API_KEY.

Exit codes: 0 the value is within its bounds, 1 out of bounds or unavailable, 2 bad input.`;

function parseTime(text: string | undefined): Date {
  if (text === undefined || text === 'now') return new Date();
  const date = /^\d+(\.\d+)?$/.test(text) ? new Date(Number(text) * 1000) : new Date(text);
  if (Number.isNaN(date.getTime())) throw new UsageError(`--time: expected an RFC 3339 time or Unix seconds, got ${JSON.stringify(text)}`);
  return date;
}

function withAddress(spec: ProviderSpec, url: string | undefined): ProviderSpec {
  if (url === undefined) return spec;
  if (!/^https?:\/\/[^/]/.test(url)) throw new UsageError(`--provider-url: expected an http(s) URL, got ${JSON.stringify(url)}`);
  const kind = providerKind(spec);
  return { [kind]: { ...spec[kind], address: url } };
}

/** `error-rate = 0.034 is above max 0.01`, or null when within bounds (a bound is inclusive). */
export function breach(name: string, m: Measurement): string | null {
  if (m.value === null) return null;
  if (m.max !== null && m.value > m.max) return `${name} = ${m.value} is above max ${m.max}`;
  if (m.min !== null && m.value < m.min) return `${name} = ${m.value} is below min ${m.min}`;
  return null;
}

function bounds(m: Measurement): string {
  return [m.min === null ? '' : `min ${m.min}`, m.max === null ? '' : `max ${m.max}`].filter(Boolean).join(', ') || 'none';
}

async function findPolicy(file: string, checkName: string): Promise<RolloutPolicy> {
  const { policies, errors } = await loadPolicyFile(file);
  if (errors.length) throw new UsageError(`the policy file has problems:\n${errors.join('\n')}`);
  const policy = policies.find(({ policy: p }) => p.spec.checks.some((c) => c.name === checkName))?.policy;
  if (!policy) {
    const known = policies.flatMap(({ policy: p }) => p.spec.checks.map((c) => c.name));
    throw new UsageError(`no check "${checkName}" in ${file}${known.length ? `; checks are ${known.join(', ')}` : ''}`);
  }
  return policy;
}

function report(name: string, policy: RolloutPolicy, m: Measurement): string {
  const failed = m.status === 'ok' ? breach(name, m) : null;
  const result = m.status !== 'ok' ? `UNAVAILABLE (onMetricUnavailable: ${policy.spec.onMetricUnavailable})` : failed ? `FAIL: ${failed}` : 'PASS';
  const value = m.status === 'ok' ? `${m.value}${m.raw !== undefined ? ` (raw ${JSON.stringify(m.raw)})` : ''}` : `unavailable: ${m.error}`;
  return [
    `policy:   ${policy.metadata.namespace}/${policy.metadata.name}`,
    `check:    ${name} (provider ${m.provider})`,
    `query:    ${m.query}`,
    `answer:   ${m.shape ?? '(none)'}${m.warnings?.length ? `; warnings: ${m.warnings.join('; ')}` : ''}`,
    `value:    ${value}`,
    ...(m.observedAt ? [`at:       ${m.observedAt}`] : []),
    `bounds:   ${bounds(m)}`,
    `result:   ${result}`,
    `latency:  ${m.latencyMs} ms`,
  ].join('\n');
}

export const queryCommand: Command = {
  summary: 'run one check against its live provider and show the value',
  help: HELP,
  async run(args) {
    const { values, positionals } = parseArgs({
      args, allowPositionals: true,
      options: { 'provider-url': { type: 'string' }, time: { type: 'string' }, 'canary-revision': { type: 'string' }, json: { type: 'boolean' } },
    });
    const [file, checkName, ...extra] = positionals;
    if (!file || !checkName || extra.length) throw new UsageError('expected POLICY and CHECK');
    const policy = await findPolicy(file, checkName);
    const check = policy.spec.checks.find((c) => c.name === checkName)!;
    const providerSpec = policy.spec.providers[check.provider];
    if (!providerSpec) throw new UsageError(`check "${checkName}" names provider "${check.provider}", which spec.providers does not have`);
    const runtime = createMetricsRuntime();
    const provider = createProvider(check.provider, withAddress(providerSpec, values['provider-url']), runtime);
    const ctx = measureContext(policy, { time: parseTime(values.time), canaryRevision: values['canary-revision'] ?? null, secrets: envSecretReader() });
    const m = await provider.measure(check, ctx);
    await runtime.http.close();
    process.stdout.write(`${values.json ? JSON.stringify(m, null, 2) : report(checkName, policy, m)}\n`);
    return m.status === 'ok' && breach(checkName, m) === null ? 0 : 1;
  },
};
