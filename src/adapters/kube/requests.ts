import { createHash } from 'node:crypto';
import type { Agent, AgentOptions } from 'node:https';
import { createSecureContext } from 'node:tls';
import {
  IsomorphicFetchHttpLibrary,
  KubeConfig,
  Observable,
  ServerConfiguration,
  createConfiguration,
  wrapHttpLibrary,
  type ApiType,
  type ApiConstructor,
  type Cluster,
  type ConfigurationOptions,
  type RequestContext,
  type ResponseContext,
} from '@kubernetes/client-node';

/**
 * Told of every request the operator sends to the API server: its Kubernetes verb and HTTP code ('error' when none
 * came).
 */
export type RequestObserver = (verb: string, code: string) => void;

const WRITE_VERBS: Record<string, string> = { POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };

/** The Kubernetes verb of a request (get, list, watch, create, update, patch, delete, deletecollection). */
export function kubeVerb(method: string, url: string): string {
  const upper = method.toUpperCase();
  const parsed = new URL(url, 'https://x');
  if (upper === 'GET' && /^(1|true)$/.test(parsed.searchParams.get('watch') ?? '')) return 'watch';
  const collection = isCollection(parsed.pathname);
  if (upper === 'GET') return collection ? 'list' : 'get';
  if (upper === 'DELETE' && collection) return 'deletecollection';
  return WRITE_VERBS[upper] ?? upper.toLowerCase();
}

/** `/api/v1/namespaces/ns/pods` and `/apis/apps/v1/deployments` name collections; one more segment names an object. */
function isCollection(path: string): boolean {
  const segments = path.split('/').filter(Boolean);
  const rest = segments[0] === 'api' ? segments.slice(2) : segments.slice(3);
  if (rest[0] === 'namespaces' && rest.length >= 3) return rest.length === 3;
  return rest.length === 1;
}

/**
 * A KubeConfig whose API clients report every request (verb and code) to an observer: the generated
 * clients of client-node 1.4 send through a configurable HttpLibrary, which is wrapped here. Watches
 * do not go through it; the watch wrapper (watch.ts) reports those.
 */
export class ObservedKubeConfig extends KubeConfig {
  constructor(
    source: KubeConfig,
    private readonly observer: RequestObserver,
  ) {
    super();
    this.loadFromOptions({
      clusters: source.clusters,
      users: source.users,
      contexts: source.contexts,
      currentContext: source.currentContext,
    });
    reuseAgents(this);
  }

  override makeApiClient<T extends ApiType>(apiClientType: ApiConstructor<T>): T {
    const cluster = this.getCurrentCluster();
    if (!cluster) throw new Error('No active cluster!');
    const config = createConfiguration({
      baseServer: new ServerConfiguration(cluster.server, {}),
      authMethods: { default: this },
      httpApi: wrapHttpLibrary({ send: (request) => this.send(request) }),
    });
    return new apiClientType(config);
  }

  /** Reports a watch request (sent by client-node's Watch, not through makeApiClient). */
  observe(verb: string, code: string): void {
    this.observer(verb, code);
  }

  private async send(request: RequestContext): Promise<ResponseContext> {
    const verb = kubeVerb(request.getHttpMethod(), request.getUrl());
    try {
      const response = await new IsomorphicFetchHttpLibrary().send(request).toPromise();
      this.observer(verb, String(response.httpStatusCode));
      return response;
    } catch (error) {
      this.observer(verb, 'error');
      throw error;
    }
  }
}

type AgentFactory = (cluster: Cluster | null, options: AgentOptions) => Agent;

/**
 * Each open TLS connection costs about 60 KiB of OpenSSL's memory, which malloc keeps after it
 * closes: a burst of a thousand requests once left the controller 60 MiB larger for good. So a
 * burst queues for at most 64 connections (well above the operator's six watches, each of which
 * holds one, and its 32 reconciles), and at most 16 idle ones stay open (Node's default is 256).
 */
export const CONNECTION_LIMITS = {
  keepAlive: true,
  maxSockets: 64,
  maxFreeSockets: 16,
} as const satisfies AgentOptions;

/**
 * client-node 1.4 makes a new https.Agent for every request (KubeConfig's private createAgent), so
 * every request pays a full TLS handshake, and building each TLS context blocks the event loop
 * (measured: most of the controller's CPU with 100 policies). This keeps one keep-alive agent per
 * distinct set of TLS options (a rotated client certificate gets a new one). Every KubeConfig of a
 * long-running process needs it: measured with 25 GETs a second for 40 s, a fresh agent per request
 * cost 3.1 ms of CPU a request and grew the RSS from 130 to 279 MiB (OpenSSL's per-connection
 * memory, fragmenting malloc's arenas); reused, 0.56 ms and a flat 130 MiB.
 */
export function reuseAgents(config: KubeConfig): void {
  const target = config as unknown as { createAgent: AgentFactory };
  const original = target.createAgent.bind(config);
  const agents = new Map<string, Agent>();
  target.createAgent = (cluster, options) => {
    // Hashed as they are (no base64 or JSON of the certificates): this runs for every request.
    const hash = createHash('sha1');
    for (const part of [
      cluster?.server,
      cluster?.proxyUrl,
      options.ca,
      options.cert,
      options.key,
      options.rejectUnauthorized,
      options.servername,
    ].flat()) {
      hash.update(Buffer.isBuffer(part) ? part : (JSON.stringify(part) ?? '')).update('\u0000');
    }
    const key = hash.digest('hex');
    let agent = agents.get(key);
    if (!agent) {
      if (agents.size >= 4) agents.clear();
      agent = original(cluster, { ...options, ...CONNECTION_LIMITS, ...sharedTlsContext(cluster, options) });
      agents.set(key, agent);
    }
    return agent;
  };
}

/**
 * One TLS context for all of an agent's connections. Without it, every new connection builds its
 * own from the CA and client certificate (tls.connect's default), and the first seconds of a
 * controller with a thousand policies open many at once. Not for a proxy's agent.
 */
function sharedTlsContext(cluster: Cluster | null, options: AgentOptions): Pick<AgentOptions, 'secureContext'> {
  if (cluster?.proxyUrl || !cluster?.server.startsWith('https:')) return {};
  return {
    secureContext: createSecureContext({
      ca: options.ca,
      cert: options.cert,
      key: options.key,
      pfx: options.pfx,
      passphrase: options.passphrase,
    }),
  };
}

/** Per-call options of a generated client that abort the request with `signal` (client-node 1.4 has no other way). */
export function withSignal(signal: AbortSignal): ConfigurationOptions {
  const middleware = {
    pre: (context: RequestContext): Observable<RequestContext> => {
      context.setSignal(signal);
      return new Observable(Promise.resolve(context));
    },
    post: (context: ResponseContext): Observable<ResponseContext> => new Observable(Promise.resolve(context)),
  };
  return { middleware: [middleware], middlewareMergeStrategy: 'append' };
}
