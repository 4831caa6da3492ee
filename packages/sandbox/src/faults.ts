import { failure, type StatusBody } from './status.js';

export type FaultResponse = 409 | 429 | 500 | 503 | 'hang';

/** The next `times` requests matching method and path get `respond` instead of an answer. */
export interface FaultRule {
  /** HTTP method (GET, PUT, PATCH, …); any when absent. */
  method?: string;
  /** A path prefix (`/apis/apps/v1/namespaces/x/deployments`) or a pattern over path + query. */
  path: string | RegExp;
  /** Only the requests of this user (its token's username): one client cut off while the others are served. */
  user?: string;
  times?: number;
  respond: FaultResponse;
  /** 429/503: the Retry-After header. */
  retryAfterSeconds?: number;
  /** 'hang': how long before the connection is closed without an answer (default 120 s). */
  hangMs?: number;
}

interface ActiveRule extends FaultRule {
  left: number;
}

/** Which requests a rule matches: a method (any when absent) and a path prefix or a pattern over path + query. */
type RequestMatch = Pick<FaultRule, 'method' | 'path' | 'user'>;

function matches(rule: RequestMatch, method: string, pathAndQuery: string, user?: string): boolean {
  if (rule.method && rule.method.toUpperCase() !== method.toUpperCase()) return false;
  if (rule.user !== undefined && rule.user !== user) return false;
  const path = pathAndQuery.split('?')[0] ?? '';
  return typeof rule.path === 'string'
    ? path === rule.path || path.startsWith(`${rule.path.replace(/\/$/, '')}/`)
    : rule.path.test(pathAndQuery);
}

const REASONS: Record<number, [string, string]> = {
  409: [
    'Conflict',
    'Operation cannot be fulfilled: the object has been modified; please apply your changes to the latest version ' +
      'and try again (injected fault)',
  ],
  429: ['TooManyRequests', 'Too many requests, please try again later. (injected fault)'],
  500: ['InternalError', 'Internal error occurred: injected fault'],
  503: ['ServiceUnavailable', 'The server is currently unable to handle the request (injected fault)'],
};

export function faultStatus(rule: FaultRule): StatusBody {
  const code = rule.respond === 'hang' ? 504 : rule.respond;
  const [reason, message] = REASONS[code] ?? ['Timeout', 'injected fault'];
  return failure(
    code,
    reason,
    message,
    rule.retryAfterSeconds !== undefined ? { retryAfterSeconds: rule.retryAfterSeconds } : undefined,
  );
}

/** Test hooks for failing requests, dropping watches and compacting history. */
export class Faults {
  private rules: ActiveRule[] = [];
  private interleaved: Array<{ match: RequestMatch; action: () => Promise<void> }> = [];
  /** How many requests a fault answered, for assertions. */
  fired = 0;

  constructor(private readonly hooks: { dropWatches(abrupt: boolean): number; compact(): void }) {}

  inject(rule: FaultRule): void {
    this.rules.push({ ...rule, left: rule.times ?? 1 });
  }

  /** Ends every open watch; the clients see the stream close. Returns how many were open. */
  dropWatches(options: { abrupt?: boolean } = {}): number {
    return this.hooks.dropWatches(options.abrupt ?? false);
  }

  /** Forgets the watch history: the next watch from an older resourceVersion gets 410 Gone. */
  compact(): void {
    this.hooks.compact();
  }

  /**
   * Another client's write between a request and its answer: the next request matching `match` is
   * served, then `action` runs (an edit through the API, say), and only then is the answer sent.
   */
  interleave(match: RequestMatch, action: () => Promise<void>): void {
    this.interleaved.push({ match, action });
  }

  /** The interleaved action for this request, if one matches (taken once). */
  takeInterleaved(method: string, pathAndQuery: string): (() => Promise<void>) | undefined {
    const found = this.interleaved.find((i) => matches(i.match, method, pathAndQuery));
    if (!found) return undefined;
    this.interleaved = this.interleaved.filter((i) => i !== found);
    return found.action;
  }

  clear(): void {
    this.rules = [];
    this.interleaved = [];
  }

  pending(): number {
    return this.rules.reduce((n, r) => n + r.left, 0);
  }

  /** The fault for this request (of `user`, when known), if one matches (and counts it). */
  take(method: string, pathAndQuery: string, user?: string): FaultRule | undefined {
    const rule = this.rules.find((r) => matches(r, method, pathAndQuery, user));
    if (!rule) return undefined;
    rule.left -= 1;
    if (rule.left <= 0) this.rules = this.rules.filter((r) => r !== rule);
    this.fired += 1;
    return rule;
  }
}
