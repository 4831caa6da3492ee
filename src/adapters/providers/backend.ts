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
  /** What makes two requests the same, besides the query: address, credentials' refs, window. */
  cacheKey(ctx: MeasureContext): string;
  query(rendered: string, ctx: MeasureContext, env: QueryEnv): Promise<Answer>;
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
