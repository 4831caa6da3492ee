import type { Logger } from '../../lib/log/logger.js';
import type { CheckSpec, ProviderKind } from '../../pipeline/policy/schema.js';
import type { SecretReader } from '../secrets/reader.js';
import type { ComparisonFacts } from '../../pipeline/policy/compare.js';

/**
 * One check's measurement: the `checks.<name>` entry of a FactSnapshot (docs/architecture.md, "FactSnapshot v1") plus
 * audit
 * fields. `ok` only when a finite number was read; every failure is `unavailable` with an error
 * that says what happened and where. Never holds a credential.
 */
export interface Measurement {
  status: 'ok' | 'unavailable';
  value: number | null;
  min: number | null;
  max: number | null;
  /** The provider's name in `spec.providers`. */
  provider: string;
  /** The rendered query, as sent (empty when rendering failed). */
  query: string;
  /** Time of the sample read (ok only). */
  observedAt?: string;
  error?: string;
  /** Warnings the backend returned with its answer (partial data and the like). */
  warnings?: string[];
  /** Wall time of this measurement, including a wait for a shared in-flight request. */
  latencyMs: number;
  /** The small raw value read (a sample string, a point, a row field); never the whole body. */
  raw?: unknown;
  /** What the backend answered, in a few words (`vector with 1 series`); for `kubestead query` and the audit log. */
  shape?: string;
  /** A comparison check's statistics, with the samples they are of (the snapshot keeps their counts only). */
  comparison?: ComparisonFacts & { samples: { canary: number[]; primary: number[] } };
}

/** Everything one tick knows that a measurement needs: one object, built once per tick and policy. */
export interface MeasureContext {
  /** The tick's time: queries are evaluated at (or end at) this instant. */
  time: Date;
  target: { name: string; namespace: string };
  policy: { name: string; namespace: string };
  rollout: { canaryRevision: string | null };
  /** The policy's interval in seconds (the window of a Datadog query). */
  intervalSeconds: number;
  /** Reads the Secret refs of providers, in the policy's namespace. */
  secrets: SecretReader;
  /** Aborts every request of the tick (shutdown, lost leadership). */
  signal?: AbortSignal;
  logger?: Logger;
}

/** The ticks of a backtest (ms): from `startMs` to `endMs`, one every `stepMs` (the policy's interval). */
export interface TickRange {
  startMs: number;
  endMs: number;
  stepMs: number;
}

/** A check measured over a range: at each of its ticks, the Measurement a live tick would have made. */
export interface MeasurementHistory {
  at(timeMs: number): Promise<Measurement>;
}

/** The one seam through which a check is measured. `measure`, `history` and `at` never throw or reject. */
export interface MetricProvider {
  readonly name: string;
  readonly kind: ProviderKind;
  measure(check: CheckSpec, ctx: MeasureContext): Promise<Measurement>;
  /** Every tick of a range from one range request per query for the whole range (`ctx.time` is its start). */
  history(check: CheckSpec, ctx: MeasureContext, ticks: TickRange): Promise<MeasurementHistory>;
}

/** A failure with a message fit for a Measurement's `error`; thrown inside providers, never out of them. */
export class MetricError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MetricError';
  }
}

/** A provider spec is wrong in a way validation should have caught (an unknown kind): a policy error. */
export class ProviderConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProviderConfigError';
  }
}

/** The number a provider read, with what it came from. */
export interface Sample {
  value: number;
  raw: unknown;
  observedAt?: string;
}
