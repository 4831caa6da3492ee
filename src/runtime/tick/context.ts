import type { ConflictBudget } from './conflict-budget.js';
import type { V1Deployment, V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { CompiledPolicy } from '../../pipeline/compile/compile.js';
import type { PolicyObject } from '../../adapters/kube/cache.js';
import type { OperatorDeps, ShardClaim } from '../controller/deps.js';
import type { Decision } from '../../pipeline/decide/decision.js';
import type { GatherRuntime, Gathered } from '../../pipeline/facts/gather.js';
import type { RolloutPolicy } from '../../pipeline/policy/schema.js';
import type { RecordReceipt, RecorderHealth } from '../../pipeline/record/recorder.js';
import type { RouterWeight, TrafficRouter } from '../../adapters/routers/router.js';
import type { CrashHook } from './crash.js';
import type { KubeClient } from '../../adapters/kube/client.js';
import type { PolicyMemo } from './policy-memo.js';
import type { TickReadings } from './readings.js';
import type { PendingOverride } from './overrides.js';
import type { RolloutStatus } from './status.js';
import { isOwnedByKubestead, type PolicyKey } from '../../adapters/kube/names.js';
import { primaryName } from '../../pipeline/policy/vocabulary.js';
import { Actuator, type Applied } from '../../pipeline/actuate/actuator.js';
import { stepCount } from '../../pipeline/policy/strategies.js';
import type { TrackedConfig } from '../../pipeline/actuate/config.js';
import { canaryScaledLast, canarySizing } from '../../pipeline/actuate/autoscaler.js';
import { canaryScaleOf } from '../../pipeline/policy/canary-scale.js';

/** What every tick of the process shares, built once by createTickReconciler. */
export interface TickShared {
  deps: OperatorDeps;
  kube: KubeClient;
  gather: GatherRuntime;
  crash: CrashHook;
  /** Each policy's validated and compiled spec, until it changes. */
  policies: PolicyMemo;
  /** Every tick's check readings of each rollout (for the rollback report). */
  readings: TickReadings;
  /** Status writes under conflict: at most 10 a minute per rollout. */
  conflicts: ConflictBudget;
}

/**
 * One tick of one policy: everything read, decided and applied, passed from stage to stage
 * (argo-rollouts' rolloutContext). `status` is what was read; `next` is what will be written, and
 * only when it differs.
 */
export interface TickContext {
  key: PolicyKey;
  signal: AbortSignal;
  /** The tick's time (ms), read once: every phase sees the same instant. */
  now: number;
  shared: TickShared;
  log: Logger;
  /** The policy as read; its resourceVersion guards every write to it. */
  raw: PolicyObject;
  status: RolloutStatus;
  next: RolloutStatus;
  policy?: RolloutPolicy;
  compiled?: CompiledPolicy;
  target?: V1Deployment;
  primary?: V1Deployment;
  /** The user's HPA of the target, from the cache (target stage; undefined: none): docs/hpa.md. */
  autoscaler?: V2HorizontalPodAutoscaler;
  /** The target's tracked config as read this tick (config stage; undefined when not tracked). */
  config?: TrackedConfig;
  router?: TrafficRouter;
  /**
   * A weighted router's weight as the drift stage read it (or set it back) this tick: what a tick that writes no weight
   * stands by.
   */
  routerWeight?: RouterWeight;
  override?: PendingOverride;
  gathered?: Gathered;
  decision?: Decision;
  receipt?: RecordReceipt;
  /** The recorder's health as read this tick (before an advance or promote). */
  auditHealth?: RecorderHealth;
  /** The policy's interval in ms (the requeue of a healthy tick). */
  intervalMs: number;
  /** The override annotation is to be removed once status is written (consumed, refused or stale). */
  removeOverride?: boolean;
  /** Something this tick set the Degraded condition (a later stage must not clear it). */
  degraded?: boolean;
  /** `--shards auto`: the claim this tick writes under (fence.ts); it writes nothing once the replica no longer holds it. */
  claim?: ShardClaim;
  /** `--shards auto`: what the write fence (fence.ts) compares this tick against. */
  fenced?: FenceMarks;
}

/** `--shards auto`: what the write fence (fence.ts) knows of the policy's claim beyond this replica's own view. */
export interface FenceMarks {
  /** The policy's resourceVersion in the cache when the tick began: a version other than it and the tick's is news. */
  cachedAt?: string;
  /**
   * Across the attempts of one reconcile (a 409 re-reads): the claim status last showed, as read or as this replica
   * wrote it (null: none; undefined: not read yet).
   */
  attempts: { shown?: ShardClaim | null };
}

/** Why a stage ended the tick early, and when to come back (null: on the next change only). */
export interface Stop {
  why: string;
  requeueAfterMs: number | null;
  /** The spec cannot work as written: no retry until it changes. */
  terminal?: boolean;
}

/** One stage of a tick (index.ts lists them in order); it may end the tick early, saying why. */
export type Stage = (ctx: TickContext) => Promise<Stop | undefined>;

/** How soon a tick that waits for the cluster (pods becoming ready) looks again. */
export const WAIT_MS = 2_000;

export const stop = (why: string, requeueAfterMs: number | null, terminal = false): Stop => ({
  why,
  requeueAfterMs,
  ...(terminal ? { terminal } : {}),
});

export const isoAt = (ms: number): string => new Date(ms).toISOString();

/** The tick's policy, once the validate stage has checked it (a stage after it may rely on it). */
export function policyOf(ctx: TickContext): RolloutPolicy {
  if (!ctx.policy) throw new Error('tick: policy used before it was validated');
  return ctx.policy;
}

/** How many steps the tick's rollout has (a blue-green policy's two stages), once validated; else undefined. */
export const stepsOf = (ctx: TickContext): number | undefined => (ctx.policy ? stepCount(ctx.policy.spec) : undefined);

export function targetOf(ctx: TickContext): V1Deployment {
  if (!ctx.target) throw new Error('tick: target used before it was resolved');
  return ctx.target;
}

export function routerOf(ctx: TickContext): TrafficRouter {
  if (!ctx.router) throw new Error('tick: router used before it was prepared');
  return ctx.router;
}

export function primaryOf(ctx: TickContext): V1Deployment {
  if (!ctx.primary) throw new Error('tick: primary used before adoption');
  return ctx.primary;
}

export const namespaceOf = (ctx: TickContext): string => ctx.key.namespace;
export const generationOf = (ctx: TickContext): number => ctx.raw.metadata?.generation ?? 0;

const ACTIVE_PHASES: readonly string[] = ['Progressing', 'Paused'];

export const inRollout = (phase: string | undefined): boolean => phase !== undefined && ACTIVE_PHASES.includes(phase);

export const isShadow = (ctx: TickContext): boolean => policyOf(ctx).spec.mode === 'shadow';

export function actuatorOf(ctx: TickContext): Actuator {
  return new Actuator(ctx.shared.kube, routerOf(ctx), {
    namespace: ctx.key.namespace,
    target: targetOf(ctx),
    primary: primaryOf(ctx),
    config: ctx.config,
    sizing: canarySizing(ctx.autoscaler, autoscaledCanary(ctx)),
    primaryAutoscaler: ctx.autoscaler ? primaryAutoscaler(ctx, targetOf(ctx).metadata?.name ?? '') : undefined,
    blueGreen: policyOf(ctx).spec.blueGreen !== undefined,
  });
}

/**
 * A running weighted canary sized `proportional` (not blue-green) whose count the user's HPA set after primary last
 * scaled: on a hold, Kubestead leaves it to the HPA rather than raise it back to its share (docs/hpa.md).
 */
export const canaryHeldByAutoscaler = (ctx: TickContext): boolean =>
  (targetOf(ctx).spec?.replicas ?? 0) > 0 &&
  routerOf(ctx).weighted &&
  canaryScaleOf(policyOf(ctx).spec) === 'proportional' &&
  policyOf(ctx).spec.blueGreen === undefined &&
  canaryScaledLast(ctx.autoscaler, primaryAutoscaler(ctx, targetOf(ctx).metadata?.name ?? ''));

/** `canaryScale: autoscaled` with a weighted router: the user's HPA sizes the running canary (docs/hpa.md). */
const autoscaledCanary = (ctx: TickContext): boolean =>
  canaryScaleOf(policyOf(ctx).spec) === 'autoscaled' && routerOf(ctx).weighted;

/** Status after an actuation: what /scale read back. */
export function noteApplied(ctx: TickContext, applied: Applied): void {
  ctx.next.canaryReplicas = applied.canaryReplicas;
}

/** Primary's own HPA (`<target>-primary`, made by Kubestead) from the cache, if there is one. */
export function primaryAutoscaler(ctx: TickContext, target: string): V2HorizontalPodAutoscaler | undefined {
  const name = primaryName(target);
  return ctx.shared.deps.cache
    .autoscalers(ctx.key.namespace, name)
    .find((h) => h.metadata?.name === name && isOwnedByKubestead(h.metadata));
}
