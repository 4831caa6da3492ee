import { parseDuration } from '../../pipeline/policy/duration.js';
import type { ProviderKind } from '../../pipeline/policy/schema.js';
import type { Answer } from './answer.js';
import type { HttpClient, HttpLimits } from './http.js';
import type { QueryLanguage } from './template.js';
import type { MeasureContext } from './types.js';

/** One backend kind: how a rendered query becomes an Answer. `query` throws MetricErrors. */
export interface Backend {
  readonly kind: ProviderKind;
  readonly language: QueryLanguage;
  /** Where, for messages: `prometheus http://prom:9090` (no credentials). */
  readonly where: string;
  /** Most points a range request may ask for a series: a longer range is asked in parts. */
  readonly maxPoints: number;
  /** What makes two requests the same, besides the query: address, credentials' refs, window. */
  cacheKey(ctx: MeasureContext): string;
  query(rendered: string, ctx: MeasureContext, env: QueryEnv): Promise<Answer>;
  /**
   * One range request: the query's series from `range.startMs` to `range.endMs` at `range.stepMs`
   * (Prometheus query_range, Datadog timeseries, NRQL TIMESERIES); throws MetricErrors.
   */
  queryRange(rendered: string, range: QueryRange, ctx: MeasureContext, env: QueryEnv): Promise<RangeAnswer>;
  /** What `query` would have answered at a tick of a range asked with the ticks' step (answerAt throws nothing). */
  answerAt(range: RangeAnswer, timeMs: number, ctx: MeasureContext): Answer;
}

/**
 * The times a range request covers (ms). `windowMs` is the span each point aggregates when the
 * backend needs it said (a NRQL sliding window); by default a point is an instant or a step.
 */
export interface QueryRange {
  startMs: number;
  endMs: number;
  stepMs: number;
  windowMs?: number;
}

/** One point of a range answer: its time (ms), its finite number (null for NaN, null or none), and as the backend gave it. */
export interface RangePoint {
  t: number;
  value: number | null;
  raw: unknown;
}

/** One series of a range answer: its points, and the backend's own series object (labels), for answerAt. */
export interface RangeSeries {
  name: string;
  points: RangePoint[];
  source: unknown;
}

export interface RangeAnswer {
  series: RangeSeries[];
  shape: string;
  warnings: string[];
  bytes: number;
}

/** What a backend gets besides the tick: the HTTP client, and where to declare derived credentials. */
export interface QueryEnv {
  http: HttpClient;
  /** Declares a value made from a secret (a basic-auth header): it is scrubbed from errors like the secret. */
  sensitive: (value: string) => void;
}

/** A duration of the spec in milliseconds (the schema guarantees the format). */
export function timeoutMs(text: string): number {
  return (parseDuration(text) ?? 5) * 1000;
}

/** An address without credentials or query, for messages. */
export function displayUrl(address: string): string {
  const url = new URL(address);
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/$/, '')}`;
}

/**
 * The cache identity of a spec; with Secret refs (`…SecretRef`, `secretKeyRef`) the namespace is part of it (refs
 * resolve per namespace).
 */
export function specIdentity(kind: ProviderKind, spec: object, ctx: MeasureContext): string {
  const json = JSON.stringify(spec);
  return `${kind}\u0000${/secret\w*ref/i.test(json) ? ctx.policy.namespace : ''}\u0000${json}`;
}

/** The limits of one backend request: the provider's timeout, and the tick's cancellation. */
export function limitsOf(budgetMs: number, ctx: MeasureContext): HttpLimits {
  return { timeoutMs: budgetMs, ...(ctx.signal ? { signal: ctx.signal } : {}) };
}
