import { request } from 'node:https';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../src/index.js';
import { failureOf, raw, testSandbox, type Body } from '../../../test/support/sandbox.js';

let sandbox: Sandbox;
let core: CoreV1Api;

beforeAll(async () => {
  sandbox = await testSandbox({ workloads: false });
  core = sandbox.kubeConfig().makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: 'f' } } });
  await core.createNamespacedConfigMap({ namespace: 'f', body: { metadata: { name: 'c' } } });
});
afterAll(async () => sandbox.close());

describe('fault injection', () => {
  it.each([409, 429, 500, 503] as const)(
    'answers the next N matching requests with %i, then recovers',
    async (code) => {
      sandbox.faults.inject({
        method: 'GET',
        path: '/api/v1/namespaces/f/configmaps/c',
        respond: code,
        times: 2,
        retryAfterSeconds: code === 429 ? 3 : undefined,
      });
      // a request that does not match passes
      await core.listNamespacedConfigMap({ namespace: 'f' });
      for (let i = 0; i < 2; i++) {
        const failed = await failureOf(core.readNamespacedConfigMap({ name: 'c', namespace: 'f' }));
        expect(failed.code).toBe(code);
        expect(failed.body).toMatchObject({ kind: 'Status', status: 'Failure', code });
      }
      expect((await core.readNamespacedConfigMap({ name: 'c', namespace: 'f' })).metadata?.name).toBe('c');
      expect(sandbox.faults.pending()).toBe(0);
    },
  );

  it('records every answer in the request log, faults marked', async () => {
    const since = Date.now();
    sandbox.faults.inject({ method: 'GET', path: '/api/v1/namespaces/f/configmaps/c', respond: 503, times: 2 });
    for (let i = 0; i < 3; i++)
      await core.readNamespacedConfigMap({ name: 'c', namespace: 'f' }).catch(() => undefined);
    const log = sandbox.requests.list({ method: 'GET', path: '/api/v1/namespaces/f/configmaps/c', since });
    expect(log.map((r) => `${r.code}${r.fault ? ' fault' : ''}`)).toEqual(['503 fault', '503 fault', '200']);
    expect(log[2]!.user).toBe('kubestead-admin');
  });

  it("fails only the named user's requests: one client cut off, the others served", async () => {
    const path = await sandbox.addUser('cut-off-token-0123456789', { username: 'cut-off', groups: ['system:masters'] });
    const cutOff = new KubeConfig();
    cutOff.loadFromFile(path);
    const theirs = cutOff.makeApiClient(CoreV1Api);
    sandbox.faults.inject({
      path: '/api/v1/namespaces/f/configmaps/c',
      user: 'cut-off',
      respond: 503,
      times: Infinity,
    });
    try {
      expect((await failureOf(theirs.readNamespacedConfigMap({ name: 'c', namespace: 'f' }))).code).toBe(503);
      expect((await core.readNamespacedConfigMap({ name: 'c', namespace: 'f' })).metadata?.name).toBe('c');
      expect((await failureOf(theirs.readNamespacedConfigMap({ name: 'c', namespace: 'f' }))).code).toBe(503);
      expect((await theirs.listNamespacedConfigMap({ namespace: 'f' })).items).toHaveLength(1);
    } finally {
      sandbox.faults.clear();
    }
  });

  it('keeps failing for an outage (times: Infinity) until cleared', async () => {
    sandbox.faults.inject({ path: '/api', respond: 503, times: Infinity });
    for (let i = 0; i < 5; i++)
      expect((await failureOf(core.listNamespacedConfigMap({ namespace: 'f' }))).code).toBe(503);
    sandbox.faults.clear();
    expect((await core.listNamespacedConfigMap({ namespace: 'f' })).items).toHaveLength(1);
  });

  it('sends Retry-After with a 429', async () => {
    sandbox.faults.inject({ path: /configmaps/, respond: 429, retryAfterSeconds: 7 });
    const res = await raw(sandbox, 'GET', '/api/v1/namespaces/f/configmaps');
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(res.body.details.retryAfterSeconds).toBe(7);
  });

  it('matches the method: a PUT fault leaves GETs alone', async () => {
    sandbox.faults.inject({ method: 'PUT', path: '/api/v1/namespaces/f/configmaps/c', respond: 500 });
    const current = await core.readNamespacedConfigMap({ name: 'c', namespace: 'f' });
    const failed = await failureOf(core.replaceNamespacedConfigMap({ name: 'c', namespace: 'f', body: current }));
    expect(failed.code).toBe(500);
    await core.replaceNamespacedConfigMap({ name: 'c', namespace: 'f', body: { ...current, data: { ok: 'yes' } } });
  });

  it("interleaves another client's edit between a request and its answer, once", async () => {
    await core.createNamespace({ body: { metadata: { name: 'fi' } } });
    await core.createNamespacedConfigMap({
      namespace: 'fi',
      body: { metadata: { name: 'contested' }, data: { by: 'nobody' } },
    });
    const edit = async (by: string) => {
      const live = await core.readNamespacedConfigMap({ name: 'contested', namespace: 'fi' });
      return core.replaceNamespacedConfigMap({ name: 'contested', namespace: 'fi', body: { ...live, data: { by } } });
    };
    let editedBeforeTheAnswer = false;
    sandbox.faults.interleave({ method: 'PUT', path: '/api/v1/namespaces/fi/configmaps/contested' }, async () => {
      await edit('someone else');
      editedBeforeTheAnswer = true;
    });
    await core.readNamespacedConfigMap({ name: 'contested', namespace: 'fi' }); // a GET does not match
    const answer = await edit('me');
    expect(editedBeforeTheAnswer).toBe(true);
    // the answer is the object as this request stored it; the edit came after it
    expect(answer.data).toEqual({ by: 'me' });
    const live = await core.readNamespacedConfigMap({ name: 'contested', namespace: 'fi' });
    expect(live.data).toEqual({ by: 'someone else' });
    expect(Number(live.metadata?.resourceVersion)).toBeGreaterThan(Number(answer.metadata?.resourceVersion));
    expect((await edit('me again')).data).toEqual({ by: 'me again' });
    expect((await core.readNamespacedConfigMap({ name: 'contested', namespace: 'fi' })).data).toEqual({
      by: 'me again',
    });
  });

  it('hangs a request past the client timeout', async () => {
    sandbox.faults.inject({ path: '/api/v1/namespaces/f/configmaps', respond: 'hang', hangMs: 5000 });
    const started = Date.now();
    const outcome = await new Promise<string>((resolve) => {
      const req = request(
        `${sandbox.url}/api/v1/namespaces/f/configmaps`,
        { ca: sandbox.caCert, headers: { Authorization: `Bearer ${sandbox.token}` }, timeout: 300 },
        (res) => resolve(`answered ${res.statusCode ?? 0}`),
      );
      req.on('timeout', () => {
        req.destroy();
        resolve('timeout');
      });
      req.on('error', () => resolve('timeout'));
      req.end();
    });
    expect(outcome).toBe('timeout');
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect((await core.listNamespacedConfigMap({ namespace: 'f' })).items).toHaveLength(1);
  });
});

describe('RBAC-enforcing mode', () => {
  it('maps a token to a user and allows only what its Role binds', async () => {
    const rbac = await testSandbox({ workloads: false, rbac: true });
    try {
      const admin = rbac.kubeConfig().makeApiClient(CoreV1Api);
      await admin.createNamespace({ body: { metadata: { name: 'team' } } });
      const post = (path: string, body: unknown): Promise<{ status: number }> =>
        raw(rbac, 'POST', path, { body: JSON.stringify(body) });
      await post('/apis/rbac.authorization.k8s.io/v1/namespaces/team/roles', {
        metadata: { name: 'cm-reader' },
        rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }],
      });
      await post('/apis/rbac.authorization.k8s.io/v1/namespaces/team/rolebindings', {
        metadata: { name: 'bot-reads' },
        subjects: [{ kind: 'User', name: 'bot' }],
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'cm-reader' },
      });
      const token = 'bot-token';
      await rbac.addUser(token, { username: 'bot', groups: ['bots'] });
      const list = await raw(rbac, 'GET', '/api/v1/namespaces/team/configmaps', { token });
      expect(list.status).toBe(200);
      const create = await raw(rbac, 'POST', '/api/v1/namespaces/team/configmaps', {
        token,
        body: JSON.stringify({ metadata: { name: 'x' } }),
      });
      expect(create.status).toBe(403);
      expect(create.body).toMatchObject({ kind: 'Status', reason: 'Forbidden', code: 403 });
      expect(create.body.message).toBe(
        'configmaps is forbidden: User "bot" cannot create resource "configmaps" in API group "" in the namespace "team"',
      );
      const other = await raw(rbac, 'GET', '/api/v1/namespaces/default/configmaps', { token });
      expect(other.status).toBe(403);
      const whoami = await raw(rbac, 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
        token,
        body: '{}',
      });
      expect(whoami.body.status.userInfo).toEqual({ username: 'bot', groups: ['bots', 'system:authenticated'] });
    } finally {
      await rbac.close();
    }
  });

  it('evaluates ClusterRoles, group subjects, resourceNames and subresources', async () => {
    const rbac = await testSandbox({
      workloads: false,
      rbac: true,
      users: [
        {
          token: 'ctl',
          user: { username: 'system:serviceaccount:ops:kubestead', groups: ['system:serviceaccounts', 'rollouts'] },
        },
      ],
    });
    try {
      const post = async (path: string, body: unknown): Promise<void> => {
        const res = await raw(rbac, 'POST', path, { body: JSON.stringify(body) });
        expect(res.status, JSON.stringify(res.body)).toBe(201);
      };
      await post('/api/v1/namespaces', { metadata: { name: 'shop' } });
      await post('/apis/apps/v1/namespaces/shop/deployments', {
        metadata: { name: 'checkout' },
        spec: {
          selector: { matchLabels: { app: 'c' } },
          template: { metadata: { labels: { app: 'c' } }, spec: { containers: [{ name: 'c', image: 'c' }] } },
        },
      });
      await post('/apis/apps/v1/namespaces/shop/deployments', {
        metadata: { name: 'other' },
        spec: {
          selector: { matchLabels: { app: 'o' } },
          template: { metadata: { labels: { app: 'o' } }, spec: { containers: [{ name: 'c', image: 'c' }] } },
        },
      });
      await post('/apis/rbac.authorization.k8s.io/v1/clusterroles', {
        metadata: { name: 'scaler' },
        rules: [
          { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list', 'watch'] },
          {
            apiGroups: ['apps'],
            resources: ['deployments/scale'],
            resourceNames: ['checkout'],
            verbs: ['get', 'patch', 'update'],
          },
        ],
      });
      await post('/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
        metadata: { name: 'rollouts-scale' },
        subjects: [{ kind: 'Group', name: 'rollouts' }],
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'scaler' },
      });
      const as = (method: string, path: string, body?: unknown): Promise<{ status: number; body: Body }> =>
        raw(rbac, method, path, {
          token: 'ctl',
          body: body === undefined ? undefined : JSON.stringify(body),
          contentType: 'application/merge-patch+json',
        });
      expect((await as('GET', '/apis/apps/v1/deployments')).status).toBe(200);
      expect((await as('GET', '/apis/apps/v1/namespaces/shop/deployments?watch=1&timeoutSeconds=1')).status).toBe(200);
      expect(
        (await as('PATCH', '/apis/apps/v1/namespaces/shop/deployments/checkout/scale', { spec: { replicas: 3 } }))
          .status,
      ).toBe(200);
      const otherScale = await as('PATCH', '/apis/apps/v1/namespaces/shop/deployments/other/scale', {
        spec: { replicas: 3 },
      });
      expect(otherScale.status).toBe(403);
      expect(otherScale.body.message).toBe(
        'deployments.apps "other" is forbidden: User "system:serviceaccount:ops:kubestead" cannot patch resource "deployments/scale" in API group "apps" in the namespace "shop"',
      );
      expect(
        (await as('PATCH', '/apis/apps/v1/namespaces/shop/deployments/checkout', { spec: { replicas: 4 } })).status,
      ).toBe(403);
      expect((await as('DELETE', '/apis/apps/v1/namespaces/shop/deployments/checkout')).status).toBe(403);
      const secrets = await as('GET', '/api/v1/secrets');
      expect(secrets.body.message).toBe(
        'secrets is forbidden: User "system:serviceaccount:ops:kubestead" cannot list resource "secrets" in API group "" at the cluster scope',
      );
      expect((await as('GET', '/apis/apps/v1')).status).toBe(200);
    } finally {
      await rbac.close();
    }
  });
});
