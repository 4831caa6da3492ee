import { LRUCache } from 'lru-cache';
import type { Outcome } from './answer.js';

export interface QueryCacheOptions {
  /** Byte budget over the answers held (default 64 MiB). */
  maxBytes?: number;
  /** Most entries held, whatever their size (default 10,000). */
  maxEntries?: number;
  /** How long an answer is kept (default 2 min): keys carry the tick time, so only one tick reuses it. */
  ttlMs?: number;
}

/**
 * Dedupes backend requests: keyed by (provider identity, rendered query, tick time), it holds the
 * in-flight promise first and the outcome after, so identical queries from many policies in one
 * tick reach the backend once — failures included (no retry storm against a backend that is down).
 */
export class QueryCache {
  /** Backend requests started (misses) and answers shared (hits). */
  loads = 0;
  hits = 0;
  private readonly entries: LRUCache<string, Promise<Outcome>>;

  constructor(options: QueryCacheOptions = {}) {
    this.entries = new LRUCache({ max: options.maxEntries ?? 10_000, maxSize: options.maxBytes ?? 64 * 1024 * 1024, ttl: options.ttlMs ?? 120_000 });
  }

  get(key: string, load: () => Promise<Outcome>): Promise<Outcome> {
    const cached = this.entries.get(key);
    if (cached) {
      this.hits++;
      return cached;
    }
    this.loads++;
    const pending = load();
    this.entries.set(key, pending, { size: 1 });
    void pending.then((outcome) => {
      const size = outcome.ok ? Math.max(outcome.answer.bytes, 1) : 1;
      if (this.entries.peek(key) === pending) this.entries.set(key, pending, { size });
    });
    return pending;
  }

  get size(): number {
    return this.entries.size;
  }
}
