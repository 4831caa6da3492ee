import type { KubeClients } from '../../../../adapters/kube/clients.js';
import { kubernetesSecretReader } from '../../../../adapters/secrets/kubernetes.js';
import type { Logger } from 'pino';
import type { Clock } from '../../../../lib/clock/clock.js';
import type { PolicyRef } from '../../recorder.js';
import type { SecretReader } from '../../../../adapters/secrets/reader.js';
import type { SegmentStore } from '../segments.js';
import { CursorStore } from './cursor.js';
import { Deliverer, type DeliveryOptions } from './deliverer.js';
import { destinationKey, policyDestination, readPolicyAudit, type Destination } from './destination.js';

export interface DeliveriesOptions extends DeliveryOptions {
  /** The operator-wide destination, for every policy (in addition to its own spec.audit.webhook). */
  webhook?: Destination;
  /** Reads webhook secrets (default: the Kubernetes API of the recorder's kubeconfig). */
  secrets?: SecretReader;
  keepAfterDeletion: boolean;
}

interface PolicyDeliveries {
  generation: number;
  deliverers: Map<string, Deliverer>;
}

/** Every policy's deliverers: the chain in the cluster is the outbox, one cursor per destination. */
export class Deliveries {
  private readonly byPolicy = new Map<string, PolicyDeliveries>();
  private readonly resolving = new Map<string, Promise<Map<string, Deliverer>>>();
  private readonly cursors: CursorStore;
  readonly secrets: SecretReader;

  constructor(
    private readonly clients: KubeClients,
    private readonly segments: SegmentStore,
    private readonly deps: { clock: Clock; logger: Logger; signal: AbortSignal; options: DeliveriesOptions },
  ) {
    this.cursors = new CursorStore(clients, deps.options.keepAfterDeletion);
    this.secrets = deps.options.secrets ?? kubernetesSecretReader(clients, { clock: deps.clock });
  }

  /** The chain of `policy` has grown to `headSeq` (-1: unknown): deliver what each destination lacks. */
  async wake(policy: PolicyRef, headSeq: number): Promise<void> {
    const deliverers = await this.deliverersOf(policy);
    for (const deliverer of deliverers.values()) deliverer.wake(policy, headSeq);
  }

  /** The largest number of stored entries a destination of the policy has not acknowledged. */
  backlog(uid: string): number {
    const deliverers = this.byPolicy.get(uid)?.deliverers.values() ?? [];
    return Math.max(0, ...[...deliverers].map((d) => d.backlog()));
  }

  /** The lowest seq every destination has acknowledged (entries up to it may be pruned); null: no destination. */
  async deliveredThrough(policy: PolicyRef): Promise<number | null> {
    const deliverers = [...(await this.deliverersOf(policy)).values()];
    if (deliverers.length === 0) return null;
    return Math.min(...deliverers.map((d) => d.delivered ?? -1));
  }

  /** The last delivery error per destination of the policy. */
  errors(uid: string): string[] {
    return [...(this.byPolicy.get(uid)?.deliverers.values() ?? [])].flatMap((d) => (d.lastError ? [d.lastError] : []));
  }

  /** Drops a policy's deliverers (a deleted policy); a loop still running goes on until caught up or stopped. */
  forget(uid: string): void {
    this.byPolicy.delete(uid);
  }

  async idle(): Promise<void> {
    await Promise.all([...this.byPolicy.values()].flatMap((p) => [...p.deliverers.values()].map((d) => d.idle())));
  }

  /** The policy's deliverers, resolved once per generation (concurrent callers share one resolution). */
  private deliverersOf(policy: PolicyRef): Promise<Map<string, Deliverer>> {
    const known = this.byPolicy.get(policy.uid);
    if (known && known.generation === policy.generation) return Promise.resolve(known.deliverers);
    let resolving = this.resolving.get(policy.uid);
    if (!resolving) {
      resolving = this.resolve(policy, known).finally(() => this.resolving.delete(policy.uid));
      this.resolving.set(policy.uid, resolving);
    }
    return resolving;
  }

  private async resolve(policy: PolicyRef, known: PolicyDeliveries | undefined): Promise<Map<string, Deliverer>> {
    const destinations = await this.destinationsOf(policy, known);
    const deliverers = new Map<string, Deliverer>();
    for (const destination of destinations) {
      const key = destinationKey(destination);
      deliverers.set(
        key,
        known?.deliverers.get(key) ??
          new Deliverer(policy, destination, {
            ...this.deps,
            segments: this.segments,
            cursors: this.cursors,
            secrets: this.secrets,
            options: this.deps.options,
          }),
      );
    }
    this.byPolicy.set(policy.uid, { generation: policy.generation, deliverers });
    return deliverers;
  }

  private async destinationsOf(policy: PolicyRef, known: PolicyDeliveries | undefined): Promise<Destination[]> {
    let own: Destination | null;
    try {
      own = policyDestination(policy, await readPolicyAudit(this.clients, policy));
    } catch (error) {
      if (known) return [...known.deliverers.values()].map((d) => d.destination);
      this.deps.logger.warn(
        { policy: `${policy.namespace}/${policy.name}` },
        `cannot read spec.audit of the policy: ${(error as Error).message}`,
      );
      own = null;
    }
    return [...(own ? [own] : []), ...(this.deps.options.webhook ? [this.deps.options.webhook] : [])];
  }
}
