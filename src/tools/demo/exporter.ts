import type { Clock } from '../../lib/clock/clock.js';

export const TRACKS = ['primary', 'canary'] as const;
export type Track = (typeof TRACKS)[number];

/** How one track of the shop behaves from a moment on. */
export interface Behaviour {
  requestsPerSecond: number;
  /** Share of requests answered 500, 0…1. */
  errorRate: number;
  /** Every request of the track takes this long. */
  latencySeconds: number;
}

/** Traffic of one track over a window: requests, 5xx, and the latency histogram's buckets (cumulative). */
export interface Counts {
  requests: number;
  errors: number;
  /** Per bound of LATENCY_BUCKETS (and +Inf last), requests at most that slow. */
  buckets: number[];
  latencySum: number;
}

export const LATENCY_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] as const;
export const HEALTHY: Behaviour = { requestsPerSecond: 50, errorRate: 0.002, latencySeconds: 0.04 };

interface Segment extends Behaviour {
  since: number;
}

const emptyCounts = (): Counts => ({
  requests: 0,
  errors: 0,
  buckets: new Array<number>(LATENCY_BUCKETS.length + 1).fill(0),
  latencySum: 0,
});

function addSegment(out: Counts, segment: Behaviour, seconds: number): void {
  const requests = segment.requestsPerSecond * seconds;
  out.requests += requests;
  out.errors += requests * segment.errorRate;
  out.latencySum += requests * segment.latencySeconds;
  LATENCY_BUCKETS.forEach((bound, i) => {
    if (segment.latencySeconds <= bound) out.buckets[i]! += requests;
  });
  out.buckets[LATENCY_BUCKETS.length]! += requests;
}

/**
 * The demo's simulated `shop` traffic. Counters are the exact integral of each track's behaviour
 * over the clock's time, so a window's rates are known without sampling: the exporter's text and
 * the built-in metrics source agree with each other and with what Prometheus would compute.
 */
export class ShopTraffic {
  private readonly history = new Map<Track, Segment[]>();
  private readonly start: number;

  constructor(
    private readonly clock: Clock,
    readonly app = 'shop',
    initial: Behaviour = HEALTHY,
  ) {
    this.start = clock.now();
    for (const track of TRACKS) this.history.set(track, [{ ...initial, since: this.start }]);
  }

  /** The behaviour of a track now. */
  behaviour(track: Track): Behaviour {
    const { since: _since, ...current } = this.segments(track).at(-1)!;
    return current;
  }

  /** Changes a track's behaviour from now on (the fields given). */
  set(track: Track, change: Partial<Behaviour>): Behaviour {
    const next = { ...this.behaviour(track), ...change };
    const problem = behaviourProblem(next);
    if (problem) throw new RangeError(problem);
    this.segments(track).push({ ...next, since: this.clock.now() });
    return next;
  }

  /** Traffic of a track in the window (fromMs, toMs], clipped to when the shop started. */
  counts(track: Track, fromMs: number, toMs: number): Counts {
    const out = emptyCounts();
    const segments = this.segments(track);
    segments.forEach((segment, i) => {
      const end = Math.min(segments[i + 1]?.since ?? Infinity, toMs);
      const begin = Math.max(segment.since, fromMs);
      if (end > begin) addSegment(out, segment, (end - begin) / 1000);
    });
    return out;
  }

  /** The Prometheus text exposition of the counters now. */
  exposition(): string {
    const now = this.clock.now();
    const lines = [
      '# HELP http_requests_total Requests served by the shop, by track and status code.',
      '# TYPE http_requests_total counter',
    ];
    const totals = TRACKS.map((track) => [track, this.counts(track, this.start, now)] as const);
    for (const [track, c] of totals) {
      lines.push(`http_requests_total{app="${this.app}",track="${track}",code="200"} ${round(c.requests - c.errors)}`);
      lines.push(`http_requests_total{app="${this.app}",track="${track}",code="500"} ${round(c.errors)}`);
    }
    lines.push(
      '# HELP http_request_duration_seconds Request latency of the shop, by track.',
      '# TYPE http_request_duration_seconds histogram',
    );
    for (const [track, c] of totals) {
      const labels = `app="${this.app}",track="${track}"`;
      [...LATENCY_BUCKETS.map(String), '+Inf'].forEach((le, i) =>
        lines.push(`http_request_duration_seconds_bucket{${labels},le="${le}"} ${round(c.buckets[i]!)}`),
      );
      lines.push(
        `http_request_duration_seconds_sum{${labels}} ${round(c.latencySum)}`,
        `http_request_duration_seconds_count{${labels}} ${round(c.requests)}`,
      );
    }
    return `${lines.join('\n')}\n`;
  }

  private segments(track: Track): Segment[] {
    return this.history.get(track)!;
  }
}

const round = (value: number): string => String(Math.round(value * 1000) / 1000);

/** Why a behaviour is impossible, or undefined. */
export function behaviourProblem(b: Behaviour): string | undefined {
  if (!Number.isFinite(b.requestsPerSecond) || b.requestsPerSecond < 0)
    return `requestsPerSecond must be a number ≥ 0, got ${String(b.requestsPerSecond)}`;
  if (!Number.isFinite(b.errorRate) || b.errorRate < 0 || b.errorRate > 1)
    return `errorRate must be a number from 0 to 1, got ${String(b.errorRate)}`;
  if (!Number.isFinite(b.latencySeconds) || b.latencySeconds <= 0)
    return `latencySeconds must be a number above 0, got ${String(b.latencySeconds)}`;
  return undefined;
}
