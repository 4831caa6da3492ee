import {
  AppsV1Api,
  AutoscalingV2Api,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type V1Deployment,
} from '@kubernetes/client-node';
import type { LoggedRequest, Sandbox } from '@kubestead/sandbox';
import { kubeVerb } from '../../src/adapters/kube/requests.js';
import { POLICY_RESOURCE } from '../../src/adapters/kube/names.js';
import type { PolicyStatus } from '../../src/pipeline/policy/status.js';
import { Receiver } from '../notify/receiver.js';
import { CASES, createObject, type Manifest } from '../routers/cases.js';
import { installRouterCrds, thirdPartyCrdsPresent } from '../routers/support.js';
import { mintSecret, mintWebhookSecret } from '../support/secrets.js';
import { waitFor } from '../support/wait.js';
import { startFakePrometheus, type FakePrometheus } from '../tick/fake-prometheus.js';

/**
 * Every feature of the product that calls the Kubernetes API, played at once in one RBAC-enforcing
 * sandbox by one `kubestead run --shards auto` holding exactly the shipped rules (test/deploy/rbac-run.test.ts):
 * each feature is a policy in a namespace of its own, labelled so that `--shard-selector` gives them to that
 * process and the shop demo's leader-elected process keeps to its namespace.
 */

/** The label of the feature policies, and the `--shard-selector` of the process that acts on them. */
export const FEATURES_SELECTOR = 'kubestead.io/rbac-run=features';
const LABELS = { 'kubestead.io/rbac-run': 'features' };

/**
 * Every call the product makes (grep src/ for the client calls: src/adapters/kube, routers, secrets,
 * src/pipeline/record/audit, src/runtime/controller's informers, leader election and shard membership),
 * as `verb resource[/subresource][.group]`: the run must reach each, so that a rule missing from the manifest
 * shows as a 403 here and not in a user's cluster. Not reached here, by design: the dashboard's tokenreviews and
 * subjectaccessreviews (`run --dashboard-addr`, test/dashboard), Secret copies of `configTracking: {secrets: true}`
 * (an optional kustomize component) and the deletion of audit segments past retention (days).
 */
export const PRODUCT_CALLS = [
  // src/runtime/controller/informers.ts (list, then watch), src/adapters/kube/client.ts, the finalizer (patch)
  'list rolloutpolicies.kubestead.io',
  'watch rolloutpolicies.kubestead.io',
  'get rolloutpolicies.kubestead.io',
  'patch rolloutpolicies.kubestead.io',
  'update rolloutpolicies/status.kubestead.io',
  'list deployments.apps',
  'watch deployments.apps',
  'get deployments.apps',
  'create deployments.apps',
  'update deployments.apps',
  'delete deployments.apps',
  'get deployments/scale.apps',
  'patch deployments/scale.apps',
  'list replicasets.apps',
  'watch replicasets.apps',
  'list pods',
  'watch pods',
  'list events',
  'watch events',
  'create events',
  // the HPA copy: src/runtime/tick/autoscale.ts, the hand-back (src/runtime/tick/finalizer.ts)
  'list horizontalpodautoscalers.autoscaling',
  'watch horizontalpodautoscalers.autoscaling',
  'get horizontalpodautoscalers.autoscaling',
  'create horizontalpodautoscalers.autoscaling',
  'update horizontalpodautoscalers.autoscaling',
  'delete horizontalpodautoscalers.autoscaling',
  // audit segments, rollback reports, SIEM and notification cursors, config tracking's copies
  'get configmaps',
  'list configmaps',
  'create configmaps',
  'update configmaps',
  'delete configmaps',
  // provider, SIEM and notification Secrets (src/adapters/secrets)
  'get secrets',
  // src/adapters/routers/services.ts and blue-green.ts
  'get services',
  'list services',
  'create services',
  'update services',
  'delete services',
  'get virtualservices.networking.istio.io',
  'update virtualservices.networking.istio.io',
  'get destinationrules.networking.istio.io',
  'update destinationrules.networking.istio.io',
  'get httproutes.gateway.networking.k8s.io',
  'update httproutes.gateway.networking.k8s.io',
  'get trafficsplits.split.smi-spec.io',
  'update trafficsplits.split.smi-spec.io',
  'get ingresses.networking.k8s.io',
  'create ingresses.networking.k8s.io',
  'update ingresses.networking.k8s.io',
  'delete ingresses.networking.k8s.io',
  // leader election (src/runtime/controller/leader.ts) and shard membership (shards.ts)
  'get leases.coordination.k8s.io',
  'list leases.coordination.k8s.io',
  'create leases.coordination.k8s.io',
  'update leases.coordination.k8s.io',
] as const;

/** `verb resource[/sub][.group]` of a request to the resource API (undefined for discovery and the like). */
export function callOf(request: Pick<LoggedRequest, 'method' | 'path' | 'query'>): string | undefined {
  const parts = request.path.split('/').filter(Boolean);
  const [group, rest]: [string, string[]] =
    parts[0] === 'api' ? ['', parts.slice(2)] : parts[0] === 'apis' ? [parts[1] ?? '', parts.slice(3)] : ['', []];
  const scoped = rest[0] === 'namespaces' && rest.length >= 3 ? rest.slice(2) : rest;
  const [resource, , sub] = scoped;
  if (!resource) return undefined;
  const verb = kubeVerb(request.method, `${request.path}${request.query}`);
  return `${verb} ${resource}${sub ? `/${sub}` : ''}${group ? `.${group}` : ''}`;
}

/**
 * What one user asked of the sandbox, from the first request on: every call reached, and every one refused (403).
 * The sandbox's request log is a ring of the newest 10,000, too few for a whole run, so each request is taken as it
 * is logged. A watch is logged when it ends: the calls of a process's watches show once it stopped.
 */
export class CallTally {
  readonly reached = new Set<string>();
  readonly denied: string[] = [];

  constructor(sandbox: Sandbox, user: string) {
    const log = sandbox.requests;
    const add = log.add.bind(log);
    log.add = (entry) => {
      add(entry);
      if (entry.user !== user) return;
      const call = callOf(entry) ?? `${entry.method} ${entry.path}`;
      this.reached.add(call);
      if (entry.code === 403) this.denied.push(`403 ${call} (${entry.method} ${entry.path})`);
    };
  }

  /** The calls of `expected` this run has not reached (yet). */
  missing(expected: readonly string[]): string[] {
    return expected.filter((call) => !this.reached.has(call));
  }
}

const STRATEGIC = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);
const APP = { app: 'checkout' };
const ROUTED = CASES.filter((c) => c.name !== 'istio'); // istio with subsets writes the DestinationRule too
const ROUTER_GROUPS = /\.(networking\.istio\.io|gateway\.networking\.k8s\.io|split\.smi-spec\.io|networking\.k8s\.io)$/;

/** The namespaces of the features, by what each plays. */
export const FEATURE_NAMESPACES = {
  rollback: 'rbac-rollback',
  handBack: 'rbac-hand-back',
  blueGreen: 'rbac-blue-green',
  routers: ROUTED.map((c) => `rbac-${c.name.split(' ')[0]!.toLowerCase()}`),
};

async function createApp(sandbox: Sandbox, namespace: string, config = false): Promise<void> {
  const core = sandbox.client(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  if (config)
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'settings' }, data: { mode: 'a' } } });
  const deployment: V1Deployment = {
    metadata: { name: 'checkout', labels: APP },
    spec: {
      replicas: 2,
      selector: { matchLabels: APP },
      template: {
        metadata: { labels: APP },
        spec: {
          containers: [
            {
              name: 'app',
              image: 'shop/checkout:1',
              ports: [{ containerPort: 8080 }],
              ...(config ? { envFrom: [{ configMapRef: { name: 'settings' } }] } : {}),
            },
          ],
        },
      },
    },
  };
  await sandbox.client(AppsV1Api).createNamespacedDeployment({ namespace, body: deployment });
  await core.createNamespacedService({
    namespace,
    body: {
      metadata: { name: 'checkout' },
      spec: { selector: APP, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] },
    },
  });
}

async function createSecret(sandbox: Sandbox, namespace: string, name: string, data: Record<string, string>) {
  await sandbox.client(CoreV1Api).createNamespacedSecret({ namespace, body: { metadata: { name }, stringData: data } });
}

/** The policy of a feature: 1 s interval, one step at 50 % for `soak`, one check on `prometheus`. */
function policyOf(namespace: string, prometheus: string, spec: Record<string, unknown>, soak = '1s'): Manifest {
  return {
    apiVersion: 'kubestead.io/v1alpha1',
    kind: 'RolloutPolicy',
    metadata: { name: 'checkout', namespace, labels: LABELS },
    spec: {
      targetRef: { kind: 'Deployment', name: 'checkout' },
      interval: '1s',
      steps: [{ weight: 50, soak }],
      providers: { prom: { prometheus: { address: prometheus } } },
      checks: [{ name: 'errors', provider: 'prom', query: 'sum(rate(errors[1m]))', max: 0.05 }],
      ...spec,
    },
  };
}

/** The features' world: the stand-in Prometheus (passing and failing) and the SIEM and notification receiver. */
export class Features {
  /** The calls this run must reach: the product's, less the routers' without their CRDs (a user's clone). */
  readonly calls: readonly string[];

  private constructor(
    readonly sandbox: Sandbox,
    private readonly passing: FakePrometheus,
    private readonly failing: FakePrometheus,
    readonly receiver: Receiver,
    private readonly routed: typeof ROUTED,
  ) {
    this.calls = routed.length ? PRODUCT_CALLS : PRODUCT_CALLS.filter((call) => !ROUTER_GROUPS.test(call));
  }

  /** Creates every feature's namespace, app, Secrets and route objects (as an admin); the policies come in `play`. */
  static async prepare(sandbox: Sandbox): Promise<Features> {
    const routed = thirdPartyCrdsPresent() ? ROUTED : []; // loud when absent, fatal in CI
    if (routed.length) await installRouterCrds(sandbox);
    const features = new Features(
      sandbox,
      await startFakePrometheus(0.001),
      await startFakePrometheus(1),
      await new Receiver().start(),
      routed,
    );
    const ns = FEATURE_NAMESPACES;
    await createApp(sandbox, ns.rollback);
    await createApp(sandbox, ns.handBack, true);
    await sandbox.client(AutoscalingV2Api).createNamespacedHorizontalPodAutoscaler({
      namespace: ns.handBack,
      body: {
        metadata: { name: 'checkout' },
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'checkout' },
          minReplicas: 2,
          maxReplicas: 4,
        },
      },
    });
    await createApp(sandbox, ns.blueGreen);
    await createSecret(sandbox, ns.blueGreen, 'prom-auth', { token: mintSecret('prom-token') });
    await createSecret(sandbox, ns.blueGreen, 'siem', { hmac: mintWebhookSecret('siem-hmac') });
    await createSecret(sandbox, ns.blueGreen, 'hooks', { signing: mintWebhookSecret('notify-signing') });
    for (const [i, rc] of routed.entries()) {
      await createApp(sandbox, ns.routers[i]!);
      for (const object of rc.objects()) await createObject(sandbox, ns.routers[i]!, object);
    }
    return features;
  }

  async close(): Promise<void> {
    await Promise.all([this.passing.close(), this.failing.close(), this.receiver.close()]);
  }

  /** Every feature at once; resolves when each reached its end, or rejects with the first that did not. */
  async play(): Promise<void> {
    const ns = FEATURE_NAMESPACES;
    await Promise.all([
      this.rollback(ns.rollback),
      this.handBack(ns.handBack),
      this.blueGreen(ns.blueGreen),
      ...this.routed.map((rc, i) =>
        this.promotion(
          ns.routers[i]!,
          // 5 s: the step's soak counts from its start, not from the weight given once the canary is ready; a
          // soak shorter than the canary's start can promote before the router ever wrote the canary's weight
          policyOf(ns.routers[i]!, this.passing.url, { trafficRouting: rc.trafficRouting }, '5s'),
        ),
      ),
    ]);
  }

  /** A release whose check fails: rolled back, with its report (configmaps) and Events. */
  private async rollback(namespace: string): Promise<void> {
    await this.adopted(namespace, policyOf(namespace, this.failing.url, {}));
    await this.release(namespace);
    await this.until(namespace, 'RolledBack', (s) => s.phase === 'RolledBack');
  }

  /**
   * The HPA copy and the hand-back: primary gets its HPA (create), the user's HPA changes (update), the policy is
   * deleted mid-canary: the target is handed back and primary, its HPA and its config copy are deleted.
   */
  private async handBack(namespace: string): Promise<void> {
    await this.adopted(namespace, policyOf(namespace, this.passing.url, {}, '10m'));
    const hpas = this.sandbox.client(AutoscalingV2Api);
    const copy = () => hpas.readNamespacedHorizontalPodAutoscaler({ namespace, name: 'checkout-primary' });
    await waitFor(() => copy().catch(() => undefined), 20_000, `${namespace}: primary's HPA`);
    await hpas.patchNamespacedHorizontalPodAutoscaler(
      { namespace, name: 'checkout', body: { spec: { maxReplicas: 5 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await waitFor(async () => (await copy()).spec?.maxReplicas === 5, 20_000, `${namespace}: the HPA change copied`);
    await this.release(namespace);
    await this.until(namespace, 'Progressing', (s) => s.phase === 'Progressing');
    await this.sandbox
      .client(CustomObjectsApi)
      .deleteNamespacedCustomObject({ ...POLICY_RESOURCE, namespace, name: 'checkout' });
    const gone = (read: Promise<unknown>) =>
      read.then(
        () => false,
        (e: { code?: number }) => e.code === 404,
      );
    await waitFor(
      async () =>
        (await gone(this.policy(namespace))) &&
        (await gone(copy())) &&
        (await gone(
          this.sandbox.client(AppsV1Api).readNamespacedDeployment({ namespace, name: 'checkout-primary' }),
        )) &&
        (await gone(this.sandbox.client(CoreV1Api).readNamespacedConfigMap({ namespace, name: 'settings-primary' }))),
      30_000,
      `${namespace}: handed back (the policy, primary, its HPA and its config copy gone)`,
    );
  }

  /** Blue-green, with a provider Secret, the SIEM and a notification webhook (each Secret read by name). */
  private async blueGreen(namespace: string): Promise<void> {
    const url = this.receiver.url;
    const policy = policyOf(namespace, this.passing.url, {
      strategy: 'blueGreen',
      blueGreen: { previewService: 'checkout-preview', soak: '1s', autoPromote: true, scaleDownDelay: '1s' },
      providers: {
        prom: { prometheus: { address: this.passing.url, bearerTokenSecretRef: { name: 'prom-auth', key: 'token' } } },
      },
      audit: { webhook: { url: `${url}/siem`, secretRef: { name: 'siem', key: 'hmac' } } },
      notifications: [
        { name: 'pager', webhook: { url: `${url}/notify`, secretRef: { name: 'hooks', key: 'signing' } } },
      ],
    });
    delete (policy.spec as { steps?: unknown }).steps; // blue-green has none
    await this.promotion(namespace, policy);
    await waitFor(
      () =>
        this.receiver.accepted('/siem').length > 0 &&
        this.receiver.accepted('/notify').some((r) => r.json.type === 'kubestead.rollout.promoted'),
      20_000,
      `${namespace}: the SIEM and the notification webhook received`,
    );
  }

  /** Adopted, released, promoted. */
  private async promotion(namespace: string, policy: Manifest): Promise<void> {
    await this.adopted(namespace, policy);
    await this.release(namespace);
    await this.until(namespace, 'Succeeded', (s) => s.phase === 'Succeeded');
  }

  private async adopted(namespace: string, policy: Manifest): Promise<void> {
    await createObject(this.sandbox, namespace, policy);
    await this.until(namespace, 'Idle', (s) => s.phase === 'Idle');
  }

  /** `kubectl set image deployment/checkout app=shop/checkout:2`. */
  private async release(namespace: string): Promise<void> {
    await this.sandbox.client(AppsV1Api).patchNamespacedDeployment(
      {
        namespace,
        name: 'checkout',
        body: { spec: { template: { spec: { containers: [{ name: 'app', image: 'shop/checkout:2' }] } } } },
      },
      STRATEGIC,
    );
  }

  private policy(namespace: string): Promise<{ status?: PolicyStatus }> {
    return this.sandbox
      .client(CustomObjectsApi)
      .getNamespacedCustomObject({ ...POLICY_RESOURCE, namespace, name: 'checkout' }) as Promise<{
      status?: PolicyStatus;
    }>;
  }

  private async until(namespace: string, what: string, done: (s: PolicyStatus) => boolean): Promise<void> {
    let last: PolicyStatus = {};
    await waitFor(
      async () => {
        last = (await this.policy(namespace)).status ?? {};
        return done(last);
      },
      45_000,
      () => `${namespace}: phase ${what}; status is ${JSON.stringify(last)}`,
    );
  }
}
