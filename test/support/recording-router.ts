import { inexpressibleWeight } from '../../src/pipeline/policy/routing.js';
import type {
  RouterKind,
  RouterProblem,
  RouterWeight,
  Traffic,
  TrafficRouter,
} from '../../src/adapters/routers/router.js';
import { describeShare, integerSplit, podsForWeight } from '../../src/pipeline/policy/weights.js';

/** One call a RecordingRouter received, in order. */
export type RouterCall =
  | { method: 'prepare' }
  | { method: 'canaryReplicas'; weight: number; stableReplicas: number }
  | { method: 'setWeight'; weight: number }
  | { method: 'setTraffic'; traffic: Traffic }
  | { method: 'getWeight' }
  | { method: 'finalize' }
  | { method: 'release' };

/**
 * A router for controller tests: it records every call and keeps "the live weight" in memory.
 * Tests make it misbehave as a cluster would: `problem` (objects missing), `drift(weight)` (a
 * hand edit), `failNext(error)` (an API failure on the next write or read).
 */
export class RecordingRouter implements TrafficRouter {
  readonly calls: RouterCall[] = [];
  /** What prepare() answers; null once the router's objects "exist". */
  problem: RouterProblem | null = null;
  private live = 0;
  private failures: Error[] = [];

  readonly weighted: boolean;
  /** The A/B match or mirror the "live objects" carry (setTraffic), undefined for none. */
  liveTraffic: Traffic | undefined;

  constructor(readonly kind: RouterKind = 'istio') {
    this.weighted = kind !== 'replicas';
  }

  /** The weight the "live objects" hold now. */
  get liveWeight(): number {
    return this.live;
  }

  /** Someone edits the weights by hand. */
  drift(weight: number): void {
    this.live = weight;
  }

  /** The next method that talks to the cluster throws `error`. */
  failNext(error: Error): void {
    this.failures.push(error);
  }

  /** The methods called, in order, e.g. `['prepare', 'setWeight(0.5)', 'getWeight']`. */
  get trace(): string[] {
    return this.calls.map((c) => ('weight' in c && c.method === 'setWeight' ? `setWeight(${c.weight})` : c.method));
  }

  prepare(): Promise<RouterProblem | null> {
    return this.io({ method: 'prepare' }, () => this.problem);
  }

  canaryReplicas(weight: number, stableReplicas: number): number {
    this.calls.push({ method: 'canaryReplicas', weight, stableReplicas });
    return podsForWeight(weight, stableReplicas);
  }

  /** As a weighted router: the share the write left; as the replica split: nothing written here. */
  setWeight(weight: number): Promise<RouterWeight | undefined> {
    return this.io({ method: 'setWeight', weight }, () => {
      const why = this.inexpressible(weight);
      if (why !== null) throw new Error(why);
      this.live = weight;
      return this.kind === 'replicas' ? undefined : this.liveShare();
    });
  }

  /** As setWeight, also keeping the step's match or mirror as the live objects would. */
  setTraffic(traffic: Traffic): Promise<RouterWeight | undefined> {
    return this.io({ method: 'setTraffic', traffic }, () => {
      const why = this.inexpressible(traffic.weight);
      if (why !== null) throw new Error(why);
      this.live = traffic.weight;
      this.liveTraffic = traffic.match || traffic.mirror !== undefined ? traffic : undefined;
      return this.kind === 'replicas' ? undefined : this.liveShare();
    });
  }

  getWeight(): Promise<RouterWeight> {
    return this.io({ method: 'getWeight' }, () => this.liveShare());
  }

  inexpressible(weight: number): string | null {
    return inexpressibleWeight(this.kind, weight);
  }

  finalize(): Promise<void> {
    return this.io({ method: 'finalize' }, () => {
      this.live = 0;
    });
  }

  release(): Promise<void> {
    return this.io({ method: 'release' }, () => {
      this.live = 0;
    });
  }

  private liveShare(): RouterWeight {
    const split = integerSplit(this.live);
    const detail = split ? describeShare(split.canary, split.total) : String(this.live);
    return { weight: this.live, detail: `recording router: canary ${detail}` };
  }

  private io<T>(call: RouterCall, body: () => T): Promise<T> {
    this.calls.push(call);
    const failure = this.failures.shift();
    if (failure) return Promise.reject(failure);
    try {
      return Promise.resolve(body());
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }
}
