import { describe, expect, it } from 'vitest';
import { loadPolicies } from '../../src/pipeline/policy/load.js';
import { policyYaml } from '../helpers.js';

const Q =
  '[{"Id": "errors", "MetricStat": {"Metric": {"Namespace": "Shop", "MetricName": "ErrorRate"}, "Period": 60, "Stat": "Average"}}]';

/** A policy with one cloudWatch provider and one check on it. */
const spec = (provider: string, query = Q, value?: string) =>
  policyYaml(`targetRef: {kind: Deployment, name: web}
steps: [{weight: 10}]
providers: {cw: {cloudWatch: ${provider}}}
checks:
  - {name: errors, provider: cw, query: ${JSON.stringify(query)}, ${value ? `value: ${value}, ` : ''}max: 1}`);

const errors = (text: string) => loadPolicies(text, 'p.yaml').errors.join('\n');

describe('kubestead validate: the cloudWatch provider and its checks', () => {
  it.each([
    ['no region', spec('{}'), 'p.yaml:7: spec.providers.cw.cloudWatch.region'],
    ['a wrong region', spec('{region: Ireland}'), 'expected an AWS region such as us-east-1, got "Ireland"'],
    ['an endpoint that is no http(s) URL', spec('{region: us-east-1, endpoint: "ftp://x"}'), 'cloudWatch.endpoint'],
    [
      'an endpoint with credentials',
      spec('{region: us-east-1, endpoint: "https://u:p@vpce.example"}'),
      'a URL may not carry credentials',
    ],
    [
      'an access key id without its secret key',
      spec('{region: us-east-1, accessKeyIdSecretRef: {name: aws, key: id}}'),
      'spec.providers.cw.cloudWatch.secretAccessKeySecretRef: accessKeyIdSecretRef and secretAccessKeySecretRef go together',
    ],
    [
      'a session token alone',
      spec('{region: us-east-1, sessionTokenSecretRef: {name: aws, key: token}}'),
      'spec.providers.cw.cloudWatch.sessionTokenSecretRef: sessionTokenSecretRef needs accessKeyIdSecretRef',
    ],
    ['a lookback of 0s', spec('{region: us-east-1, lookback: 0s}'), 'spec.providers.cw.cloudWatch.lookback'],
    ['an unknown field', spec('{region: us-east-1, namespace: Shop}'), 'cloudWatch'],
    [
      'a query that is not JSON',
      spec('{region: us-east-1}', 'SELECT AVG(ErrorRate) FROM Shop'),
      "p.yaml:9: spec.checks[0].query: a CloudWatch check's query is its MetricDataQueries as JSON",
    ],
    [
      'a query without an Id',
      spec('{region: us-east-1}', '[{"MetricStat": {}}]'),
      'spec.checks[0].query: MetricDataQueries[0] needs an Id',
    ],
    [
      'an Id that starts with a capital',
      spec('{region: us-east-1}', '[{"Id": "Errors"}]'),
      'MetricDataQueries[0] needs an Id: a lower-case letter',
    ],
    [
      'duplicate Ids',
      spec('{region: us-east-1}', '[{"Id": "e"}, {"Id": "e"}]'),
      'MetricDataQueries[1]: duplicate Id "e"',
    ],
    ['an empty list', spec('{region: us-east-1}', '[]'), 'the MetricDataQueries list is empty'],
    [
      'a value naming no Id',
      spec('{region: us-east-1}', Q, 'requests'),
      'spec.checks[0].value: "requests" is no Id of the check\'s MetricDataQueries (errors)',
    ],
  ])('%s is refused with its path', (_, text, message) => {
    expect(errors(text)).toContain(message);
  });

  it.each([
    ['the default chain', spec('{region: eu-west-1}')],
    [
      'a Secret access key pair, a VPC endpoint',
      spec(
        '{region: us-gov-west-1, endpoint: "https://vpce-1.monitoring.us-gov-west-1.vpce.amazonaws.com", ' +
          'accessKeyIdSecretRef: {name: aws, key: id}, secretAccessKeySecretRef: {name: aws, key: secret}}',
      ),
    ],
    ['a value naming an Id', spec('{region: us-east-1}', Q, 'errors')],
    ['a jsonata value', spec('{region: us-east-1}', Q, '"errors * 100"')],
    ['a template value inside a string', spec('{region: us-east-1}', Q.replace('Shop', '{{ target.name }}'))],
  ])('%s is accepted', (_, text) => {
    expect(errors(text)).toBe('');
  });
});
