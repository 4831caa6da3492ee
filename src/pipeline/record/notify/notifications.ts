import type { KubeClients } from '../../../adapters/kube/clients.js';
import type { NotificationHealth, PolicyRef } from '../recorder.js';
import { policyNotifications, readPolicyNotifications, type NotifyDestination } from './destination.js';
import { Notifier, type NotifierDeps, type NotifyOptions } from './deliverer.js';

export interface NotificationsOptions extends NotifyOptions {
  /** The operator-wide destinations, for every policy without its own spec.notifications. */
  defaults?: NotifyDestination[];
  observe?: NotifierDeps['observe'];
}

export type { NotificationHealth };

interface PolicyNotifiers {
  generation: number;
  notifiers: Map<string, Notifier>;
}

/** Every policy's notifiers, resolved from spec.notifications once per generation. */
export class Notifications {
  private readonly byPolicy = new Map<string, PolicyNotifiers>();
  private readonly resolving = new Map<string, Promise<Map<string, Notifier>>>();

  constructor(
    private readonly clients: KubeClients,
    private readonly deps: Omit<NotifierDeps, 'options' | 'observe'> & { options: NotificationsOptions },
  ) {}

  /** The chain of `policy` has grown to `headSeq` (-1: resume): send what each destination lacks. */
  async wake(policy: PolicyRef, headSeq: number): Promise<void> {
    for (const notifier of (await this.notifiersOf(policy)).values()) notifier.wake(policy, headSeq);
  }

  health(uid: string): NotificationHealth {
    const notifiers = [...(this.byPolicy.get(uid)?.notifiers.values() ?? [])];
    const failing = notifiers.filter((n) => n.degraded);
    const destinations = notifiers.length;
    if (failing.length === 0)
      return {
        degraded: false,
        destinations,
        reason: 'NotificationsDelivered',
        message: 'notifications are delivered',
      };
    const message = failing.map((n) => `${n.destination.name}: ${n.lastError ?? 'failing'}`).join('; ');
    return { degraded: true, destinations, reason: 'NotificationsFailing', message };
  }

  forget(uid: string): void {
    this.byPolicy.delete(uid);
  }

  async idle(): Promise<void> {
    await Promise.all([...this.byPolicy.values()].flatMap((p) => [...p.notifiers.values()].map((n) => n.idle())));
  }

  private notifiersOf(policy: PolicyRef): Promise<Map<string, Notifier>> {
    const known = this.byPolicy.get(policy.uid);
    if (known && known.generation === policy.generation) return Promise.resolve(known.notifiers);
    let resolving = this.resolving.get(policy.uid);
    if (!resolving) {
      resolving = this.resolve(policy, known).finally(() => this.resolving.delete(policy.uid));
      this.resolving.set(policy.uid, resolving);
    }
    return resolving;
  }

  private async resolve(policy: PolicyRef, known: PolicyNotifiers | undefined): Promise<Map<string, Notifier>> {
    const notifiers = new Map<string, Notifier>();
    const deps = { ...this.deps, ...(this.deps.options.observe ? { observe: this.deps.options.observe } : {}) };
    for (const destination of await this.destinationsOf(policy, known)) {
      const same = known?.notifiers.get(destination.name);
      const unchanged = same && JSON.stringify(same.destination) === JSON.stringify(destination);
      notifiers.set(destination.name, unchanged ? same : new Notifier(policy, destination, deps));
    }
    this.byPolicy.set(policy.uid, { generation: policy.generation, notifiers });
    return notifiers;
  }

  private async destinationsOf(policy: PolicyRef, known: PolicyNotifiers | undefined): Promise<NotifyDestination[]> {
    let own: NotifyDestination[];
    try {
      own = policyNotifications(policy, await readPolicyNotifications(this.clients, policy));
    } catch (error) {
      if (known) return [...known.notifiers.values()].map((n) => n.destination);
      this.deps.logger.warn(
        { policy: `${policy.namespace}/${policy.name}` },
        `cannot read spec.notifications of the policy: ${(error as Error).message}`,
      );
      own = [];
    }
    // The operator-wide destinations are the default: a policy with its own notifications uses only those.
    return own.length > 0 ? own : [...(this.deps.options.defaults ?? [])];
  }
}
