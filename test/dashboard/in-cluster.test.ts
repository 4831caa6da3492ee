import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '@kubestead/sandbox';
import { OperatorProcess } from '../controller/process.js';
import { testSandbox } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';
import { apply, CRD_FILE, kubectl } from '../e2e/support.js';
import { call } from './process.js';

const policy = (ns: string, name: string) =>
  `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${ns}}\n---\napiVersion: kubestead.io/v1alpha1\nkind: RolloutPolicy\nmetadata: {name: ${name}, namespace: ${ns}}\nspec:\n  targetRef: {kind: Deployment, name: ${name}}\n  steps: [{weight: 50}]\n`;

describe('run --dashboard-addr: bearer tokens, TokenReview and SubjectAccessReview', () => {
  let sandbox: Sandbox;
  let operator: OperatorProcess | undefined;
  let url: string;
  beforeAll(async () => {
    sandbox = await testSandbox({
      rbac: true,
      workloads: false,
      users: [
        { token: 'viewer-token-1', user: { username: 'viewer', groups: [] } },
        { token: 'outsider-token-1', user: { username: 'outsider', groups: [] } },
      ],
    });
    await kubectl(sandbox, 'apply', '-f', CRD_FILE);
    await apply(sandbox, `${policy('shop', 'checkout')}---\n${policy('other', 'web')}`);
    await apply(
      sandbox,
      `apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: viewer, namespace: shop}\nrules: [{apiGroups: [kubestead.io], resources: [rolloutpolicies], verbs: [get, list, watch]}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: viewer, namespace: shop}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: viewer}\nsubjects: [{kind: User, name: viewer}]\n`,
    );
    operator = await OperatorProcess.start(sandbox, ['--dashboard-addr', '127.0.0.1:0']);
    const line = await waitFor(() => operator!.lines.find((l) => l.dashboardUrl), 30_000, 'the dashboard URL');
    url = String(line.dashboardUrl);
  });
  afterAll(async () => {
    await operator?.close();
    await sandbox?.close();
  });

  const names = async (token: string) => {
    const res = await call(`${url}api/v1/policies`, 'GET', { Authorization: `Bearer ${token}` });
    expect(res.status).toBe(200);
    return (JSON.parse(res.text) as { items: Array<{ namespace: string; name: string }> }).items.map(
      (i) => `${i.namespace}/${i.name}`,
    );
  };

  it('is 401 without a token or with a bad one, on pages and API alike', async () => {
    for (const path of ['', 'api/v1/policies', 'api/v1/namespaces/shop/policies/checkout', 'app.js']) {
      expect((await call(`${url}${path}`)).status, `/${path}`).toBe(401);
      expect((await call(`${url}${path}`, 'GET', { Authorization: 'Bearer nope' })).status, `/${path}`).toBe(401);
    }
  });

  it('shows a user only the namespaces it may list rolloutpolicies in', async () => {
    await waitFor(async () => (await names(sandbox.token)).length === 2, 15_000, 'both policies listed');
    expect(await names(sandbox.token)).toEqual(['other/web', 'shop/checkout']);
    expect(await names('viewer-token-1')).toEqual(['shop/checkout']);
    expect(await names('outsider-token-1')).toEqual([]);
    const auth = (t: string) => ({ Authorization: `Bearer ${t}` });
    expect((await call(`${url}api/v1/namespaces/shop/policies/checkout`, 'GET', auth('viewer-token-1'))).status).toBe(
      200,
    );
    expect((await call(`${url}api/v1/namespaces/other/policies/web`, 'GET', auth('viewer-token-1'))).status).toBe(404);
    const page = await call(`${url}`, 'GET', auth('outsider-token-1'));
    expect(page.status).toBe(200);
    expect(page.text).not.toContain('shop/checkout');
    expect((await call(`${url}api/v1/policies`, 'DELETE', auth(sandbox.token))).status).toBe(405);
  });
});
