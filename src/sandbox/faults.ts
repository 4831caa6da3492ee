import { failure, type StatusBody } from './status.js';

export type FaultResponse = 409 | 429 | 500 | 503 | 'hang';

/** The next `times` requests matching method and path get `respond` instead of an answer. */
export interface FaultRule {
  /** HTTP method (GET, PUT, PATCH, …); any when absent. */
  method?: string;
  /** A path prefix (`/apis/apps/v1/namespaces/x/deployments`) or a pattern over path + query. */
  path: string | RegExp;
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

const REASONS: Record<number, [string, string]> = {
  409: ['Conflict', 'Operation cannot be fulfilled: the object has been modified; please apply your changes to the latest version and try again (injected fault)'],
  429: ['TooManyRequests', 'Too many requests, please try again later. (injected fault)'],
  500: ['InternalError', 'Internal error occurred: injected fault'],
  503: ['ServiceUnavailable', 'The server is currently unable to handle the request (injected fault)'],
};

export function faultStatus(rule: FaultRule): StatusBody {
  const code = rule.respond === 'hang' ? 504 : rule.respond;
  const [reason, message] = REASONS[code] ?? ['Timeout', 'injected fault'];
  return failure(code, reason, message, rule.retryAfterSeconds !== undefined ? { retryAfterSeconds: rule.retryAfterSeconds } : undefined);
}

/** Test hooks for failing requests, dropping watches and compacting history. */
export class Faults {
  private rules: ActiveRule[] = [];
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

  clear(): void {
    this.rules = [];
  }

  pending(): number {
    return this.rules.reduce((n, r) => n + r.left, 0);
  }

  /** The fault for this request, if one matches (and counts it). */
  take(method: string, pathAndQuery: string): FaultRule | undefined {
    const path = pathAndQuery.split('?')[0] ?? '';
    const rule = this.rules.find((r) => {
      if (r.method && r.method.toUpperCase() !== method.toUpperCase()) return false;
      return typeof r.path === 'string' ? path === r.path || path.startsWith(`${r.path.replace(/\/$/, '')}/`) : r.path.test(pathAndQuery);
    });
    if (!rule) return undefined;
    rule.left -= 1;
    if (rule.left <= 0) this.rules = this.rules.filter((r) => r !== rule);
    this.fired += 1;
    return rule;
  }
}
