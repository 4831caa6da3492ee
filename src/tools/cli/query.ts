import { compilePolicy } from '../../pipeline/compile/compile.js';
import { checkVerdict, type CheckVerdict } from '../../pipeline/decide/verdict.js';
import { loadPolicyFile } from '../../pipeline/policy/load.js';
import type { RolloutPolicy } from '../../pipeline/policy/schema.js';
import { measureContext } from '../../adapters/providers/measure.js';
import { createMetricsRuntime, createProvider } from '../../adapters/providers/provider.js';
import type { Measurement } from '../../adapters/providers/types.js';
import { envSecretReader } from '../../adapters/secrets/env.js';
import { defineCommand } from './define.js';
import { UsageError } from './usage-error.js';
import { parseTime, withAddress } from './provider-options.js';

const DESCRIPTION = `Runs one check of a RolloutPolicy file against its live provider, the way the operator would in
a tick, and prints the rendered query, the shape of the answer, the value, the bounds and whether
the value passes, as decide judges it. The tool for authoring a check.

Secrets: a provider's Secret refs are read from environment variables named
KUBESTEAD_SECRET_<NAME>_<KEY>: the Secret's name and key, upper-cased, with every character other
than A-Z and 0-9 turned into _. For example apiKeySecretRef {name: datadog, key: api-key} is read
from KUBESTEAD_SECRET_DATADOG_API_KEY.`;

function bounds(m: Measurement): string {
  return (
    [m.min === null ? '' : `min ${m.min}`, m.max === null ? '' : `max ${m.max}`].filter(Boolean).join(', ') || 'none'
  );
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

const RESULT: Record<CheckVerdict['verdict'], string> = {
  pass: 'PASS',
  fail: 'FAIL',
  inconclusive: 'INCONCLUSIVE',
  unavailable: 'UNAVAILABLE',
};

function report(name: string, policy: RolloutPolicy, m: Measurement, verdict: CheckVerdict): string {
  const result = verdict.verdict === 'pass' ? RESULT.pass : `${RESULT[verdict.verdict]}: ${verdict.message}`;
  const value =
    m.status === 'ok'
      ? `${m.value}${m.raw !== undefined ? ` (raw ${JSON.stringify(m.raw)})` : ''}`
      : `unavailable: ${m.error}`;
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

export const queryCommand = defineCommand({
  name: 'query',
  summary: 'run one check against its live provider and show the value',
  usage: 'POLICY CHECK [--provider-url URL] [--time T] [--canary-revision REV] [--json]',
  description: DESCRIPTION,
  options: {
    'provider-url': {
      type: 'string',
      value: 'URL',
      description: "use this address for the check's provider (a port-forward, say)",
    },
    time: { type: 'string', value: 'T', description: 'evaluate at T: an RFC 3339 time or Unix seconds (default: now)' },
    'canary-revision': {
      type: 'string',
      value: 'REV',
      description: 'the value of {{ rollout.canaryRevision }} (default: none)',
    },
    json: { type: 'boolean', description: 'print the Measurement as JSON' },
  },
  exitCodes: ['0  the value is within its bounds (inconclusive included)', '1  out of bounds or unavailable'],
  async run({ values, positionals }) {
    const [file, checkName, ...extra] = positionals;
    if (!file || !checkName || extra.length) throw new UsageError('expected POLICY and CHECK');
    const policy = await findPolicy(file, checkName);
    const check = policy.spec.checks.find((c) => c.name === checkName)!;
    const providerSpec = policy.spec.providers[check.provider];
    if (!providerSpec)
      throw new UsageError(
        `check "${checkName}" names provider "${check.provider}", which spec.providers does not have`,
      );
    const runtime = createMetricsRuntime();
    const provider = createProvider(check.provider, withAddress(providerSpec, values['provider-url']), runtime);
    const ctx = measureContext(policy, {
      time: parseTime(values.time, '--time'),
      canaryRevision: values['canary-revision'] ?? null,
      secrets: envSecretReader(),
    });
    const m = await provider.measure(check, ctx);
    await runtime.http.close();
    const verdict = await checkVerdict(compilePolicy(policy), checkName, m);
    process.stdout.write(`${values.json ? JSON.stringify(m, null, 2) : report(checkName, policy, m, verdict)}\n`);
    return verdict.verdict === 'pass' || verdict.verdict === 'inconclusive' ? 0 : 1;
  },
});
