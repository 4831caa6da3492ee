import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Action } from '../../pipeline/policy/vocabulary.js';
import type { TickObserver } from './deps.js';

const TICK_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

type AuditState = { healthy: boolean; reason: string; backlog: number };

/** What the loop reports besides the tick: informers, leadership, the queue. Read when /metrics is scraped. */
export interface LoopState {
  informers(): Array<{ name: string; staleMs: number; synced: boolean }>;
  isLeader(): boolean;
  queue(): { policies: number; inFlight: number };
  /** With `--shards auto`: this replica's share (owned), policies nobody may act on yet, and any acted on twice. */
  shards?(): { owned: number; unowned: number; multiOwned: number };
}

/**
 * The operator's Prometheus metrics (one registry per operator, so that two in one process stay apart).
 * Implements the TickObserver the reconciler reports to; every method is cheap and never throws.
 */
export class OperatorMetrics implements TickObserver {
  readonly registry = new Registry();
  private readonly decisions = new Counter({
    name: 'kubestead_decisions_total',
    help: 'Decisions by action and mode (shadow: what would have been done)',
    labelNames: ['action', 'mode'],
    registers: [this.registry],
  });
  private readonly ticks = new Histogram({
    name: 'kubestead_tick_duration_seconds',
    help: 'Duration of one tick of one policy',
    buckets: TICK_BUCKETS,
    registers: [this.registry],
  });
  private readonly measurements = new Histogram({
    name: 'kubestead_measurement_duration_seconds',
    help: 'Duration of one check measurement, by provider and status',
    labelNames: ['provider', 'status'],
    buckets: TICK_BUCKETS,
    registers: [this.registry],
  });
  private readonly reconciles = new Histogram({
    name: 'kubestead_reconcile_duration_seconds',
    help: 'Duration of one reconcile as the work queue saw it, by outcome (ok, error, terminal)',
    labelNames: ['outcome'],
    buckets: TICK_BUCKETS,
    registers: [this.registry],
  });
  private readonly apiRequests = new Counter({
    name: 'kubestead_api_requests_total',
    help: 'Requests to the Kubernetes API server by verb and HTTP code (error: no answer)',
    labelNames: ['verb', 'code'],
    registers: [this.registry],
  });
  private readonly phases = new Map<string, string>();
  private readonly audits = new Map<string, AuditState>();

  constructor(private readonly loop: LoopState) {
    collectDefaultMetrics({ register: this.registry });
    this.gauges();
  }

  decision(action: Action, mode: 'active' | 'shadow'): void {
    this.decisions.inc({ action, mode });
  }

  tick(durationMs: number): void {
    this.ticks.observe(durationMs / 1000);
  }

  measurement(provider: string, status: 'ok' | 'unavailable', durationMs: number): void {
    this.measurements.observe({ provider, status }, durationMs / 1000);
  }

  phase(key: string, phase: string | null): void {
    if (phase === null) {
      this.phases.delete(key);
      this.audits.delete(key);
    } else this.phases.set(key, phase);
  }

  audit(key: string, health: AuditState): void {
    this.audits.set(key, health);
  }

  apiRequest(verb: string, code: string): void {
    this.apiRequests.inc({ verb, code });
  }

  reconciled(outcome: 'ok' | 'error' | 'terminal', durationMs: number): void {
    this.reconciles.observe({ outcome }, durationMs / 1000);
  }

  /** Gauges read at scrape time: the policies' rollouts and audit trails, and the loop's state. */
  private gauges(): void {
    this.policyGauges();
    this.loopGauges();
  }

  private policyGauges(): void {
    const phases = this.phases;
    const registers = [this.registry];
    new Gauge({
      name: 'kubestead_rollouts',
      help: 'Policies by rollout phase',
      labelNames: ['phase'],
      registers,
      collect() {
        this.reset();
        const counts = new Map<string, number>();
        for (const phase of phases.values()) counts.set(phase, (counts.get(phase) ?? 0) + 1);
        for (const [phase, count] of counts) this.set({ phase }, count);
      },
    });
    const audits = this.audits;
    new Gauge({
      name: 'kubestead_audit_unhealthy_policies',
      help:
        'Policies whose audit trail cannot be kept (advancing stops), by reason: AuditStoreUnavailable, ' +
        'AuditChainBroken, AuditBacklogFull',
      labelNames: ['reason'],
      registers,
      collect() {
        this.reset();
        for (const reason of ['AuditStoreUnavailable', 'AuditChainBroken', 'AuditBacklogFull']) this.set({ reason }, 0);
        for (const audit of audits.values()) if (!audit.healthy) this.inc({ reason: audit.reason });
      },
    });
    new Gauge({
      name: 'kubestead_audit_backlog_entries',
      help:
        'Audit entries not yet acknowledged by a SIEM destination, summed over policies (the slowest destination ' +
        'of each)',
      registers,
      collect() {
        this.set([...audits.values()].reduce((sum, a) => sum + a.backlog, 0));
      },
    });
  }

  /** The shard gauges (docs/sharding.md), only with `--shards auto`. */
  private shardGauges(): void {
    const shards = this.loop.shards?.bind(this.loop);
    if (!shards) return;
    const gauges = [
      ['kubestead_owned_policies', 'Policies this replica owns and may act on now (--shards auto)', 'owned'],
      [
        'kubestead_unowned_policies',
        'Policies nobody may act on yet: a move waits for every replica to agree',
        'unowned',
      ],
      [
        'kubestead_multi_owned_policies',
        'Policies this replica acts on that another replica owns (must stay 0)',
        'multiOwned',
      ],
    ] as const;
    for (const [name, help, field] of gauges)
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.set(shards()[field]);
        },
      });
  }

  private loopGauges(): void {
    const loop = this.loop;
    const registers = [this.registry];
    this.shardGauges();
    new Gauge({
      name: 'kubestead_informer_staleness_seconds',
      help: 'Seconds since an informer last heard from the API server (an event, a bookmark, a list)',
      labelNames: ['informer'],
      registers,
      collect() {
        for (const i of loop.informers())
          this.set({ informer: i.name }, Number.isFinite(i.staleMs) ? i.staleMs / 1000 : -1);
      },
    });
    new Gauge({
      name: 'kubestead_informer_synced',
      help: '1 when an informer has listed and is not stale',
      labelNames: ['informer'],
      registers,
      collect() {
        for (const i of loop.informers()) this.set({ informer: i.name }, i.synced ? 1 : 0);
      },
    });
    new Gauge({
      name: 'kubestead_leader',
      help: '1 while this replica holds the Lease (or runs without leader election)',
      registers,
      collect() {
        this.set(loop.isLeader() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'kubestead_queue_policies',
      help: 'Policies known to the work queue',
      registers,
      collect() {
        this.set(loop.queue().policies);
      },
    });
    new Gauge({
      name: 'kubestead_queue_in_flight',
      help: 'Reconciles running',
      registers,
      collect() {
        this.set(loop.queue().inFlight);
      },
    });
  }
}
