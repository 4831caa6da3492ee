import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../src/index.js';
import { testSandbox } from '../../../test/support/sandbox.js';
import { pythonClientPresent, runPythonE2e, type PythonOutcome } from '../../../test/support/python-e2e.js';
import { thirdPartyPresent } from '../../../test/support/third-party.js';

/**
 * A real client's own end-to-end suite, written by the Kubernetes authors for a real cluster: the
 * Python client's (v22.6.0, Debian's python3-kubernetes) against a fresh sandbox. Every test is
 * listed: those that pass, and for each that cannot, why and the error that shows it. A test that
 * starts passing, fails another way, or appears in the suite fails here: the list is kept true.
 */

const TESTS = 'the Python client e2e suite against the sandbox';
const present = thirdPartyPresent('pythonE2e', TESTS) && pythonClientPresent(TESTS);

const notFound = (resource: string): string => `the server could not find the requested resource (${resource})`;
/** What the client reports when the sandbox refuses exec/portforward (it runs no containers) with 400. */
const NO_CONTAINERS = 'Handshake status 400 Bad Request';

interface Expected {
  outcome: PythonOutcome['outcome'];
  /** Why it cannot pass against the sandbox. */
  reason?: string;
  /** Text its failure (or skip) must show, so that it fails for that reason and no other. */
  shows?: string;
}

const pass: Expected = { outcome: 'pass' };
const unserved = (kind: string, resource: string): Expected => ({
  outcome: 'fail',
  reason: `unserved kind: ${kind} (neither Kubestead nor its tests use it; a 404 is right)`,
  shows: notFound(resource),
});
const containers = (what: string): Expected => ({
  outcome: 'fail',
  reason: `needs real containers: ${what} (the sandbox refuses it with a Status saying it runs none)`,
  shows: NO_CONTAINERS,
});

const EXPECTED: Record<string, Expected> = {
  'test_apps.TestClientApps.test_create_daemonset': unserved('DaemonSet', 'daemonsets'),
  'test_apps.TestClientApps.test_create_deployment': pass,
  'test_batch.TestClientBatch.test_job_apis': unserved('Job', 'jobs'),
  'test_client.TestClient.test_configmap_apis': pass,
  'test_client.TestClient.test_exit_code': containers('exec'),
  'test_client.TestClient.test_node_apis': pass,
  'test_client.TestClient.test_pod_apis': containers('exec (the pod is created, scheduled and Running first)'),
  'test_client.TestClient.test_portforward_http': containers('port-forward'),
  'test_client.TestClient.test_portforward_raw': {
    outcome: 'skip',
    reason: 'the suite skips it itself',
    shows: 'skipping due to extreme flakiness',
  },
  'test_client.TestClient.test_replication_controller_apis': unserved(
    'ReplicationController',
    'replicationcontrollers',
  ),
  'test_client.TestClient.test_service_apis': pass,
  'test_utils.TestUtils.test_create_apiservice_from_yaml_with_conflict': unserved('APIService', 'apiservices'),
  'test_utils.TestUtils.test_create_apps_deployment_from_yaml': pass,
  'test_utils.TestUtils.test_create_apps_deployment_from_yaml_obj': pass,
  'test_utils.TestUtils.test_create_apps_deployment_from_yaml_object': pass,
  'test_utils.TestUtils.test_create_deployment_non_default_namespace_from_yaml': pass,
  'test_utils.TestUtils.test_create_from_list_in_multi_resource_yaml': pass,
  'test_utils.TestUtils.test_create_from_list_in_multi_resource_yaml_namespaced': pass,
  'test_utils.TestUtils.test_create_from_multi_resource_yaml': unserved(
    'ReplicationController',
    'replicationcontrollers',
  ),
  'test_utils.TestUtils.test_create_from_multi_resource_yaml_with_conflict': unserved(
    'ReplicationController',
    'replicationcontrollers',
  ),
  'test_utils.TestUtils.test_create_from_multi_resource_yaml_with_multi_conflicts': pass,
  'test_utils.TestUtils.test_create_general_list_from_yaml': pass,
  'test_utils.TestUtils.test_create_implicit_service_list_from_yaml_with_conflict': pass,
  'test_utils.TestUtils.test_create_multi_resource_from_directory': unserved(
    'ReplicationController',
    'replicationcontrollers',
  ),
  'test_utils.TestUtils.test_create_namespace_from_yaml': pass,
  'test_utils.TestUtils.test_create_namespace_list_from_yaml': pass,
  'test_utils.TestUtils.test_create_namespaced_apps_deployment_from_yaml': pass,
  'test_utils.TestUtils.test_create_pod_from_yaml': pass,
  'test_utils.TestUtils.test_create_rbac_role_from_yaml': pass,
  'test_utils.TestUtils.test_create_rbac_role_from_yaml_with_verbose_enabled': pass,
  'test_utils.TestUtils.test_create_service_from_yaml': pass,
  'test_watch.TestClient.test_watch_configmaps': pass,
};

/** One line per test: what it did against what it should, with the end of its error when it deviates. */
function deviation(id: string, got: PythonOutcome | undefined): string | undefined {
  const want = EXPECTED[id];
  if (!want) return `${id}: not in the list (a new test of the suite?): ${got?.outcome ?? '?'}`;
  if (!got) return `${id}: did not run`;
  const tail = got.detail.trim().split('\n').slice(-3).join(' | ').slice(0, 400);
  if (got.outcome !== want.outcome)
    return `${id}: ${got.outcome}, expected ${want.outcome} (${want.reason ?? ''}): ${tail}`;
  if (want.shows && !got.detail.includes(want.shows))
    return `${id}: ${got.outcome} for another reason than "${want.shows}": ${tail}`;
  return undefined;
}

describe.skipIf(!present)(TESTS, () => {
  let sandbox: Sandbox;
  let outcomes: Record<string, PythonOutcome>;

  beforeAll(async () => {
    sandbox = await testSandbox();
    outcomes = await runPythonE2e(sandbox.kubeconfigPath);
  }, 240_000);
  afterAll(async () => sandbox?.close());

  it('every test of the suite passes, fails or skips as listed, for the listed reason', () => {
    const ids = [...new Set([...Object.keys(EXPECTED), ...Object.keys(outcomes)])].sort();
    expect(ids.map((id) => deviation(id, outcomes[id])).filter(Boolean)).toEqual([]);
  });

  it('the list holds the whole suite: 32 tests, 21 passing, each failure with its reason', () => {
    const counts = { pass: 0, fail: 0, skip: 0 };
    for (const o of Object.values(outcomes)) counts[o.outcome] += 1;
    expect(counts).toEqual({ pass: 21, fail: 10, skip: 1 });
    for (const want of Object.values(EXPECTED)) if (want.outcome !== 'pass') expect(want.reason).toBeTruthy();
  });
});
