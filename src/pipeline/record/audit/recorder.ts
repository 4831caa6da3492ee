import { appendFile } from 'node:fs/promises';
import type { KubeConfig } from '@kubernetes/client-node';
import { kubeClients } from '../../../adapters/kube/clients.js';
import type { Logger } from 'pino';
import type { Clock } from '../../../lib/clock/clock.js';
import type { DecisionRecord, PolicyRef, RecordReceipt, Recorder } from '../recorder.js';
import { ChainBrokenError, PolicyChain } from './chain.js';
import { draftOf, entryLine, type AuditEntry } from './entry.js';
import { AuditUnavailableError, describeError, type AuditHealth } from './errors.js';
import { PolicyLog } from './policy-log.js';
import { SegmentStore } from './segments.js';
import type { SecretReader } from '../../../adapters/secrets/reader.js';
import { Deliveries } from './webhook/deliveries.js';
import { buildReport, type ReportEnricher, type RollbackReport } from './report/build.js';
import { ReportStore } from './report/store.js';
import { segmentLines } from './segments.js';
import { planPrune, pruneDraft } from './retention.js';
import { isoNow } from '../../../lib/clock/clock.js';
import type { DeliveryOptions } from './webhook/deliverer.js';
import type { Destination } from './webhook/destination.js';
import { CursorStore } from './webhook/cursor.js';
import { HttpClient } from '../../../adapters/providers/http.js';
import { NotificationSender } from '../../../adapters/notifiers/send.js';
import { Notifications, type NotificationHealth, type NotificationsOptions } from '../notify/notifications.js';

export interface RetentionOptions {
  /** Keep at most this many entries (whole segments are pruned, oldest first). */
  maxEntries?: number;
  /** Prune segments whose newest entry is older than this. */
  maxAgeSeconds?: number;
  /** Keep the chain after the policy is deleted (segments get no ownerReference). Default false. */
  keepAfterDeletion?: boolean;
}

export interface AuditRecorderOptions {
  retention?: RetentionOptions;
  /** Also append every stored entry to this JSON Lines file (`kubestead run --audit-file`). */
  auditFile?: string;
  /** Roll a segment over before its data passes this many bytes (default 256 KiB; the API limit is 1 MiB). */
  segmentBytes?: number;
  /** The first wait before writing late records again (default 1 s, doubling up to 60 s). */
  lateRetryMs?: number;
  /** The operator-wide SIEM destination (each policy's spec.audit.webhook is used as well). */
  webhook?: Destination;
  /** Batching, timeout and backoff of webhook delivery. */
  delivery?: DeliveryOptions;
  /** Undelivered entries past which advance and promote are refused (default 1000). */
  backlogLimit?: number;
  /** Reads webhook secrets (default: Secrets through the recorder's kubeconfig). */
  secrets?: SecretReader;
  /** Adds every tick's values and the history before the rollout to a rollback report, after it is written. */
  enrichReport?: ReportEnricher;
  /** Notifications (spec.notifications and the operator-wide ones), sent from the chain; `http` holds the allow-list. */
  notifications?: NotificationsOptions & { http?: HttpClient };
}

const DEFAULT_SEGMENT_BYTES = 256 * 1024;
const MAX_LATE_RETRY_MS = 60_000;

/** An advance or promote: refused when its entry cannot be stored (write-ahead). */
export function gatesActuation(record: DecisionRecord): boolean {
  return record.kind !== 'shadow' && (record.decision.action === 'advance' || record.decision.action === 'promote');
}

const reasonOf = describeError;

/**
 * The audit trail behind the controller's Recorder seam: every record becomes an entry of the
 * policy's hash chain, kept in ConfigMaps next to the policy (docs/audit.md).
 */
export class AuditRecorder implements Recorder {
  private readonly store: SegmentStore;
  private readonly logs = new Map<string, PolicyLog>();
  private readonly stopping = new AbortController();
  private readonly deliveries: Deliveries;
  private readonly notifications: Notifications;
  private readonly reports: ReportStore;
  private readonly enriching = new Set<Promise<void>>();

  constructor(
    kubeConfig: KubeConfig,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly options: AuditRecorderOptions = {},
  ) {
    const keepAfterDeletion = options.retention?.keepAfterDeletion ?? false;
    const clients = kubeClients(kubeConfig);
    this.store = new SegmentStore(clients, { keepAfterDeletion });
    this.reports = new ReportStore(clients, keepAfterDeletion);
    this.deliveries = new Deliveries(clients, this.store, {
      clock,
      logger,
      signal: this.stopping.signal,
      options: { ...options.delivery, webhook: options.webhook, secrets: options.secrets, keepAfterDeletion },
    });
    const { http, ...notify } = options.notifications ?? {};
    this.notifications = new Notifications(clients, {
      segments: this.store,
      cursors: new CursorStore(clients, keepAfterDeletion),
      secrets: this.deliveries.secrets,
      sender: new NotificationSender(http ?? new HttpClient({ clock })),
      clock,
      logger,
      signal: this.stopping.signal,
      options: notify,
    });
  }

  /** Whether the policy's notifications go through (the NotificationsDegraded condition). */
  notificationHealth(policy: Pick<PolicyRef, 'uid'>): NotificationHealth {
    return this.notifications.health(policy.uid);
  }

  /**
   * Resolves once the entry is stored (or was already: a repeat after a crash). For an advance or
   * promote it rejects with AuditUnavailableError when the entry cannot be stored; any other record
   * is then queued, written marked late when the store returns, and resolves with `{late: true}`.
   */
  record(record: DecisionRecord): Promise<RecordReceipt> {
    const log = this.logFor(record.policy);
    return log.exclusive(() => this.recordIn(log, record));
  }

  /** The audit trail's state for a policy's condition: store down, chain broken, backlog full. */
  health(policy: Pick<PolicyRef, 'uid'>): AuditHealth {
    const log = this.logs.get(policy.uid);
    const newest = log?.chain.knownHead();
    const known = {
      lateQueued: log?.late.length ?? 0,
      backlog: this.deliveries.backlog(policy.uid),
      ...(newest ? { head: { head: newest.hash, seq: newest.seq } } : {}),
    };
    return { ...this.condition(log, known.backlog, policy.uid), ...known };
  }

  private condition(
    log: PolicyLog | undefined,
    backlog: number,
    uid: string,
  ): Pick<AuditHealth, 'healthy' | 'reason' | 'message'> {
    if (log?.storeError) {
      const broken = log.storeError.startsWith('audit chain broken');
      return { healthy: false, reason: broken ? 'AuditChainBroken' : 'AuditStoreUnavailable', message: log.storeError };
    }
    if (backlog > this.backlogLimit) {
      const why = this.deliveries.errors(uid)[0] ?? 'not acknowledged';
      return {
        healthy: false,
        reason: 'AuditBacklogFull',
        message: `${backlog} audit entries not delivered to the SIEM (limit ${this.backlogLimit}): ${why}`,
      };
    }
    return { healthy: true, reason: 'AuditHealthy', message: 'audit entries are stored and delivered' };
  }

  /**
   * health(), after reading the stored chain anew and verifying it (one list of its segments): a
   * corrupt or foreign segment is found before an advance, and a repair or the store's return lifts it.
   */
  async checkHealth(policy: PolicyRef): Promise<AuditHealth> {
    const log = this.logFor(policy);
    await log.exclusive(() => this.reread(log));
    return this.health(policy);
  }

  private async reread(log: PolicyLog): Promise<void> {
    log.chain.invalidate();
    try {
      const state = await log.chain.read();
      if (state.broken) log.storeError = new ChainBrokenError(state.broken).message;
      else if (log.late.length === 0) log.storeError = null;
    } catch (error) {
      log.chain.invalidate();
      log.storeError = `audit store unavailable: ${reasonOf(error)}`;
    }
  }

  /** Starts delivering what a policy's destinations have not acknowledged (a new leader calls it). */
  async deliverPending(policy: PolicyRef): Promise<void> {
    await Promise.all([this.deliveries.wake(policy, -1), this.notifications.wake(policy, -1)]);
  }

  /** Resolves when every delivery and notification loop has caught up or stopped (for tests and shutdown). */
  async deliveriesIdle(): Promise<void> {
    await Promise.all([this.deliveries.idle(), this.notifications.idle()]);
  }

  private get backlogLimit(): number {
    return this.options.backlogLimit ?? 1000;
  }

  /**
   * Stops the late-flush and delivery loops (records still queued stay unwritten; the cursor says what was delivered).
   */
  async stop(): Promise<void> {
    this.stopping.abort(new Error('audit recorder stopped'));
    await Promise.all([...this.logs.values()].map((log) => log.flusher ?? Promise.resolve()));
    await this.deliveriesIdle();
    await this.reportsIdle();
  }

  /** Resolves when every report written so far has been enriched (or failed to be). */
  async reportsIdle(): Promise<void> {
    await Promise.all([...this.enriching]);
  }

  /** Forgets a deleted policy (its chain stays in the cluster, or goes with the policy by GC). */
  forget(policy: Pick<PolicyRef, 'uid'>): void {
    this.logs.delete(policy.uid);
    this.deliveries.forget(policy.uid);
    this.notifications.forget(policy.uid);
  }

  private logFor(policy: PolicyRef): PolicyLog {
    let log = this.logs.get(policy.uid);
    if (!log) {
      log = new PolicyLog(
        policy,
        new PolicyChain(policy, this.store, this.clock, this.options.segmentBytes ?? DEFAULT_SEGMENT_BYTES),
      );
      this.logs.set(policy.uid, log);
    }
    log.policy = policy;
    return log;
  }

  private async recordIn(log: PolicyLog, record: DecisionRecord): Promise<RecordReceipt> {
    if (gatesActuation(record)) this.refuseOverBacklog(record);
    try {
      await this.flushLate(log);
      const { entry, deduped } = await log.chain.append(draftOf(record, false));
      log.storeError = null;
      const report = deduped ? undefined : await this.stored(log, entry);
      if (!deduped) await this.prune(log, record.controller);
      return {
        head: entry.hash,
        seq: entry.seq,
        ...(deduped ? { deduped: true, storedMessage: entry.message } : {}),
        ...(report ? { report } : {}),
      };
    } catch (error) {
      return this.unstored(log, record, error);
    }
  }

  /** Advancing stops while a destination lags past the bound (safe actions continue). */
  private refuseOverBacklog(record: DecisionRecord): void {
    const health = this.health(record.policy);
    if (health.reason !== 'AuditBacklogFull') return;
    this.logger.error(
      { policy: `${record.policy.namespace}/${record.policy.name}`, backlog: health.backlog },
      `${record.decision.action} refused: ${health.message}`,
    );
    throw new AuditUnavailableError(
      `${record.policy.namespace}/${record.policy.name}: ${record.decision.action} refused: ${health.message}`,
    );
  }

  private unstored(log: PolicyLog, record: DecisionRecord, error: unknown): RecordReceipt {
    log.storeError = error instanceof ChainBrokenError ? error.message : `audit store unavailable: ${reasonOf(error)}`;
    const where = `${record.policy.namespace}/${record.policy.name}`;
    if (gatesActuation(record)) {
      this.logger.error(
        { policy: where, action: record.decision.action },
        `audit entry not stored, ${record.decision.action} refused: ${log.storeError}`,
      );
      throw new AuditUnavailableError(`${where}: ${record.decision.action} not recorded: ${log.storeError}`);
    }
    log.late.push(draftOf(record, true));
    this.logger.warn(
      { policy: where, action: record.decision.action, queued: log.late.length },
      `audit entry queued, to be written late: ${log.storeError}`,
    );
    log.flusher ??= this.flushLoop(log);
    return { late: true };
  }

  /** Writes the queued late records, oldest first; throws (keeping the rest) when the store fails. */
  private async flushLate(log: PolicyLog): Promise<void> {
    while (log.late.length > 0) {
      const { entry, deduped } = await log.chain.append(log.late[0]!);
      log.late.shift();
      if (!deduped) await this.stored(log, entry);
    }
  }

  private async flushLoop(log: PolicyLog): Promise<void> {
    let delay = this.options.lateRetryMs ?? 1000;
    while (log.late.length > 0) {
      try {
        await this.clock.sleep(delay * (0.5 + Math.random() / 2), this.stopping.signal);
      } catch {
        break;
      }
      try {
        await log.exclusive(() => this.flushLate(log));
        log.storeError = null;
      } catch (error) {
        log.storeError =
          error instanceof ChainBrokenError ? error.message : `audit store unavailable: ${reasonOf(error)}`;
        delay = Math.min(delay * 2, MAX_LATE_RETRY_MS);
      }
    }
    log.flusher = null;
  }

  /** In the background (the rollback goes on): the report again, with every tick's values and the history before. */
  private enrich(report: RollbackReport): void {
    const enricher = this.options.enrichReport;
    if (!enricher) return;
    const where = { policy: `${report.policy.namespace}/${report.policy.name}` };
    const done = enricher(report)
      .then((enriched) => this.reports.update(enriched))
      .catch((error: unknown) => this.logger.warn(where, `rollback report: history not added: ${reasonOf(error)}`))
      .finally(() => this.enriching.delete(done));
    this.enriching.add(done);
  }

  /** Lets retention remove old segments: the prune entry first (write-ahead), then the deletes. */
  private async prune(log: PolicyLog, controller: string): Promise<void> {
    const retention = this.options.retention ?? {};
    if (retention.maxEntries === undefined && retention.maxAgeSeconds === undefined) return;
    try {
      const plan = planPrune(
        await log.chain.read(),
        retention,
        this.clock.now(),
        await this.deliveries.deliveredThrough(log.policy),
      );
      if (!plan) return;
      const { entry, deduped } = await log.chain.append(pruneDraft(log.policy, plan, isoNow(this.clock), controller));
      if (!deduped) await this.stored(log, entry);
      for (const segment of plan.segments) await this.store.delete(segment);
    } catch (error) {
      this.logger.warn(
        { policy: `${log.policy.namespace}/${log.policy.name}` },
        `audit retention: segments not pruned: ${reasonOf(error)}`,
      );
    } finally {
      log.chain.invalidate();
    }
  }

  /** After an entry is durable in the cluster: the file copy, delivery, and a rollback's report (its name). */
  private async stored(log: PolicyLog, entry: AuditEntry): Promise<string | undefined> {
    this.deliveries
      .wake(log.policy, entry.seq)
      .catch((error: unknown) => this.logger.warn(`audit delivery not started: ${reasonOf(error)}`));
    this.notifications
      .wake(log.policy, entry.seq)
      .catch((error: unknown) => this.logger.warn(`notifications not started: ${reasonOf(error)}`));
    if (this.options.auditFile !== undefined) {
      await appendFile(this.options.auditFile, `${entryLine(entry)}\n`).catch((error: unknown) =>
        this.logger.error({ file: this.options.auditFile }, `audit file not written: ${reasonOf(error)}`),
      );
    }
    return entry.kind === 'decision' && entry.decision?.action === 'rollback' ? this.writeReport(entry) : undefined;
  }

  /** The rollback report, built from the chain; a failure is logged (the entry is stored, the rollback goes on). */
  private async writeReport(rollback: AuditEntry): Promise<string | undefined> {
    try {
      const chain = segmentLines(await this.store.list(rollback.policy.namespace, rollback.policy.uid)).map(
        (line) => JSON.parse(line) as AuditEntry,
      );
      const report = buildReport(chain, rollback);
      const name = await this.reports.write(report);
      this.enrich(report);
      return name;
    } catch (error) {
      this.logger.error(
        { policy: `${rollback.policy.namespace}/${rollback.policy.name}` },
        `rollback report not written: ${reasonOf(error)}`,
      );
      return undefined;
    }
  }
}
