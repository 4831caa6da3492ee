import type { Logger } from 'pino';
import type { Clock } from '../../lib/clock/clock.js';
import type { Action } from '../../pipeline/policy/vocabulary.js';
import type { Recorder } from '../../pipeline/record/recorder.js';
import type { ClusterCache } from '../../adapters/kube/cache.js';
import { type KubeClients } from '../../adapters/kube/clients.js';

/** What the tick reports to /metrics (prom-client behind it); every method is cheap and never throws. */
export interface TickObserver {
  decision(action: Action, mode: 'active' | 'shadow'): void;
  tick(durationMs: number): void;
  measurement(provider: string, status: 'ok' | 'unavailable', durationMs: number): void;
  phase(key: string, phase: string | null): void;
  /** Optional: a policy's audit trail as the recorder reports it (reason PascalCase; backlog: undelivered entries). */
  audit?(key: string, health: { healthy: boolean; reason: string; backlog: number }): void;
}

/** `--shards auto`: the replica that acts on a policy and the shard view in which the policy moved to it. */
export interface ShardClaim {
  replica: string;
  epoch: string;
}

/** The write fence of `--shards auto` (docs/sharding.md): what a tick must hold to write for a policy. */
export interface WriteFence {
  /** This replica's claim on the policy (by UID) while it may act on it; null when it may not write for it now. */
  claim(uid: string): ShardClaim | null;
}

/** Everything a reconciler needs from the process around it, built once by `kubestead run`. */
export interface OperatorDeps {
  cache: ClusterCache;
  /** The process's API clients, made once: the tick, its routers and the Secret reader share them. */
  clients: KubeClients;
  clock: Clock;
  logger: Logger;
  recorder: Recorder;
  observer: TickObserver;
  /** The controller's identity (pod name, or host and pid), in Events, records and the Lease. */
  identity: string;
  /** The operator's allow-list of metric provider hosts; undefined: any host but link-local. */
  allowedHosts?: readonly string[];
  /** How long a read provider Secret is reused (`--secret-ttl`; default 30 s): a rotation is seen within it. */
  secretTtlMs?: number;
  /** `--shards auto`: every tick writes only while it holds this replica's claim on the policy (none: always). */
  fence?: WriteFence;
}
