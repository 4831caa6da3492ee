import { LRUCache } from 'lru-cache';
import type { Outcome } from './answer.js';

export interface QueryCacheOptions {
  /** Byte budget over the answers held (default 64 MiB). */
  maxBytes?: number;
  /** Most entries held, whatever their size (default 10,000). */
  maxEntries?: number;
  /** How long an answer is kept when the caller names no TTL (default 2 min). */
  ttlMs?: number;
}

/**
 * Dedupes backend requests: keyed by (provider identity, rendered query, evaluation window), it
 * holds the in-flight promise first and the outcome after, so identical queries from many policies
 * in one window reach the backend once — concurrent ones coalesced, failures included (no retry
 * storm against a backend that is down). An entry lives as long as its window (the policy interval).
 */
export class QueryCache {
  /** Backend requests started (misses) and answers shared (hits). */
  loads = 0;
  hits = 0;
  private readonly entries: LRUCache<string, Promise<Outcome<{ bytes: number }>>>;

  constructor(options: QueryCacheOptions = {}) {
    this.entries = new LRUCache({
      max: options.maxEntries ?? 10_000,
      maxSize: options.maxBytes ?? 64 * 1024 * 1024,
      ttl: options.ttlMs ?? 120_000,
    });
  }

  get<A extends { bytes: number }>(key: string, load: () => Promise<Outcome<A>>, ttlMs?: number): Promise<Outcome<A>> {
    const cached = this.entries.get(key) as Promise<Outcome<A>> | undefined;
    if (cached) {
      this.hits++;
      return cached;
    }
    this.loads++;
    const pending = load();
    const ttl = ttlMs === undefined ? {} : { ttl: ttlMs };
    this.entries.set(key, pending, { size: 1, ...ttl });
    void pending.then((outcome) => {
      const size = outcome.ok ? Math.max(outcome.answer.bytes, 1) : 1;
      if (this.entries.peek(key) === pending) this.entries.set(key, pending, { size, ...ttl });
    });
    return pending;
  }

  get size(): number {
    return this.entries.size;
  }
}
