import { AuthorizationV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../src/index.js';
import { kubectlFor, kubectlPresent, type Kubectl } from '../../../test/support/kubectl.js';
import { failureOf, testSandbox } from '../../../test/support/sandbox.js';

/** kubectl auth can-i: SelfSubjectAccessReview and SubjectAccessReview, over the built-in ClusterRoles. */

let sandbox: Sandbox;
let viewerConfig: string;
const VIEWER = { username: 'vera', groups: ['viewers'] };

beforeAll(async () => {
  sandbox = await testSandbox({ rbac: true, workloads: false });
  viewerConfig = await sandbox.addUser('vera-token', VIEWER);
  await sandbox.client(RbacAuthorizationV1Api).createNamespacedRoleBinding({
    namespace: 'default',
    body: {
      metadata: { name: 'vera-view' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
      subjects: [{ kind: 'User', name: 'vera', apiGroup: 'rbac.authorization.k8s.io' }],
    },
  });
});
afterAll(async () => sandbox.close());

describe('access reviews', () => {
  it('has the built-in ClusterRoles cluster-admin, admin, edit and view', async () => {
    const names = (await sandbox.client(RbacAuthorizationV1Api).listClusterRole()).items.map((r) => r.metadata?.name);
    expect(names).toEqual(expect.arrayContaining(['cluster-admin', 'admin', 'edit', 'view']));
  });

  it('answers a SubjectAccessReview from the aggregated view role: reads yes, writes and secrets no', async () => {
    const authz = sandbox.client(AuthorizationV1Api);
    const ask = async (
      verb: string,
      resource: string,
      group = '',
      namespace = 'default',
    ): Promise<boolean | undefined> =>
      (
        await authz.createSubjectAccessReview({
          body: {
            spec: { user: 'vera', groups: ['viewers'], resourceAttributes: { verb, resource, group, namespace } },
          },
        })
      ).status?.allowed;
    expect(await ask('list', 'deployments', 'apps')).toBe(true);
    expect(await ask('get', 'pods')).toBe(true);
    expect(await ask('update', 'deployments', 'apps')).toBe(false);
    expect(await ask('get', 'secrets')).toBe(false);
    expect(await ask('list', 'deployments', 'apps', 'other')).toBe(false);
  });

  it('answers a SelfSubjectAccessReview for the caller; a SubjectAccessReview needs the right to create one', async () => {
    const kc = sandbox.kubeConfig();
    kc.loadFromFile(viewerConfig);
    const asVera = kc.makeApiClient(AuthorizationV1Api);
    const self = await asVera.createSelfSubjectAccessReview({
      body: { spec: { resourceAttributes: { verb: 'watch', resource: 'events', namespace: 'default' } } },
    });
    expect(self.status?.allowed).toBe(true);
    const denied = await failureOf(
      asVera.createSubjectAccessReview({
        body: { spec: { user: 'someone', resourceAttributes: { verb: 'get', resource: 'pods' } } },
      }),
    );
    expect(denied.code).toBe(403);
    expect(denied.body.message).toBe(
      'subjectaccessreviews.authorization.k8s.io is forbidden: User "vera" cannot create resource "subjectaccessreviews" in API group "authorization.k8s.io" at the cluster scope',
    );
  });

  describe.skipIf(!kubectlPresent)('kubectl auth can-i', () => {
    let admin: Kubectl;
    let vera: Kubectl;
    beforeAll(async () => {
      admin = await kubectlFor(sandbox);
      vera = await kubectlFor(sandbox, viewerConfig);
    });
    afterAll(async () => {
      await admin?.close();
      await vera?.close();
    });

    it('says yes and no as the roles decide (exit code 0 and 1)', async () => {
      const yes = await vera.run('auth', 'can-i', 'list', 'deployments.apps', '-n', 'default');
      expect([yes.code, yes.stdout.trim()]).toEqual([0, 'yes']);
      const no = await vera.run('auth', 'can-i', 'delete', 'deployments.apps', '-n', 'default');
      expect([no.code, no.stdout.trim()]).toEqual([1, 'no']);
      const adminYes = await admin.run('auth', 'can-i', '*', '*');
      expect(adminYes.stdout.trim()).toBe('yes');
      const who = await vera.run('auth', 'whoami', '-o', 'json');
      expect(JSON.parse(who.stdout).status.userInfo.username).toBe('vera');
    });
  });
});
