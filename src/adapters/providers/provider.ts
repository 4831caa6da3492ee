import { performance } from 'node:perf_hooks';
import { PROVIDER_KINDS, type CheckSpec, type ProviderKind, type ProviderSpec } from '../../pipeline/policy/schema.js';
import { scrubUserinfo } from '../../pipeline/policy/urls.js';
import type { SecretReader } from '../secrets/reader.js';
import type { Answer, Outcome } from './answer.js';
import type { Backend, QueryEnv, QueryRange, RangeAnswer } from './backend.js';
import { cloudWatchBackend } from './cloudwatch.js';
import { comparisonAt } from './comparison.js';
import { queryWholeRange } from './range.js';
import { comparedQueries, comparisonOf, type Comparison } from '../../pipeline/policy/compare.js';
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
  type MeasurementHistory,
  type MetricProvider,
  type Sample,
  type TickRange,
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
    case 'cloudWatch':
      return cloudWatchBackend(spec.cloudWatch!);
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

type Base = Pick<Measurement, 'value' | 'min' | 'max' | 'provider' | 'query'>;

const baseOf = (check: CheckSpec, provider: string): Base => ({
  value: null,
  min: check.min ?? null,
  max: check.max ?? null,
  provider,
  query: '',
});

/** Answer fields an unavailable measurement keeps: the backend's warnings and the answer's shape. */
const answerExtras = (answer: { warnings: string[]; shape: string } | undefined) =>
  answer ? { ...(answer.warnings.length ? { warnings: answer.warnings } : {}), shape: answer.shape } : {};

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
    if (check.compare) {
      const time = ctx.time.getTime();
      const ticks = { startMs: time, endMs: time, stepMs: Math.max(1, Math.round(ctx.intervalSeconds * 1000)) };
      return (await this.history(check, ctx, ticks)).at(time);
    }
    const started = performance.now();
    const base = baseOf(check, this.name);
    let outcome: Outcome | undefined;
    try {
      base.query = this.render(check.query ?? '', ctx);
      const window = evaluationWindow(ctx);
      const key = `${this.backend.cacheKey(ctx)}\u0000${base.query}\u0000${window.index}`;
      outcome = await this.runtime.cache.get(key, () => this.load(base.query, ctx), window.ttlMs);
      if (!outcome.ok) throw new MetricError(outcome.error);
      return await this.fromAnswer(check, base, outcome.answer, { time: ctx.time, started });
    } catch (error) {
      return this.unavailable(base, error, started, outcome?.ok ? outcome.answer : undefined);
    }
  }

  async history(check: CheckSpec, ctx: MeasureContext, ticks: TickRange): Promise<MeasurementHistory> {
    const comparison = comparisonOf(check);
    return comparison ? this.comparisonHistory(comparison, check, ctx, ticks) : this.queryHistory(check, ctx, ticks);
  }

  /** A threshold check over a range: one range request at the interval, each tick's instant answer from it. */
  private async queryHistory(check: CheckSpec, ctx: MeasureContext, ticks: TickRange): Promise<MeasurementHistory> {
    const started = performance.now();
    const base = baseOf(check, this.name);
    try {
      base.query = this.render(check.query ?? '', ctx);
    } catch (error) {
      const failed = this.unavailable(base, error, started);
      return { at: () => Promise.resolve(failed) };
    }
    const outcome = await this.loadRange(base.query, ticks, ctx);
    const latencyMs = elapsed(started);
    return {
      at: async (timeMs) => {
        if (!outcome.ok) return this.unavailable(base, new MetricError(outcome.error), started);
        const answer = this.backend.answerAt(outcome.answer, timeMs, ctx);
        return this.fromAnswer(check, base, answer, { time: new Date(timeMs), latencyMs });
      },
    };
  }

  /** A comparison over a range: one range request a side, at the comparison's step, from a window before the first tick. */
  private async comparisonHistory(
    comparison: Comparison,
    check: CheckSpec,
    ctx: MeasureContext,
    ticks: TickRange,
  ): Promise<MeasurementHistory> {
    const started = performance.now();
    const base = baseOf(check, this.name);
    let queries: [string, string];
    try {
      queries = [this.render(comparison.canary, ctx), this.render(comparison.primary, ctx)];
      base.query = comparedQueries(...queries);
    } catch (error) {
      const failed = this.unavailable(base, error, started);
      return { at: () => Promise.resolve(failed) };
    }
    const stepMs = comparison.stepSeconds * 1000;
    const range = {
      startMs: ticks.startMs - comparison.windowSeconds * 1000,
      endMs: ticks.endMs,
      stepMs,
      windowMs: stepMs,
    };
    const [canary, primary] = await Promise.all(queries.map((query) => this.loadRange(query, range, ctx)));
    const latencyMs = elapsed(started);
    return {
      at: (timeMs) => {
        try {
          if (!canary!.ok) throw new MetricError(`canary: ${canary!.error}`);
          if (!primary!.ok) throw new MetricError(`primary: ${primary!.error}`);
          const measured = comparisonAt(comparison, { canary: canary!.answer, primary: primary!.answer }, timeMs);
          const observedAt = new Date(timeMs).toISOString();
          return Promise.resolve({ ...base, status: 'ok' as const, ...measured, observedAt, latencyMs });
        } catch (error) {
          return Promise.resolve(this.unavailable(base, error, started));
        }
      },
    };
  }

  private render(template: string, ctx: MeasureContext): string {
    return renderQuery(template, templateValues(ctx), this.backend.language);
  }

  /** The measurement of an answer: its value (the default one, or the check's `value` expression), or why none. */
  private async fromAnswer(
    check: CheckSpec,
    base: Base,
    answer: Answer,
    when: { time: Date; started?: number; latencyMs?: number },
  ): Promise<Measurement> {
    const started = when.started ?? performance.now();
    try {
      const sample = await this.extract(check, answer);
      return {
        ...base,
        status: 'ok',
        value: sample.value,
        observedAt: sample.observedAt ?? when.time.toISOString(),
        ...(answer.warnings.length ? { warnings: answer.warnings } : {}),
        latencyMs: when.latencyMs ?? elapsed(started),
        raw: sample.raw,
        shape: answer.shape,
      };
    } catch (error) {
      return {
        ...this.unavailable(base, error, started, answer),
        ...(when.latencyMs ? { latencyMs: when.latencyMs } : {}),
      };
    }
  }

  private unavailable(
    base: Base,
    error: unknown,
    started: number,
    answer?: { warnings: string[]; shape: string },
  ): Measurement {
    return {
      ...base,
      status: 'unavailable',
      error: scrubUserinfo(`${this.backend.where}: ${messageOf(error)}`),
      ...answerExtras(answer),
      latencyMs: elapsed(started),
    };
  }

  private async extract(check: CheckSpec, answer: Answer): Promise<Sample> {
    if (check.value !== undefined) return evaluateValue(check.value, answer.doc);
    if ('error' in answer.sample) throw new MetricError(answer.sample.error);
    return answer.sample;
  }

  /** One instant request through the cache. */
  private load(query: string, ctx: MeasureContext): Promise<Outcome> {
    return this.ask(query, ctx, (env, reading) => this.backend.query(query, reading, env), cleanAnswer);
  }

  /** A whole range (in parts past the backend's limit), through the cache: a live comparison shares it like a query. */
  private loadRange(query: string, range: QueryRange, ctx: MeasureContext): Promise<Outcome<RangeAnswer>> {
    const key = [this.backend.cacheKey(ctx), 'range', query, range.startMs, range.endMs, range.stepMs].join('\u0000');
    const ttlMs = evaluationWindow(ctx).ttlMs;
    const ask = () =>
      this.ask(query, ctx, (env, reading) => queryWholeRange(this.backend, { query, range }, reading, env), cleanRange);
    return this.runtime.cache.get(key, ask, ttlMs);
  }

  /** One backend request; never rejects, and no secret value survives in what it returns. */
  private async ask<A>(
    query: string,
    ctx: MeasureContext,
    request: (env: QueryEnv, ctx: MeasureContext) => Promise<A>,
    clean: (answer: A, seen: string[]) => A,
  ): Promise<Outcome<A>> {
    const started = performance.now();
    const seen: string[] = [];
    try {
      const env = { http: this.runtime.http, sensitive: (value: string) => void seen.push(value) };
      const answer = await request(env, { ...ctx, secrets: recordingReader(ctx.secrets, seen) });
      ctx.logger?.debug({ provider: this.name, query, latencyMs: elapsed(started) }, 'metric query answered');
      return { ok: true, answer: clean(answer, seen), latencyMs: elapsed(started) };
    } catch (error) {
      const message = clip(scrub(messageOf(error), seen));
      ctx.logger?.debug({ provider: this.name, query, error: message }, 'metric query failed');
      return { ok: false, error: message, latencyMs: elapsed(started) };
    }
  }
}

const cleanWarnings = (warnings: string[], seen: string[]) => warnings.slice(0, 10).map((w) => clip(scrub(w, seen)));

function cleanAnswer(answer: Answer, seen: string[]): Answer {
  const sample = 'error' in answer.sample ? { error: clip(scrub(answer.sample.error, seen)) } : answer.sample;
  return { ...answer, warnings: cleanWarnings(answer.warnings, seen), sample, shape: scrub(answer.shape, seen) };
}

function cleanRange(answer: RangeAnswer, seen: string[]): RangeAnswer {
  return { ...answer, warnings: cleanWarnings(answer.warnings, seen), shape: scrub(answer.shape, seen) };
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
