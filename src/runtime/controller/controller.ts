import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { mapLimit } from '../../lib/async/map-limit.js';
import { isoNow, type Clock } from '../../lib/clock/clock.js';
import { parseDuration } from '../../pipeline/policy/duration.js';
import type { DecisionRecord, PolicyRef, Recorder } from '../../pipeline/record/recorder.js';
import type { PolicyObject } from '../../adapters/kube/cache.js';
import type { TickObserver } from './deps.js';
import { keyOf, type InformerCache } from './informer-cache.js';
import type { WorkQueue } from './queue.js';
import { keyString, type PolicyKey } from '../../adapters/kube/names.js';

/** What of a policy counts as a change (a new tick, and a terminal failure lifted): not its status, which we write. */
function changeMark(policy: PolicyObject): string {
  const m = policy.metadata ?? {};
  return JSON.stringify([
    m.generation,
    m.annotations ?? {},
    m.deletionTimestamp ?? null,
    m.finalizers ?? [],
    m.labels ?? {},
  ]);
}

/** A policy's spec.interval in ms; undefined when absent or malformed (the reconciler reports that). */
export function intervalMs(policy: PolicyObject | undefined): number | undefined {
  const interval = (policy?.spec as { interval?: unknown } | undefined)?.interval;
  const seconds = typeof interval === 'string' ? parseDuration(interval) : typeof interval === 'undefined' ? 30 : null;
  return seconds === null || seconds <= 0 ? undefined : seconds * 1000;
}

export interface ControllerOptions {
  cache: InformerCache;
  queue: WorkQueue;
  clock: Clock;
  logger: Logger;
  observer: TickObserver;
  /** A burst of events about one policy's objects becomes one reconcile this much later (default 1 s). */
  relatedDelayMs?: number;
  /** Told on activation to resume what it left undone (SIEM delivery), and of each deleted policy. */
  recorder?: Recorder;
}

/** How many policies resume their audit trail at once when this replica starts acting. */
const RESUME_CONCURRENCY = 8;

/** The controller event of a replica that won the Lease, for the policy's audit chain. */
function leaderChange(ref: PolicyRef, policy: PolicyObject, identity: string, time: string): DecisionRecord {
  const status = (policy.status ?? {}) as { currentStep?: number; canaryRevision?: string };
  const message = `${identity} became the leader`;
  return {
    kind: 'event',
    time,
    policy: ref,
    message,
    controller: identity,
    decision: {
      action: 'hold',
      reasons: [{ rule: 'leader-change', message }],
      step: status.currentStep ?? 0,
      nextStep: null,
    },
    ...(status.canaryRevision !== undefined ? { revision: status.canaryRevision } : {}),
  };
}

/** A policy object as the recorder's reference to it. */
const policyRef = (policy: PolicyObject): PolicyRef => ({
  namespace: policy.metadata?.namespace ?? '',
  name: policy.metadata?.name ?? '',
  uid: policy.metadata?.uid ?? '',
  generation: policy.metadata?.generation ?? 0,
});

/**
 * Turns informer events into queue entries: a change of a policy (not of its status) reconciles it and
 * lifts a terminal failure; a change of its target or `<target>-primary` does too; its ReplicaSets,
 * pods and their Warning Events reconcile it soon, a burst becoming one reconcile. A deleted policy is
 * forgotten everywhere.
 */
export class Controller {
  private readonly marks = new Map<string, string>();
  private activating: AbortController | null = null;

  constructor(private readonly options: ControllerOptions) {
    const { cache } = options;
    const related = options.relatedDelayMs ?? 1000;
    const informers = cache.informers;
    informers.policies.on('add', (p) => this.policyChanged(p));
    informers.policies.on('update', (p) => this.policyChanged(p));
    informers.policies.on('delete', (p) => this.policyDeleted(p));
    const deploymentChanged = (d: KubernetesObject): void =>
      this.enqueue(cache.policiesOfDeployment(ns(d), d.metadata?.name ?? ''), 0, true);
    for (const verb of ['add', 'update', 'delete'] as const) {
      informers.deployments.on(verb, deploymentChanged);
      informers.replicaSets.on(verb, (rs) =>
        this.enqueue(cache.policiesOfReplicaSet(ns(rs), rs.metadata?.name ?? '', rs), related, false),
      );
      informers.pods.on(verb, (pod) =>
        this.enqueue(cache.policiesOfPod(ns(pod), pod.metadata?.name ?? '', pod), related, false),
      );
      informers.events.on(verb, (event) => this.enqueue(cache.policiesOfEvent(event), related, false));
      // An HPA's spec or its count changed, or it came or went: its target's policy shows it and follows it soon.
      informers.autoscalers.on(verb, (hpa) => this.enqueue(cache.policiesOfAutoscaler(hpa), related, false));
    }
  }

  /** This replica may act: once the cache has synced, every policy is due at once. */
  async activate(isLeader: () => boolean, newLeader?: string): Promise<void> {
    this.activating?.abort();
    const activating = new AbortController();
    this.activating = activating;
    while (!this.options.cache.synced()) {
      try {
        await this.options.clock.sleep(100, activating.signal);
      } catch {
        return;
      }
    }
    if (!isLeader() || activating.signal.aborted) return;
    this.options.logger.info(
      { policies: this.options.cache.allPolicies().length },
      'caches synced; reconciling every policy',
    );
    this.options.queue.activate(this.options.cache.allPolicies());
    this.resumeRecorder(newLeader, activating.signal);
  }

  /**
   * A new leader records the leader change on every policy's chain; it (or a restarted process)
   * then delivers what the previous one left undelivered: the chain is the outbox. A few policies
   * at a time: each reads its policy and chain, and a thousand at once would open a thousand
   * connections to the API server (measured: 60 MiB of memory that a process never gives back).
   */
  private resumeRecorder(newLeader: string | undefined, signal: AbortSignal): void {
    const { recorder, cache, logger, clock } = this.options;
    if (!recorder) return;
    const policies = cache.allPolicies().flatMap((key) => {
      const policy = cache.policy(key);
      return policy?.metadata?.uid ? [{ key, policy }] : [];
    });
    void mapLimit(policies, RESUME_CONCURRENCY, async ({ key, policy }) => {
      if (signal.aborted) return;
      const ref = policyRef(policy);
      try {
        if (newLeader !== undefined) await recorder.record(leaderChange(ref, policy, newLeader, isoNow(clock)));
        await recorder.deliverPending?.(ref);
      } catch (error) {
        logger.warn(
          { namespace: key.namespace, policy: key.name },
          `audit: leader change not recorded or delivery not resumed: ${(error as Error).message}`,
        );
      }
    });
  }

  /**
   * The operator is shutting down: stop waiting for the caches to sync (a pending wait would keep the process alive).
   */
  stopActivating(): void {
    this.activating?.abort();
  }

  /** This replica must stop acting now: reconciles in flight are aborted. */
  deactivate(reason: string): void {
    this.stopActivating();
    this.options.queue.deactivate(new Error(reason));
  }

  private policyChanged(policy: PolicyObject): void {
    const id = keyString(keyOf(policy));
    const mark = changeMark(policy);
    if (this.marks.get(id) === mark) return;
    this.marks.set(id, mark);
    this.options.queue.add(keyOf(policy), 0, true);
  }

  private policyDeleted(policy: PolicyObject): void {
    const key = keyOf(policy);
    this.marks.delete(keyString(key));
    this.options.queue.forget(key);
    this.options.observer.phase(keyString(key), null);
    if (policy.metadata?.uid) this.options.recorder?.forget?.({ uid: policy.metadata.uid });
  }

  private enqueue(keys: PolicyKey[], delayMs: number, change: boolean): void {
    for (const key of keys) this.options.queue.add(key, delayMs, change);
  }
}

const ns = (o: KubernetesObject): string => o.metadata?.namespace ?? '';
