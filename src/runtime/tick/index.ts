import { performance } from 'node:perf_hooks';
import type { PolicyObject } from '../../adapters/kube/cache.js';
import type { OperatorDeps } from '../controller/deps.js';
import { TerminalError, type ReconcileResult, type Reconciler } from '../controller/reconciler.js';
import type { GatherRuntime } from '../../pipeline/facts/gather.js';
import { API_VERSION, KIND } from '../../pipeline/policy/schema.js';
import { createMetricsRuntime } from '../../adapters/providers/index.js';
import { kubernetesSecretReader } from '../../adapters/secrets/kubernetes.js';
import { adopt } from './adopt.js';
import { followAutoscaler } from './autoscale.js';
import { decideTick } from './decide.js';
import { gather, idleGate } from './gather.js';
import { readOverrides } from './override-stage.js';
import { applyDecision } from './apply.js';
import { auditGate, showAuditHealth } from './audit.js';
import { showNotificationHealth } from './notifications.js';
import { recordBreaches } from './breach.js';
import { noCrash, type CrashHook } from './crash.js';
import { correctDrift } from './drift.js';
import { WAIT_MS, type FenceMarks, type Stage, type Stop, type TickContext, type TickShared } from './context.js';
import { ensureFinalizer, handBack } from './finalizer.js';
import { reportForbidden } from './forbidden.js';
import { KubeClient } from '../../adapters/kube/client.js';
import { validatePolicy } from './load.js';
import { PolicyMemo } from './policy-memo.js';
import { TickReadings } from './readings.js';
import { recordDecision } from './record.js';
import { continueRollback } from './rollback.js';
import { continuePromotion } from './promotion.js';
import { askPostRollout } from './post-rollout.js';
import { followScale, followTemplate } from './target-changes.js';
import { readStatus } from './status.js';
import { resolveTarget } from './target.js';
import { showWindow } from './window.js';
import { readConfig } from './config.js';
import { StatusConflict, writeStatus } from './write.js';
import { claimPolicy, holdsClaim } from './fence.js';
import { ConflictBudget } from './conflict-budget.js';
import { keyString, type PolicyKey } from '../../adapters/kube/names.js';

/** The stages of one tick, in order; each may end it early, saying why (argo-rollouts' rolloutCanary). */
const STAGES: ReadonlyArray<[string, Stage]> = [
  ['validate', validatePolicy],
  ['target', resolveTarget],
  ['finalizer', ensureFinalizer],
  ['config', readConfig],
  ['window', showWindow],
  ['autoscale', followAutoscaler],
  ['adopt', adopt],
  ['promotion', continuePromotion],
  ['rollback', continueRollback],
  ['scale', followScale],
  ['template', followTemplate],
  ['overrides', readOverrides],
  ['idle', idleGate],
  ['drift', correctDrift],
  ['gather', gather],
  ['decide', decideTick],
  ['breach', recordBreaches],
  ['audit', auditGate],
  ['record', recordDecision],
  ['actuate', applyDecision],
];

/**
 * Ticks tried after a 409 on the status write (each attempt re-reads and re-decides); then the
 * reconcile fails and the queue's backoff spaces the next try; under a persistent conflict the
 * ConflictBudget keeps a rollout to 10 status writes a minute.
 */
const MAX_ATTEMPTS = 2;

export interface TickOptions {
  /** A hook called at the tick's actuation boundaries (crash.ts; default: none). */
  crash?: CrashHook;
  /** The metrics runtime and Secret reader shared by every policy (default: built once here). */
  gather?: GatherRuntime;
  /** Where every tick's readings are kept for rollback reports (default: a store of this reconciler's own). */
  readings?: TickReadings;
}

/**
 * The tick's stages in order. An aborted tick (the replica lost its Lease, or the reconcile timed out) starts no
 * further stage: the stage under way finishes, nothing after it is written (docs/operator.md, row 3 of
 * docs/reliability.md). Stopping between record and actuate is a crash there: the next leader re-decides.
 *
 * A tick whose replica lost its claim mid-tick (fence.ts) ends the same way, and looks again shortly: if the
 * policy moved, the shard gate then leaves it to the new owner; if the replicas were only agreeing on a new view
 * that keeps it here, it goes on.
 */
const MOVED: Stop = { why: 'the policy moved to another replica', requeueAfterMs: WAIT_MS };

async function runStages(ctx: TickContext): Promise<Stop | undefined> {
  for (const [name, stage] of STAGES) {
    ctx.signal.throwIfAborted();
    if (!holdsClaim(ctx)) return MOVED;
    const stopped = await stage(ctx);
    if (stopped) {
      ctx.log.debug({ stage: name, why: stopped.why }, 'tick ended early');
      return stopped;
    }
  }
  return undefined;
}

/** The writes after the stages, each only while the tick holds its claim; false when it no longer does. */
async function finish(ctx: TickContext, stopped: Stop | undefined): Promise<boolean> {
  for (const write of [askPostRollout, showAuditHealth, showNotificationHealth, writeStatus]) {
    if (stopped === MOVED || !holdsClaim(ctx)) return false;
    await write(ctx);
  }
  return true;
}

/** One attempt of a reconcile: a re-read after a 409, and what the write fence carries between attempts. */
interface Attempt {
  reread: boolean;
  fence: FenceMarks['attempts'];
}

class TickReconciler implements Reconciler {
  constructor(private readonly shared: TickShared) {}

  async reconcile(key: PolicyKey, signal: AbortSignal): Promise<ReconcileResult> {
    const started = performance.now();
    try {
      const fence: FenceMarks['attempts'] = {}; // the write fence's, from attempt to attempt (fence.ts)
      for (let attempt = 1; ; attempt++) {
        const waitMs = this.shared.conflicts.waitMs(keyString(key), this.shared.deps.clock.now());
        if (waitMs > 0) return { requeueAfterMs: waitMs };
        try {
          return await this.tick(key, signal, { reread: attempt > 1, fence });
        } catch (error) {
          if (!(error instanceof StatusConflict) || attempt >= MAX_ATTEMPTS) throw error;
          this.shared.deps.logger.info({ namespace: key.namespace, policy: key.name, attempt }, error.message);
        }
      }
    } finally {
      this.shared.deps.observer.tick(performance.now() - started);
    }
  }

  forget(key: PolicyKey): void {
    // Status holds the state, and the write memory is an LRU: only the validated spec is dropped.
    this.shared.policies.forget(key.namespace, key.name);
  }

  /** The policy from the cache, or from the API after a conflict or when the cache missed our own write. */
  private async load(key: PolicyKey, reread: boolean): Promise<PolicyObject | undefined> {
    const cached = this.shared.deps.cache.policy(key);
    if (cached && !reread && !this.shared.kube.isStale('policy', cached)) return cached;
    return this.shared.kube.readPolicy(key.namespace, key.name);
  }

  private async tick(key: PolicyKey, signal: AbortSignal, attempt: Attempt): Promise<ReconcileResult> {
    const loaded = await this.load(key, attempt.reread);
    if (!loaded) return { requeueAfterMs: null };
    // A list's items may come without apiVersion and kind; validation and the status PUT need them.
    const raw: PolicyObject = { ...loaded, apiVersion: loaded.apiVersion ?? API_VERSION, kind: loaded.kind ?? KIND };
    const status = readStatus(raw.status);
    const ctx: TickContext = {
      key,
      signal,
      now: this.shared.deps.clock.now(),
      shared: this.shared,
      raw,
      status,
      next: structuredClone(status),
      log: this.shared.deps.logger.child({ namespace: key.namespace, policy: key.name }),
      intervalMs: 30_000,
    };
    if (!(await claimPolicy(ctx, attempt.fence))) return { requeueAfterMs: WAIT_MS };
    if (raw.metadata?.deletionTimestamp) return { requeueAfterMs: (await handBack(ctx)).requeueAfterMs };
    const stopped = await runStages(ctx).catch((error: unknown) => reportForbidden(ctx, error));
    signal.throwIfAborted();
    if (!(await finish(ctx, stopped))) return { requeueAfterMs: WAIT_MS };
    if (stopped?.terminal) throw new TerminalError(`${keyString(key)}: ${stopped.why}`);
    return { requeueAfterMs: stopped ? stopped.requeueAfterMs : ctx.intervalMs };
  }
}

/**
 * The reconcile tick of `kubestead run`: one per policy and interval, over the operator's shared
 * caches, clock, recorder and observer. The metrics runtime (HTTP client, query cache) and the
 * Secret reader are built here once and shared by every policy; both run on the operator's clock
 * (a provider's Retry-After is waited out on it, so tests drive it).
 */
export function createTickReconciler(deps: OperatorDeps, options: TickOptions = {}): Reconciler {
  const gatherRuntime = options.gather ?? {
    metrics: createMetricsRuntime({ allowedHosts: deps.allowedHosts, clock: deps.clock }),
    secrets: kubernetesSecretReader(deps.clients, { clock: deps.clock, ttlMs: deps.secretTtlMs }),
    clock: deps.clock,
    logger: deps.logger,
  };
  return new TickReconciler({
    deps,
    kube: new KubeClient(deps.clients),
    gather: gatherRuntime,
    crash: options.crash ?? noCrash,
    policies: new PolicyMemo(),
    readings: options.readings ?? new TickReadings(),
    conflicts: new ConflictBudget(),
  });
}
