import type { Api } from './api.js';
import { randomIn, Timers, wallClock, type SandboxClock } from './clock.js';
import type { ResourceType } from './registry.js';
import type { StoreEvent } from './store.js';

/** The ServiceAccount every namespace has (pods without `serviceAccountName` run as it). */
export const DEFAULT_SERVICE_ACCOUNT = 'default';

/**
 * The service-account controller of kube-controller-manager: a `default` ServiceAccount in every
 * active namespace, made again when it is deleted. It acts after the controllers' lag, as the real
 * one does from its queue, so a pod created in the first instants of a namespace may be refused.
 */
export class ServiceAccountController {
  private readonly timers: Timers;
  private readonly pending = new Set<string>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly api: Api,
    clock: SandboxClock = wallClock,
    private readonly lagMs: readonly [number, number] = [0, 0],
  ) {
    this.timers = new Timers(clock);
    this.unsubscribe = api.store.subscribe((event) => this.onEvent(event));
  }

  /** A `default` ServiceAccount in every namespace now (a fresh or loaded cluster starts with them). */
  ensureAll(): void {
    for (const ns of this.api.store.list('/namespaces')) this.ensure(ns.metadata.name ?? '');
  }

  close(): void {
    this.unsubscribe();
    this.timers.close();
  }

  private onEvent(event: StoreEvent): void {
    if (event.gr === '/namespaces' && event.type === 'ADDED') this.later(event.object.metadata.name ?? '');
    else if (
      event.gr === '/serviceaccounts' &&
      event.type === 'DELETED' &&
      event.object.metadata.name === DEFAULT_SERVICE_ACCOUNT
    )
      this.later(event.object.metadata.namespace ?? '');
  }

  private later(namespace: string): void {
    if (this.pending.has(namespace) || this.timers.closed) return;
    this.pending.add(namespace);
    this.timers.after(randomIn(this.lagMs), () => {
      this.pending.delete(namespace);
      this.ensure(namespace);
    });
  }

  private ensure(namespace: string): void {
    const ns = this.api.store.get('/namespaces', undefined, namespace);
    if (!ns || ns.metadata.deletionTimestamp) return;
    const type = this.type();
    if (this.api.find(type, namespace, DEFAULT_SERVICE_ACCOUNT)) return;
    this.api.createAsSystem(type, {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: DEFAULT_SERVICE_ACCOUNT, namespace },
    });
  }

  private type(): ResourceType {
    const type = this.api.registry.get('', 'serviceaccounts');
    if (!type) throw new Error('built-in serviceaccounts missing');
    return type;
  }
}
