import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import type { Server } from 'node:https';
import { join } from 'node:path';
import { KubeConfig, type ApiConstructor, type ApiType } from '@kubernetes/client-node';
import { Api } from './api.js';
import { ADMIN_USER, newToken, TokenAuthenticator, type UserInfo } from './auth.js';
import { INITIAL_NAMESPACES, registerBuiltins } from './builtins.js';
import { DEFAULT_CLUSTER_ROLES } from './default-roles.js';
import { generateServingCerts } from './certs.js';
import { Faults } from './faults.js';
import { INSTANT_TIMING, REALISTIC_TIMING, wallClock, type SandboxClock, type Timing } from './clock.js';
import { GarbageCollector } from './gc.js';
import { renderKubeconfig, writeKubeconfig } from './kubeconfig.js';
import { ensureNode } from './node.js';
import { RbacAuthorizer } from './rbac.js';
import { Registry } from './registry.js';
import { RequestLog } from './request-log.js';
import { ScaleLog } from './scale-log.js';
import { createApiServer } from './server.js';
import { loadState, readState, saveState, SandboxInputError, type Identity, type Snapshot } from './state.js';
import { ServiceAccountController } from './service-accounts.js';
import { Store } from './store.js';
import { WatchHub } from './watch.js';
import { HpaController } from './hpa-controller.js';
import { Workloads, type WorkloadOptions } from './workloads.js';

export type { FaultRule, FaultResponse } from './faults.js';
export type { PodBehaviour, WorkloadOptions } from './workloads.js';
export type { UserInfo } from './auth.js';
export type { LoggedRequest, RequestLog } from './request-log.js';
export type { ScaleLog, ScaleWrite } from './scale-log.js';
export type { KObject } from './types.js';
export type { SandboxClock, Timing } from './clock.js';
export { INSTANT_TIMING, REALISTIC_TIMING } from './clock.js';
export { Faults } from './faults.js';
export { Workloads } from './workloads.js';
export { CPU_LOAD_ANNOTATION, CPU_LOAD_PODS_ANNOTATION } from './hpa-controller.js';
export { Api } from './api.js';
export { SandboxInputError } from './state.js';

export interface SandboxOptions {
  /** Loopback port; 0 picks a free one. Default: the port kept in `statePath`, else 0. */
  port?: number;
  /** Where to write the kubeconfig (default: a new temporary folder, removed on close). */
  kubeconfigPath?: string;
  /** The admin bearer token (default: random). */
  token?: string;
  /** Simulated workloads (default on); `false` turns the controllers off. */
  workloads?: WorkloadOptions | false;
  /** How often watches with allowWatchBookmarks get a BOOKMARK (default 60 s, as the API server). */
  bookmarkIntervalMs?: number;
  /** Watch history kept for resuming watches (events, default 50,000); older resourceVersions get 410. */
  historyLimit?: number;
  /**
   * Load state from this file if it exists, and snapshot into it at start and on close (mode 0600). Besides the
   * objects it keeps the sandbox's identity (CA, serving certificate and key, tokens, port): restarted from it,
   * the sandbox is the same server to clients that kept its kubeconfig.
   */
  statePath?: string;
  /** Enforce RBAC for users other than system:masters (Role/ClusterRole + bindings). */
  rbac?: boolean;
  /** Extra token users (for RBAC tests). */
  users?: Array<{ token: string; user: UserInfo }>;
  /** Called with unexpected (500) errors of requests. */
  onError?: (error: unknown) => void;
  /** The time source of every timer of the sandbox (default: wall time). */
  clock?: SandboxClock;
  /**
   * How slow the sandbox is: controllers' lag, pod grace, watch lifetime. Default: REALISTIC_TIMING,
   * merged with what is given; `false` makes it instant (no lag, pods removed at once, watches never closed).
   */
  timing?: Partial<Timing> | false;
  /** How often the HorizontalPodAutoscaler controller syncs (default 15 s, as kube-controller-manager). */
  hpaSyncMs?: number;
}

export interface Sandbox {
  url: string;
  port: number;
  kubeconfigPath: string;
  kubeconfig: string;
  token: string;
  caCert: string;
  /** The in-process API (what the server serves), for direct inspection in tests. */
  api: Api;
  faults: Faults;
  /** The requests answered (the newest 10,000): count writes, retries, faults seen by a client. */
  requests: RequestLog;
  /** Every change of a Deployment's (or any scalable object's) replicas, by any writer, the sandbox's HPAs included. */
  scales: ScaleLog;
  /** The simulated workloads; undefined when turned off. */
  workloads: Workloads | undefined;
  /** A client-node KubeConfig pointing at the sandbox (admin token). */
  kubeConfig(): KubeConfig;
  /** A client-node API client for the sandbox, e.g. `sandbox.client(AppsV1Api)`. */
  client<T extends ApiType>(api: ApiConstructor<T>): T;
  /** A kubeconfig for another token user (RBAC), written beside the admin one; returns its path. */
  addUser(token: string, user: UserInfo): Promise<string>;
  close(): Promise<void>;
}

function timingOf(options: SandboxOptions): Timing {
  return options.timing === false ? INSTANT_TIMING : { ...REALISTIC_TIMING, ...options.timing };
}

function buildCore(
  options: SandboxOptions,
  clock: SandboxClock,
  timing: Timing,
): { api: Api; hub: WatchHub; gc: GarbageCollector; serviceAccounts: ServiceAccountController; hpas: HpaController } {
  const registry = new Registry();
  registerBuiltins(registry);
  const store = new Store(options.historyLimit ?? 50_000);
  const api = new Api(registry, store, () => new Date(clock.now()));
  const namespaces = registry.get('', 'namespaces');
  for (const name of INITIAL_NAMESPACES) if (namespaces) api.createAsSystem(namespaces, { metadata: { name } });
  const clusterRoles = registry.get('rbac.authorization.k8s.io', 'clusterroles');
  for (const role of DEFAULT_CLUSTER_ROLES) if (clusterRoles) api.createAsSystem(clusterRoles, role);
  const hub = new WatchHub(store, {
    clock,
    bookmarkIntervalMs: options.bookmarkIntervalMs ?? 60_000,
    lifetimeMs: timing.watchLifetimeMs,
  });
  return {
    api,
    hub,
    gc: new GarbageCollector(api, clock, timing.controllerLagMs),
    serviceAccounts: new ServiceAccountController(api, clock, timing.controllerLagMs),
    hpas: new HpaController(api, clock, options.hpaSyncMs ?? 15_000),
  };
}

function startWorkloads(api: Api, options: SandboxOptions, clock: SandboxClock, timing: Timing): Workloads | undefined {
  if (options.workloads === false) return undefined;
  api.gracefulPods = timing.podGraceMs > 0;
  return new Workloads(api, options.workloads ?? {}, { clock, timing });
}

async function listen(server: Server, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('sandbox: no port');
  return address.port;
}

function authenticator(identity: Identity): TokenAuthenticator {
  const auth = new TokenAuthenticator();
  auth.add(identity.token, ADMIN_USER);
  for (const u of identity.users) auth.add(u.token, u.user);
  return auth;
}

/** The token users: those kept in the state, then the options' (which win for the same token). */
function usersOf(kept: Identity | undefined, given: Array<{ token: string; user: UserInfo }>): Identity['users'] {
  return [...(kept?.users ?? []).filter((k) => !given.some((u) => u.token === k.token)), ...given];
}

/** The identity kept in the state, or a new one; the options' token, users and port win over the state's. */
async function identityOf(options: SandboxOptions, snapshot: Snapshot | undefined): Promise<Identity> {
  const kept = snapshot?.identity;
  return {
    certs: kept ? kept.certs : await generateServingCerts(),
    token: options.token ?? kept?.token ?? newToken(),
    users: usersOf(kept, options.users ?? []),
    port: options.port ?? kept?.port ?? 0,
  };
}

async function listenOn(server: Server, identity: Identity, options: SandboxOptions): Promise<number> {
  try {
    return await listen(server, identity.port);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    const kept = options.port === undefined ? ` (kept in ${options.statePath ?? ''})` : '';
    throw new SandboxInputError(`port ${identity.port}${kept} is in use: stop what holds it, or give another port`);
  }
}

async function kubeconfigLocation(path: string | undefined): Promise<{ tempDir?: string; kubeconfigPath: string }> {
  if (path) return { kubeconfigPath: path };
  const tempDir = await mkdtemp(join(tmpdir(), 'kubestead-sandbox-'));
  return { tempDir, kubeconfigPath: join(tempDir, 'kubeconfig') };
}

function kubeConfigOf(kubeconfig: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfig);
  return kc;
}

/** The API, its controllers and the state it was loaded from (if any). */
async function buildLoaded(options: SandboxOptions, clock: SandboxClock, timing: Timing) {
  const core = buildCore(options, clock, timing);
  const snapshot = options.statePath ? await readState(options.statePath) : undefined;
  if (snapshot) loadState(core.api, snapshot);
  core.serviceAccounts.ensureAll();
  ensureNode(core.api);
  return { ...core, identity: await identityOf(options, snapshot) };
}

/** Starts the sandbox cluster: an HTTPS Kubernetes API on a loopback port, with simulated workloads. */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const clock = options.clock ?? wallClock;
  const timing = timingOf(options);
  const { api, hub, gc, serviceAccounts, hpas, identity } = await buildLoaded(options, clock, timing);
  const { certs, token } = identity;
  const auth = authenticator(identity);
  const faults = new Faults({ dropWatches: (abrupt) => hub.dropAll(abrupt), compact: () => api.store.compact() });
  const rbac = options.rbac ? new RbacAuthorizer(api) : undefined;
  const requests = new RequestLog();
  const { server, releaseHanging } = createApiServer(certs, {
    api,
    hub,
    faults,
    auth,
    rbac,
    onError: options.onError,
    log: requests,
  });
  identity.port = await listenOn(server, identity, options);
  const url = `https://127.0.0.1:${identity.port}`;
  const save = async (): Promise<void> => {
    if (options.statePath) await saveState(api, options.statePath, identity);
  };
  await save();
  const { tempDir, kubeconfigPath } = await kubeconfigLocation(options.kubeconfigPath);
  await writeKubeconfig(kubeconfigPath, { server: url, caCert: certs.caCert, token });
  const workloads = startWorkloads(api, options, clock, timing);
  const kubeconfig = renderKubeconfig({ server: url, caCert: certs.caCert, token });
  return {
    url,
    port: identity.port,
    kubeconfigPath,
    kubeconfig,
    token,
    caCert: certs.caCert,
    api,
    faults,
    requests,
    scales: ScaleLog.of(api, clock),
    workloads,
    kubeConfig: () => kubeConfigOf(kubeconfig),
    client: (apiType) => kubeConfigOf(kubeconfig).makeApiClient(apiType),
    async addUser(userToken, user) {
      auth.add(userToken, user);
      identity.users = [...identity.users.filter((u) => u.token !== userToken), { token: userToken, user }];
      const path = `${kubeconfigPath}.${user.username.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
      await writeKubeconfig(path, { server: url, caCert: certs.caCert, token: userToken, user: user.username });
      return path;
    },
    async close() {
      for (const controller of [workloads, hpas, gc, serviceAccounts]) controller?.close();
      hub.dropAll(true);
      releaseHanging();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await save();
      if (tempDir) await rm(tempDir, { recursive: true, force: true });
    },
  };
}
