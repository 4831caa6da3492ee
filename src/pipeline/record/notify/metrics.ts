import { Counter, Registry } from 'prom-client';
import type { NotifyDestination } from './destination.js';

/** What one delivery attempt came to. `retried`: an attempt after a failure (counted as well as its outcome). */
export type NotifyOutcome = 'sent' | 'failed' | 'retried';

/**
 * `kubestead_notifications_total{kind, outcome}`: notification attempts by destination kind (slack, teams,
 * webhook) and outcome. Labelled by kind, not by destination: names are per policy, a label per name would grow
 * without bound.
 */
export class NotificationMetrics {
  readonly registry = new Registry();
  private readonly attempts = new Counter({
    name: 'kubestead_notifications_total',
    help: 'Notification attempts by destination kind and outcome (sent, failed, retried)',
    labelNames: ['kind', 'outcome'],
    registers: [this.registry],
  });

  readonly observe = (destination: Pick<NotifyDestination, 'kind'>, outcome: NotifyOutcome): void => {
    this.attempts.inc({ kind: destination.kind, outcome });
  };
}
