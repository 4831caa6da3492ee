/**
 * The controller's permissions: the one place they are declared. Each rule names the code that
 * needs it; a verb no code calls is not granted. docs/operating.md lists them with the reasons.
 */
export interface RbacRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  /** Which code calls it and why (kept out of the manifest; printed in docs/operating.md). */
  why: string;
}

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'update', 'patch', 'delete'];

/** Cluster-wide rules (ClusterRole `kubestead-controller`): policies live in any namespace. */
export const CLUSTER_RULES: readonly RbacRule[] = [
  {
    apiGroups: ['kubestead.io'],
    resources: ['rolloutpolicies'],
    verbs: [...READ, 'patch', 'update'],
    why:
      'src/runtime/controller informer lists and watches policies; the tick consumes the override annotation with ' +
      'a merge patch and adds or removes the finalizer (update)',
  },
  {
    apiGroups: ['kubestead.io'],
    resources: ['rolloutpolicies/status'],
    verbs: ['get', 'patch', 'update'],
    why:
      'src/pipeline/record writes status (phase, step, weights, lastDecision, checks, conditions) with the ' +
      'resourceVersion read',
  },
  {
    apiGroups: ['kubestead.io'],
    resources: ['rolloutpolicies/finalizers'],
    verbs: ['update'],
    why:
      'clusters with the OwnerReferencesPermissionEnforcement admission plugin ask for it when an object created ' +
      'by the controller (primary Deployment, Services, audit ConfigMaps) gets an owner reference to its policy',
  },
  {
    apiGroups: ['apps'],
    resources: ['deployments'],
    verbs: [...READ, 'create', 'update', 'delete'],
    why:
      'src/pipeline/actuate creates, updates (a replace with the resourceVersion read) and finally deletes ' +
      '`<target>-primary`; the informer watches targets for template changes; replica counts go through /scale (next ' +
      'rule)',
  },
  {
    apiGroups: ['apps'],
    resources: ['deployments/scale'],
    verbs: ['get', 'patch', 'update'],
    why:
      'src/adapters/routers/replicas.ts scales canary and primary through /scale, so an HPA or GitOps tool owning ' +
      'replicas is not fought',
  },
  {
    apiGroups: ['apps'],
    resources: ['replicasets'],
    verbs: READ,
    why:
      'src/pipeline/facts tells canary from primary pods by their ReplicaSet (pod-template-hash) ' +
      'and reads revisions',
  },
  {
    apiGroups: ['autoscaling'],
    resources: ['horizontalpodautoscalers'],
    verbs: ['get', 'list', 'watch', 'create', 'update', 'delete'],
    why:
      "src/runtime/controller's informer lists and watches HPAs (autoscaling/v2) to find the one that scales a " +
      "target (docs/hpa.md); src/runtime/tick/autoscale.ts creates `<target>-primary`'s own HPA, replaces it when " +
      "the user's changes or a promotion holds its minimum (read fresh with get, since its controller writes its " +
      "status often) and deletes it; the user's HPA is never written",
  },
  {
    apiGroups: [''],
    resources: ['pods'],
    verbs: READ,
    why: 'src/pipeline/facts reads canary readiness and container restarts (podHealth)',
  },
  {
    apiGroups: [''],
    resources: ['events'],
    verbs: ['create', 'patch', 'list', 'watch'],
    why:
      'src/pipeline/record emits Events (core/v1 for older clients); src/pipeline/facts counts Warning events of ' +
      'canary pods',
  },
  {
    apiGroups: ['events.k8s.io'],
    resources: ['events'],
    verbs: ['create', 'patch', 'list', 'watch'],
    why:
      'src/pipeline/record emits events.k8s.io/v1 Events with reportingController kubestead.io/controller, and ' +
      'patches a repeated one',
  },
  {
    apiGroups: [''],
    resources: ['configmaps'],
    verbs: ['get', 'list', 'create', 'update', 'patch', 'delete'],
    why:
      'src/pipeline/record/audit keeps the hash-chained audit segments, rollback reports and webhook delivery ' +
      'cursors as ConfigMaps in the policy namespace, and deletes segments past retention; config tracking ' +
      "reads the ConfigMaps a target's pods read and writes primary's copies of them (`<name>-primary`)",
  },
  {
    apiGroups: [''],
    resources: ['secrets'],
    verbs: ['get'],
    why:
      'src/adapters/secrets reads only the Secret a provider or webhook names (secretRef), in the policy ' +
      'namespace; never list or watch',
  },
  {
    apiGroups: [''],
    resources: ['services'],
    verbs: ['get', 'list', 'create', 'update', 'patch', 'delete'],
    why:
      'src/adapters/routers/services.ts creates the `-canary` and `-primary` Services that mesh and ingress ' +
      "routers send traffic to, and blue-green's preview Service; src/adapters/routers/blue-green.ts updates one " +
      "selector key of the user's Service (blue-green with replica routing)",
  },
  {
    apiGroups: ['networking.istio.io'],
    resources: ['virtualservices', 'destinationrules'],
    verbs: [...READ, ...WRITE],
    why: 'src/adapters/routers/istio.ts sets route weights and subsets',
  },
  {
    apiGroups: ['gateway.networking.k8s.io'],
    resources: ['httproutes'],
    verbs: [...READ, ...WRITE],
    why: 'src/adapters/routers/gateway-api.ts sets backendRef weights',
  },
  {
    apiGroups: ['split.smi-spec.io'],
    resources: ['trafficsplits'],
    verbs: [...READ, ...WRITE],
    why: 'src/adapters/routers/smi.ts sets backend weights',
  },
  {
    apiGroups: ['networking.k8s.io'],
    resources: ['ingresses'],
    verbs: [...READ, ...WRITE],
    why: 'src/adapters/routers/nginx.ts creates the canary Ingress and sets its canary-weight annotations',
  },
  {
    apiGroups: ['authentication.k8s.io'],
    resources: ['tokenreviews'],
    verbs: ['create'],
    why: "src/tools/dashboard/access-token.ts: `run --dashboard-addr` checks each request's bearer token",
  },
  {
    apiGroups: ['authorization.k8s.io'],
    resources: ['subjectaccessreviews'],
    verbs: ['create'],
    why: 'src/tools/dashboard/access-token.ts: the dashboard shows a namespace only to a user who may list its policies',
  },
];

/**
 * Only with the kustomize component `deploy/components/secret-tracking` (ClusterRole
 * `kubestead-secret-tracking`): what `configTracking: {secrets: true}` needs beyond the base. Not in the
 * base because write access to every Secret of the cluster is a grant an operator should choose.
 */
export const SECRET_TRACKING_RULES: readonly RbacRule[] = [
  {
    apiGroups: [''],
    resources: ['secrets'],
    verbs: ['get', 'create', 'update', 'delete'],
    why:
      "config tracking with `secrets: true` reads the Secrets a target's pods read and creates, updates and finally " +
      "deletes primary's copies of them (`<name>-primary`, by name: never list or watch); the user's are never written",
  },
];

/** Rules in the controller's own namespace (Role `kubestead-leader-election`). */
export const NAMESPACE_RULES: readonly RbacRule[] = [
  {
    apiGroups: ['coordination.k8s.io'],
    resources: ['leases'],
    verbs: ['get', 'list', 'create', 'update'],
    why:
      'src/runtime/controller leader election: one Lease in kubestead-system, read, created once, renewed; ' +
      'with --shards auto one membership Lease per replica, and the peers listed by label',
  },
];

/** A rule as it appears in a ClusterRole or Role (without the reason). */
export function manifestRule(rule: RbacRule): { apiGroups: string[]; resources: string[]; verbs: string[] } {
  return { apiGroups: [...rule.apiGroups], resources: [...rule.resources], verbs: [...rule.verbs] };
}
