import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket, connect } from 'node:net';
import { resolve } from 'node:path';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, type V1Deployment } from '@kubernetes/client-node';
import { parse } from 'yaml';
import type { Sandbox, SandboxOptions } from '@kubestead/sandbox';
import { ROOT } from '../helpers.js';
import { raw, testSandbox } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';

export const POLICY = { group: 'kubestead.io', version: 'v1alpha1', plural: 'rolloutpolicies' };

/** A sandbox with the RolloutPolicy CRD installed (as raw JSON: the typed client would drop parts of its schema). */
export async function sandboxWithCrd(options: SandboxOptions = {}): Promise<Sandbox> {
  const sandbox = await testSandbox(options);
  const crd = parse(readFileSync(resolve(ROOT, 'crds/rolloutpolicies.kubestead.io.yaml'), 'utf8')) as unknown;
  const created = await raw(sandbox, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
    body: JSON.stringify(crd),
    contentType: 'application/json',
  });
  if (created.status !== 201) throw new Error(`CRD not created: ${created.status} ${JSON.stringify(created.body)}`);
  await waitFor(
    async () => (await raw(sandbox, 'GET', '/apis/kubestead.io/v1alpha1/rolloutpolicies')).status === 200,
    5000,
    'the CRD to be served',
  );
  return sandbox;
}

export async function createNamespace(sandbox: Sandbox, name: string): Promise<void> {
  await sandbox.client(CoreV1Api).createNamespace({ body: { metadata: { name } } });
}

export function policyBody(name: string, target: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'kubestead.io/v1alpha1',
    kind: 'RolloutPolicy',
    metadata: { name },
    spec: {
      targetRef: { kind: 'Deployment', name: target },
      interval: '10s',
      steps: [{ weight: 10 }, { weight: 50 }],
      ...extra,
    },
  };
}

export async function createPolicy(sandbox: Sandbox, namespace: string, name: string, target: string): Promise<void> {
  await sandbox
    .client(CustomObjectsApi)
    .createNamespacedCustomObject({ ...POLICY, namespace, body: policyBody(name, target) });
}

export function deploymentBody(
  name: string,
  labels: Record<string, string> = { app: name },
  replicas = 2,
): V1Deployment {
  return {
    metadata: { name, labels },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name: 'app', image: 'example/app:1' }] } },
    },
  };
}

export async function createDeployment(
  sandbox: Sandbox,
  namespace: string,
  name: string,
  labels?: Record<string, string>,
): Promise<void> {
  await sandbox.client(AppsV1Api).createNamespacedDeployment({ namespace, body: deploymentBody(name, labels) });
}

/**
 * A TCP proxy in front of the sandbox: a client configured through it can be cut off from the API
 * server (every connection reset, new ones refused) while other clients keep talking to it.
 */
export class CuttableProxy {
  private readonly sockets = new Set<Socket>();
  private cut = false;
  private readonly server: Server;
  port = 0;

  constructor(private readonly target: number) {
    this.server = createServer((client) => {
      if (this.cut) {
        client.destroy();
        return;
      }
      const upstream = connect(this.target, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
  }

  async listen(): Promise<this> {
    await new Promise<void>((done) => this.server.listen(0, '127.0.0.1', () => done()));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  /** A KubeConfig of the sandbox's admin that goes through this proxy (TLS still checked against the sandbox's CA). */
  kubeConfig(sandbox: Sandbox): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromString(sandbox.kubeconfig);
    const cluster = kc.getCurrentCluster()!;
    kc.loadFromOptions({
      clusters: [{ ...cluster, server: `https://127.0.0.1:${this.port}` }],
      users: kc.users,
      contexts: kc.contexts,
      currentContext: kc.currentContext,
    });
    return kc;
  }

  cutOff(): void {
    this.cut = true;
    for (const s of this.sockets) s.destroy();
  }

  restore(): void {
    this.cut = false;
  }

  async close(): Promise<void> {
    this.cutOff();
    await new Promise<void>((done) => this.server.close(() => done()));
  }
}
