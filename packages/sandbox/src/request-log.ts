/** One answered request, for tests that count what a client did (writes per minute, retries). */
export interface LoggedRequest {
  time: number;
  method: string;
  path: string;
  query: string;
  code: number;
  user?: string;
  /** The answer came from an injected fault. */
  fault: boolean;
}

/** The most recent requests the sandbox answered (a bounded ring; the oldest fall off). */
export class RequestLog {
  private entries: LoggedRequest[] = [];

  constructor(private readonly limit = 10_000) {}

  add(entry: LoggedRequest): void {
    this.entries.push(entry);
    if (this.entries.length > this.limit) this.entries = this.entries.slice(-Math.floor(this.limit / 2));
  }

  /** The logged requests, oldest first, optionally only those matching. */
  list(match: { method?: string; path?: string | RegExp; since?: number } = {}): LoggedRequest[] {
    return this.entries.filter((e) => {
      if (match.method && e.method !== match.method.toUpperCase()) return false;
      if (match.since !== undefined && e.time < match.since) return false;
      if (match.path === undefined) return true;
      return typeof match.path === 'string'
        ? e.path === match.path || e.path.startsWith(`${match.path}/`)
        : match.path.test(`${e.path}${e.query}`);
    });
  }

  clear(): void {
    this.entries = [];
  }
}
