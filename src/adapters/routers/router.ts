import type { V1OwnerReference } from '@kubernetes/client-node';
import type { KubeClients } from '../kube/clients.js';
import type { Clock } from '../../lib/clock/clock.js';
import type { PolicySpec, RouterKind } from '../../pipeline/policy/schema.js';
import type { Traffic } from '../../pipeline/policy/strategies.js';

export type { RouterKind, Traffic };

/** What a router acts on: the policy's target and the objects Kubestead keeps beside it. */
export interface RouterTarget {
  namespace: string;
  /** The user's Deployment; once adopted, its pods are the canary. */
  canary: string;
  /** `<target>-primary`, the stable copy Kubestead owns. */
  primary: string;
  /** The RolloutPolicy as owner of every object a router creates (garbage-collected with it). */
  owner: V1OwnerReference;
  spec: PolicySpec;
}

export interface RouterContext {
  target: RouterTarget;
  /** The process's API clients (made once, shared by every router). */
  clients: KubeClients;
  clock: Clock;
}

/** The canary's share as the live objects give it, read back after every write. */
export interface RouterWeight {
  /** Percent of traffic the canary really gets (0–100, decimals allowed, exact: 1/999 is 0.1001…). */
  weight: number;
  /** Where it was read, for status and Events, e.g. `VirtualService shop/checkout route http-primary: 1/999`. */
  detail: string;
  /**
   * getWeight(candidates): the index of the first candidate whose A/B match, mirror and session affinity the live
   * objects carry exactly, or -1 (someone edited what Kubestead added). Unset without candidates.
   */
  carries?: number;
}

/** A reason the router cannot act yet (its objects are missing or do not point at the target). */
export interface RouterProblem {
  reason: string;
  message: string;
}

/**
 * One seam for every way of splitting traffic (docs/architecture.md, "Traffic and lifecycle"): the replica-count split
 * and one
 * module per mesh or ingress. Methods throw only on API failures; the actuator retries those
 * on the next tick. Every method is idempotent.
 */
export interface TrafficRouter {
  readonly kind: RouterKind;
  /**
   * The share is written into an object a person can edit (a route, or blue-green's Service selector): it is given
   * only to a ready canary, read back after each write, and a hand edit of it is drift. False for the canary's
   * replica split, whose share is its pod count.
   */
  readonly weighted: boolean;
  /** Checks the user's objects and creates what Kubestead owns (e.g. `<svc>-canary`). */
  prepare(): Promise<RouterProblem | null>;
  /**
   * The canary replica count for a step's weight, given the stable (primary) count: the replica
   * split gives the count nearest the share; a weighted router only needs enough canary pods.
   */
  canaryReplicas(weight: number, stableReplicas: number): number;
  /**
   * Sends `weight` percent of traffic to the canary (0 = all to primary). A weighted router returns
   * the share as its write left it, from the API server's answer (not a later read, which could take
   * a hand edit made in between as the weight); the replica split writes nothing here (undefined).
   */
  setWeight(weight: number): Promise<RouterWeight | undefined>;
  /**
   * setWeight with what a step adds (docs/strategies.md): an A/B match or a mirror, and under session affinity the
   * cookie route while the canary has a weight. One write with the weights; what is not asked for is removed.
   */
  setTraffic(traffic: Traffic): Promise<RouterWeight | undefined>;
  /** Reads the live objects; with `candidates`, also which of them the additions carry (RouterWeight.carries). */
  getWeight(candidates?: Traffic[]): Promise<RouterWeight>;
  /** Why `weight` cannot be given exactly by this router, or null (validate and the controller refuse it). */
  inexpressible(weight: number): string | null;
  /** Ends a rollout: all traffic to primary, and what Kubestead created for it removed. */
  finalize(): Promise<void>;
  /**
   * Optional (weighted routers): the policy is going. The user's route objects send to the user's
   * Service again and what Kubestead created beside them is deleted. Call it while the user's
   * Service still reaches serving pods, before the primary Deployment is removed.
   */
  release?(): Promise<void>;
  /**
   * Optional: the writes to the user's own objects since the last call (blue-green's switch of the user's Service
   * selector), as sentences; the tick records each in the audit log.
   */
  userWrites?(): string[];
}
