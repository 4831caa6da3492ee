import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { Agent, fetch, type Response } from 'undici';
import { systemClock, type Clock } from '../../lib/clock/clock.js';
import { HostDeniedError, HostPolicy } from './hosts.js';
import { MetricError } from './types.js';

/** Response-size cap: a body above it is an error, read no further (no OOM on a 200 MB answer). */
export const DEFAULT_MAX_BYTES = 4 * 1024 * 1024;
const MAX_ATTEMPTS = 2;
/** A retry is only worth it with at least this much of the budget left after the wait. */
const MIN_ATTEMPT_MS = 100;
/** The longest a backend's Retry-After may hold requests back: a wrong header must not silence a provider for days. */
const MAX_HOLD_MS = 15 * 60_000;

export interface HttpRequest {
  url: URL;
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** PEM CA bundle to trust instead of the system roots. */
  ca?: string;
}

export interface HttpLimits {
  /** The whole budget, retries and waits included. */
  timeoutMs: number;
  maxBytes?: number;
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  statusText: string;
  contentType: string;
  body: string;
  attempts: number;
  /** Why a retryable answer was not retried (no time left for Retry-After). */
  note?: string;
}

export interface HttpClientOptions {
  /** The operator's allow-list of provider hosts (hosts.ts); undefined: any host but link-local. */
  allowedHosts?: readonly string[];
  /** For jitter; tests pass a fixed one. */
  random?: () => number;
  /**
   * Deadlines, Retry-After holds and the waits between attempts (default: the system clock); tests pass a ManualClock.
   */
  clock?: Clock;
}

type Attempt =
  | { response: HttpResponse; retryable: boolean; retryAfterMs: number | null }
  | { error: MetricError; retryable: boolean; retryAfterMs: null };

export const seconds = (ms: number): string => `${Math.round(ms / 100) / 10}s`;

/**
 * Bounded HTTP for metric backends: one budget per request (timeout), a body cap, one retry with
 * jitter on network errors, 429 and 5xx inside the budget, Retry-After honoured (also across ticks:
 * a rate-limited origin is not asked again before its time), redirects refused, hosts checked.
 * Errors are MetricErrors without credentials (headers never enter a message).
 */
export class HttpClient {
  readonly hosts: HostPolicy;
  /** Requests sent (attempts), for tests and benchmarks. */
  sent = 0;
  private readonly random: () => number;
  private readonly clock: Clock;
  private readonly agents = new LRUCache<string, Agent>({ max: 16, dispose: (agent) => void agent.close() });
  private readonly limitedUntil = new LRUCache<string, number>({ max: 1000 });

  constructor(options: HttpClientOptions = {}) {
    this.hosts = new HostPolicy(options.allowedHosts);
    this.random = options.random ?? Math.random;
    this.clock = options.clock ?? systemClock;
  }

  async request(req: HttpRequest, limits: HttpLimits): Promise<HttpResponse> {
    this.admit(req.url);
    const deadline = this.clock.now() + limits.timeoutMs;
    for (let attempt = 1; ; attempt++) {
      const result = await this.attempt(req, deadline, limits);
      const wait = this.retryWait(result, attempt, deadline, req.url.origin);
      if (typeof wait === 'number') {
        await this.clock.sleep(wait, limits.signal).catch(() => undefined);
        continue;
      }
      if ('error' in result) {
        const suffix = result.retryable ? ` after ${attempt} attempt${attempt > 1 ? 's' : ''}${wait}` : '';
        throw new MetricError(`${result.error.message}${suffix}`);
      }
      return { ...result.response, attempts: attempt, ...(wait ? { note: wait.trim() } : {}) };
    }
  }

  /** Throws when the URL's host is refused, or its origin asked us to wait (Retry-After) and the time is not up. */
  private admit(url: URL): void {
    try {
      this.hosts.checkUrl(url);
    } catch (error) {
      throw new MetricError(`address refused: ${(error as Error).message}`);
    }
    const until = this.limitedUntil.get(url.origin);
    if (until !== undefined && until > this.clock.now()) {
      throw new MetricError(
        `rate-limited: the backend asked not to be queried before ${new Date(until).toISOString()}; not sent`,
      );
    }
  }

  /** A number: wait that long and retry. A string: do not retry, with a note why (maybe empty). */
  private retryWait(result: Attempt, attempt: number, deadline: number, origin: string): number | string {
    if (result.retryAfterMs !== null)
      this.limitedUntil.set(origin, this.clock.now() + Math.min(result.retryAfterMs, MAX_HOLD_MS));
    else if ('response' in result) this.limitedUntil.delete(origin);
    if (!result.retryable || attempt >= MAX_ATTEMPTS) return '';
    const wait = result.retryAfterMs ?? 100 + Math.floor(this.random() * 200);
    const left = deadline - this.clock.now();
    if (wait + MIN_ATTEMPT_MS > left) {
      return result.retryAfterMs !== null
        ? ` (Retry-After ${seconds(wait)} is beyond the ${seconds(Math.max(left, 0))} left of the budget)`
        : ' (no time left to retry)';
    }
    return wait;
  }

  private async attempt(req: HttpRequest, deadline: number, limits: HttpLimits): Promise<Attempt> {
    const timeout = AbortSignal.timeout(Math.max(deadline - this.clock.now(), 1));
    const signal = limits.signal ? AbortSignal.any([timeout, limits.signal]) : timeout;
    this.sent++;
    try {
      const res = await fetch(req.url, {
        method: req.method,
        headers: req.headers,
        body: req.body,
        redirect: 'manual',
        signal,
        dispatcher: this.agent(req.ca),
      });
      refuseRedirect(res);
      const body = await readCapped(res, limits.maxBytes ?? DEFAULT_MAX_BYTES);
      const retryable = res.status === 429 || res.status >= 500;
      const response = {
        status: res.status,
        statusText: res.statusText,
        contentType: res.headers.get('content-type') ?? '',
        body,
        attempts: 0,
      };
      return { response, retryable, retryAfterMs: retryable ? retryAfterMs(res, this.clock.now()) : null };
    } catch (error) {
      return {
        error: classify(error, timeout, limits),
        retryable: isNetworkError(error, timeout, limits),
        retryAfterMs: null,
      };
    }
  }

  private agent(ca: string | undefined): Agent {
    const key = ca === undefined ? '' : createHash('sha256').update(ca).digest('hex');
    let agent = this.agents.get(key);
    if (!agent) {
      agent = new Agent({
        connect: { lookup: this.hosts.lookup, ...(ca === undefined ? {} : { ca }) },
        keepAliveTimeout: 10_000,
      });
      this.agents.set(key, agent);
    }
    return agent;
  }

  /** Holds every request to the URL's origin back for `ms` (a rate limit the backend signalled in its body). */
  holdOff(url: URL, ms: number): void {
    this.limitedUntil.set(url.origin, this.clock.now() + Math.min(ms, MAX_HOLD_MS));
  }

  /** Closes idle connections (tests, shutdown). */
  async close(): Promise<void> {
    const agents = [...this.agents.values()];
    this.agents.clear();
    await Promise.all(agents.map((agent) => agent.close()));
  }
}

function refuseRedirect(res: Response): void {
  if (res.status < 300 || res.status >= 400) return;
  void res.body?.cancel().catch(() => undefined);
  const location = res.headers.get('location');
  throw new MetricError(
    `HTTP ${res.status} redirect${location ? ` to ${safeLocation(location)}` : ''} refused: redirects are not followed`,
  );
}

function safeLocation(location: string): string {
  try {
    const url = new URL(location, 'http://relative.invalid');
    return url.host === 'relative.invalid' ? url.pathname : `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return '(an unreadable address)';
  }
}

/** Retry-After (seconds or an HTTP date), else Datadog's X-RateLimit-Reset (seconds) on a 429. */
function retryAfterMs(res: Response, now: number): number | null {
  const header = res.headers.get('retry-after') ?? (res.status === 429 ? res.headers.get('x-ratelimit-reset') : null);
  if (header === null) return null;
  const secs = Number(header);
  if (Number.isFinite(secs) && secs >= 0) return secs * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.max(date - now, 0);
}

async function readCapped(res: Response, maxBytes: number): Promise<string> {
  const cap = `${(maxBytes / 1024 / 1024).toFixed(maxBytes % (1024 * 1024) ? 2 : 0)} MiB`;
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) {
    void res.body?.cancel().catch(() => undefined);
    throw new MetricError(`response too large: Content-Length ${declared} bytes is over the ${cap} cap`);
  }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
    const bytes = chunk.value as Uint8Array;
    size += bytes.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new MetricError(`response too large: over the ${cap} cap (stopped reading at ${size} bytes)`);
    }
    chunks.push(bytes);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function isNetworkError(error: unknown, timeout: AbortSignal, limits: HttpLimits): boolean {
  if (error instanceof MetricError || timeout.aborted || limits.signal?.aborted) return false;
  return !((error as { cause?: unknown }).cause instanceof HostDeniedError);
}

function classify(error: unknown, timeout: AbortSignal, limits: HttpLimits): MetricError {
  if (error instanceof MetricError) return error;
  if (limits.signal?.aborted) return new MetricError('aborted: the tick was cancelled');
  if (timeout.aborted) return new MetricError(`timeout after ${seconds(limits.timeoutMs)}`);
  const cause = (error as { cause?: unknown }).cause;
  if (cause instanceof HostDeniedError) return new MetricError(`address refused: ${cause.message}`);
  const detail = cause instanceof Error ? cause.message || (cause as { code?: string }).code : (error as Error).message;
  return new MetricError(`network error: ${detail ?? 'unknown'}`);
}
