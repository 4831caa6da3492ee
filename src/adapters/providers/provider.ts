import { performance } from 'node:perf_hooks';
import { PROVIDER_KINDS, type CheckSpec, type ProviderKind, type ProviderSpec } from '../../pipeline/policy/schema.js';
import { scrubUserinfo } from '../../pipeline/policy/urls.js';
import type { SecretReader } from '../secrets/reader.js';
import type { Answer, Outcome } from './answer.js';
import type { Backend } from './backend.js';
import { QueryCache, type QueryCacheOptions } from './cache.js';
import { datadogBackend } from './datadog.js';
import { evaluateValue } from './extract.js';
import { HttpClient, type HttpClientOptions } from './http.js';
import { newRelicBackend } from './newrelic.js';
import { prometheusBackend } from './prometheus.js';
import { renderQuery, templateValues } from './template.js';
import { webBackend } from './web.js';
import {
  MetricError,
  ProviderConfigError,
  type MeasureContext,
  type Measurement,
  type MetricProvider,
  type Sample,
} from './types.js';

/** What every tick shares: the HTTP client (agents, host policy, rate-limit memory) and the query cache. */
export interface MetricsRuntime {
  http: HttpClient;
  cache: QueryCache;
  /** How many checks of a policy are measured at once. */
  concurrency: number;
}

export function createMetricsRuntime(
  options: HttpClientOptions & QueryCacheOptions & { concurrency?: number } = {},
): MetricsRuntime {
  return { http: new HttpClient(options), cache: new QueryCache(options), concurrency: options.concurrency ?? 8 };
}

/** The provider kind of a spec; a spec with none (or several) is a policy error. */
export function providerKind(spec: ProviderSpec): ProviderKind {
  const kinds = PROVIDER_KINDS.filter((kind) => spec[kind] !== undefined);
  if (kinds.length !== 1 || !kinds[0]) {
    const unknown = Object.keys(spec).filter((key) => !(PROVIDER_KINDS as readonly string[]).includes(key));
    const strays = unknown.length ? ` (${unknown.join(', ')} is no provider kind)` : '';
    const found = `${kinds.join(' and ') || 'none'}${strays}`;
    throw new ProviderConfigError(`a provider has exactly one kind of ${PROVIDER_KINDS.join(', ')}; got ${found}`);
  }
  return kinds[0];
}

function backendFor(spec: ProviderSpec): Backend {
  const kind = providerKind(spec);
  switch (kind) {
    case 'prometheus':
      return prometheusBackend(spec.prometheus!);
    case 'datadog':
      return datadogBackend(spec.datadog!);
    case 'newRelic':
      return newRelicBackend(spec.newRelic!);
    case 'web':
      return webBackend(spec.web!);
    default: {
      const unknown: never = kind;
      throw new ProviderConfigError(`unknown provider kind ${String(unknown)}`);
    }
  }
}

/** The provider for a `spec.providers` entry; throws a ProviderConfigError for a spec of no known kind. */
export function createProvider(name: string, spec: ProviderSpec, runtime: MetricsRuntime): MetricProvider {
  return new BackendProvider(name, backendFor(spec), runtime);
}

/** Records every secret value read, so that none can leave in an error or warning. */
function recordingReader(inner: SecretReader, seen: string[]): SecretReader {
  return {
    read: async (namespace, ref) => {
      const value = await inner.read(namespace, ref);
      seen.push(value);
      return value;
    },
  };
}

/** Every secret value read, and every URL's user:password@, out of a text. */
export function scrub(text: string, secrets: readonly string[]): string {
  return secrets.reduce(
    (out, secret) => (secret.length >= 4 ? out.split(secret).join('[redacted]') : out),
    scrubUserinfo(text),
  );
}

/** Backend text in a message is kept short: a Measurement lands in every audit entry. */
const MAX_MESSAGE = 500;
export function clip(text: string): string {
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE - 1)}…` : text;
}

const messageOf = (error: unknown): string =>
  error instanceof MetricError
    ? error.message
    : `${error instanceof Error ? error.name : 'error'}: ${error instanceof Error ? error.message : String(error)}`;

class BackendProvider implements MetricProvider {
  readonly kind: ProviderKind;

  constructor(
    readonly name: string,
    private readonly backend: Backend,
    private readonly runtime: MetricsRuntime,
  ) {
    this.kind = backend.kind;
  }

  async measure(check: CheckSpec, ctx: MeasureContext): Promise<Measurement> {
    const started = performance.now();
    const base = { value: null, min: check.min ?? null, max: check.max ?? null, provider: this.name, query: '' };
    let outcome: Outcome | undefined;
    try {
      base.query = renderQuery(check.query, templateValues(ctx), this.backend.language);
      const window = evaluationWindow(ctx);
      const key = `${this.backend.cacheKey(ctx)}\u0000${base.query}\u0000${window.index}`;
      outcome = await this.runtime.cache.get(key, () => this.load(base.query, ctx), window.ttlMs);
      if (!outcome.ok) throw new MetricError(outcome.error);
      const sample = await this.extract(check, outcome.answer);
      const { warnings, shape } = outcome.answer;
      return {
        ...base,
        status: 'ok',
        value: sample.value,
        observedAt: sample.observedAt ?? ctx.time.toISOString(),
        ...(warnings.length ? { warnings } : {}),
        latencyMs: elapsed(started),
        raw: sample.raw,
        shape,
      };
    } catch (error) {
      const answer = outcome?.ok ? outcome.answer : undefined;
      const extra = answer
        ? { ...(answer.warnings.length ? { warnings: answer.warnings } : {}), shape: answer.shape }
        : {};
      return {
        ...base,
        status: 'unavailable',
        error: scrubUserinfo(`${this.backend.where}: ${messageOf(error)}`),
        ...extra,
        latencyMs: elapsed(started),
      };
    }
  }

  private async extract(check: CheckSpec, answer: Answer): Promise<Sample> {
    if (check.value !== undefined) return evaluateValue(check.value, answer.doc);
    if ('error' in answer.sample) throw new MetricError(answer.sample.error);
    return answer.sample;
  }

  /** One backend request; never rejects, and no secret value survives in what it returns. */
  private async load(query: string, ctx: MeasureContext): Promise<Outcome> {
    const started = performance.now();
    const seen: string[] = [];
    try {
      const env = { http: this.runtime.http, sensitive: (value: string) => void seen.push(value) };
      const answer = await this.backend.query(query, { ...ctx, secrets: recordingReader(ctx.secrets, seen) }, env);
      const warnings = answer.warnings.slice(0, 10).map((w) => clip(scrub(w, seen)));
      const sample = 'error' in answer.sample ? { error: clip(scrub(answer.sample.error, seen)) } : answer.sample;
      ctx.logger?.debug({ provider: this.name, query, latencyMs: elapsed(started) }, 'metric query answered');
      return {
        ok: true,
        answer: { ...answer, warnings, sample, shape: scrub(answer.shape, seen) },
        latencyMs: elapsed(started),
      };
    } catch (error) {
      const message = clip(scrub(messageOf(error), seen));
      ctx.logger?.debug({ provider: this.name, query, error: message }, 'metric query failed');
      return { ok: false, error: message, latencyMs: elapsed(started) };
    }
  }
}

/**
 * The evaluation window of a tick: its interval, counted from the epoch. Every tick of every policy
 * that falls in the same window shares one answer per provider and query (the first one evaluated in
 * it); one policy ticks at most once per interval, so each of its regular ticks asks afresh.
 */
export function evaluationWindow(ctx: Pick<MeasureContext, 'time' | 'intervalSeconds'>): {
  index: string;
  ttlMs: number;
} {
  const intervalMs = Math.max(1, Math.round(ctx.intervalSeconds * 1000));
  return { index: `${intervalMs}@${Math.floor(ctx.time.getTime() / intervalMs)}`, ttlMs: intervalMs };
}

const elapsed = (started: number) => Math.round((performance.now() - started) * 100) / 100;
