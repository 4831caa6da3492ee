import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../src/index.js';
import { testSandbox } from '../../../test/support/sandbox.js';
import { waitFor } from '../../../test/support/wait.js';

/** The real kubectl: skipped only when absent outside CI; under CI=true its absence fails. */
const KUBECTL = '/usr/bin/kubectl';
const present = existsSync(KUBECTL);

describe('kubectl availability', () => {
  it('is installed when CI=true', () => {
    if (process.env.CI === 'true') expect(present, `${KUBECTL} is required in CI`).toBe(true);
  });
});

let sandbox: Sandbox;
let dir: string;

function kubectl(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve) => {
    execFile(
      KUBECTL,
      ['--kubeconfig', sandbox.kubeconfigPath, '--cache-dir', join(dir, 'cache'), ...args],
      { timeout: 20_000, env: { PATH: process.env.PATH ?? '', HOME: dir } },
      (error, stdout, stderr) => {
        resolve({ stdout, stderr, code: error ? (typeof error.code === 'number' ? error.code : 1) : 0 });
      },
    );
  });
}

async function ok(...args: string[]): Promise<string> {
  const r = await kubectl(...args);
  expect(r.code, `kubectl ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

const CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
      scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [size]
            properties:
              size: {type: string, enum: [small, large]}
              replicas: {type: integer, minimum: 0}
`;

const widget = (size: string, extra = ''): string => `apiVersion: example.com/v1
kind: Widget
metadata: {name: w1, namespace: kc}
spec: {size: ${size}${extra}}
`;

const deployment = (image: string): string => `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: kc}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: app
        image: ${image}
        env: [{name: A, value: "1"}]
`;

describe.skipIf(!present)('the real kubectl against the sandbox', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kubestead-kubectl-'));
    // kubectl get --watch ends when the server closes its watch (as on a cluster after 30–60 min): long enough here
    sandbox = await testSandbox({
      kubeconfigPath: join(dir, 'kubeconfig'),
      timing: { watchLifetimeMs: [30_000, 60_000] },
    });
    await ok('apply', '-f', await file('ns.yaml', 'apiVersion: v1\nkind: Namespace\nmetadata: {name: kc}\n'));
  });
  afterAll(async () => {
    await sandbox?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('sends the bearer token (auth whoami)', async () => {
    const out = await ok('auth', 'whoami', '-o', 'json');
    expect(JSON.parse(out).status.userInfo.username).toBe('kubestead-admin');
  });

  it('applies a CRD and a custom resource of it, then re-applies a change (merge patch)', async () => {
    expect(await ok('apply', '-f', await file('crd.yaml', CRD))).toContain(
      'customresourcedefinition.apiextensions.k8s.io/widgets.example.com created',
    );
    expect(await ok('apply', '-f', await file('w.yaml', widget('small')))).toContain('widget.example.com/w1 created');
    expect(await ok('apply', '-f', await file('w.yaml', widget('large')))).toContain(
      'widget.example.com/w1 configured',
    );
    const w = JSON.parse(await ok('get', 'widget', 'w1', '-n', 'kc', '-o', 'json'));
    expect(w.spec).toEqual({ size: 'large' });
    expect(JSON.parse(String(w.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'])).spec).toEqual(
      { size: 'large' },
    );
    expect(w.metadata.generation).toBe(2);
  });

  it('reports schema violations and unknown fields from apply', async () => {
    const bad = await kubectl('apply', '-f', await file('bad.yaml', widget('huge')));
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('Unsupported value: "huge"');
    const unknown = await kubectl('apply', '-f', await file('unknown.yaml', widget('small', ', colour: red')));
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('unknown field "spec.colour"');
  });

  it('patches, scales, annotates and deletes', async () => {
    await ok('patch', 'widget', 'w1', '-n', 'kc', '--type', 'merge', '-p', '{"spec":{"size":"small"}}');
    await ok('scale', 'widget', 'w1', '-n', 'kc', '--replicas', '3');
    await ok('annotate', 'widget', 'w1', '-n', 'kc', 'team=payments');
    const w = JSON.parse(await ok('get', 'wd', 'w1', '-n', 'kc', '-o', 'json'));
    expect(w.spec).toEqual({ size: 'small', replicas: 3 });
    expect(w.metadata.annotations.team).toBe('payments');
    expect(await ok('delete', 'widget', 'w1', '-n', 'kc')).toContain('widget.example.com "w1" deleted');
    const gone = await kubectl('get', 'widget', 'w1', '-n', 'kc');
    expect(gone.stderr).toContain('NotFound');
  });

  it('applies a Deployment twice (strategic merge patch) and the workloads roll it', async () => {
    await ok('apply', '-f', await file('d.yaml', deployment('app:1')));
    await ok('rollout', 'status', 'deployment/web', '-n', 'kc', '--timeout=15s');
    expect(await ok('apply', '-f', await file('d.yaml', deployment('app:2')))).toContain(
      'deployment.apps/web configured',
    );
    await ok('rollout', 'status', 'deployment/web', '-n', 'kc', '--timeout=15s');
    const d = JSON.parse(await ok('get', 'deploy', 'web', '-n', 'kc', '-o', 'json'));
    expect(d.spec.template.spec.containers[0]).toMatchObject({ image: 'app:2', env: [{ name: 'A', value: '1' }] });
    expect(d.status).toMatchObject({ replicas: 2, readyReplicas: 2, updatedReplicas: 2 });
    await ok('scale', 'deployment', 'web', '-n', 'kc', '--replicas', '3');
    await waitFor(
      async () => JSON.parse(await ok('get', 'deploy', 'web', '-n', 'kc', '-o', 'json')).status.readyReplicas === 3,
      8000,
      'three ready',
    );
    const pods = JSON.parse(await ok('get', 'pods', '-n', 'kc', '-l', 'app=web', '-o', 'json'));
    expect(pods.items).toHaveLength(3);
  });

  it('accepts the protobuf bodies of the typed create commands', async () => {
    await ok('create', 'namespace', 'typed');
    await ok('create', 'configmap', 'c1', '-n', 'typed', '--from-literal=a=b');
    await ok('create', 'secret', 'generic', 's1', '-n', 'typed', '--from-literal=pw=hunter2');
    await ok('create', 'serviceaccount', 'bot', '-n', 'typed');
    await ok('create', 'deployment', 'api', '-n', 'typed', '--image=api:1', '--replicas=2', '--port=8080');
    await ok('expose', 'deployment', 'api', '-n', 'typed', '--port=80', '--target-port=8080');
    expect(JSON.parse(await ok('get', 'configmap', 'c1', '-n', 'typed', '-o', 'json')).data).toEqual({ a: 'b' });
    expect(JSON.parse(await ok('get', 'secret', 's1', '-n', 'typed', '-o', 'json')).data).toEqual({
      pw: Buffer.from('hunter2').toString('base64'),
    });
    const d = JSON.parse(await ok('get', 'deployment', 'api', '-n', 'typed', '-o', 'json'));
    expect(d.spec).toMatchObject({ replicas: 2, selector: { matchLabels: { app: 'api' } } });
    expect(d.spec.template.spec.containers[0]).toMatchObject({
      name: 'api',
      image: 'api:1',
      ports: [{ containerPort: 8080, protocol: 'TCP' }],
    });
    const svc = JSON.parse(await ok('get', 'service', 'api', '-n', 'typed', '-o', 'json'));
    expect(svc.spec).toMatchObject({
      selector: { app: 'api' },
      ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }],
      type: 'ClusterIP',
    });
    await ok('rollout', 'status', 'deployment/api', '-n', 'typed', '--timeout=15s');
  });

  it('prints the server-side Table columns in get', async () => {
    const deploy = (await ok('get', 'deployment', 'web', '-n', 'kc')).split('\n');
    expect(deploy[0]).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE$/);
    expect(deploy[1]).toMatch(/^web\s+3\/3\s+3\s+3\s+\d+s$/);
    const pods = (await ok('get', 'pods', '-n', 'kc', '--no-headers')).trim().split('\n');
    expect(pods).toHaveLength(3);
    for (const line of pods) expect(line).toMatch(/^web-[a-z0-9]+-[a-z0-9]{5}\s+1\/1\s+Running\s+0\s+\d+s$/);
    const wide = (await ok('get', 'deployment', 'web', '-n', 'kc', '-o', 'wide')).split('\n');
    expect(wide[0]).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR$/);
    expect(wide[1]).toMatch(/\s+app\s+app:2\s+app=web$/);
  });

  it('watches with get --watch, bounded by a timeout', async () => {
    await ok('create', 'configmap', 'seed', '-n', 'kc', '--dry-run=client', '-o', 'json')
      .then((json) => file('seed.json', json))
      .then((p) => ok('create', '-f', p));
    const child = spawn(
      KUBECTL,
      [
        '--kubeconfig',
        sandbox.kubeconfigPath,
        '--cache-dir',
        join(dir, 'cache'),
        'get',
        'configmaps',
        '-n',
        'kc',
        '--watch',
        '--output-watch-events',
        '-o',
        'json',
        '--request-timeout=10s',
      ],
      { env: { PATH: process.env.PATH ?? '', HOME: dir } },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const killer = setTimeout(() => child.kill(), 10_000);
    try {
      await waitFor(() => out.includes('"seed"'), 8000, 'the initial event');
      await ok('annotate', 'configmap', 'seed', '-n', 'kc', 'x=y');
      await ok('delete', 'configmap', 'seed', '-n', 'kc');
      await waitFor(() => out.includes('"DELETED"'), 8000, 'the DELETED event');
    } finally {
      clearTimeout(killer);
      child.kill();
    }
    const types = [...out.matchAll(/"type":\s*"(ADDED|MODIFIED|DELETED)"/g)].map((m) => m[1]);
    expect(types).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
  });
});
