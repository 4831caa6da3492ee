import type { HttpResponse } from './http.js';
import { MetricError, type Sample } from './types.js';

/** What a backend answered to one query: shared by every check that sent the same query in a tick. */
export interface Answer {
  /** The input of a check's `value` jsonata expression (documented per provider). */
  doc: unknown;
  /** The default extraction (the single number), or why there is none. */
  sample: Sample | { error: string };
  /** `vector with 1 series`, `time_series with 1 series, 5 points`, … */
  shape: string;
  warnings: string[];
  /** Size of the body read, for the cache's byte budget. */
  bytes: number;
}

/** A backend request's result, shared through the cache: an answer (instant or range), or why there is none. */
export type Outcome<A = Answer> =
  { ok: true; answer: A; latencyMs: number } | { ok: false; error: string; latencyMs: number };

export { isObj, type Obj } from '../../pipeline/policy/objects.js';

/** Runs a default extraction, turning its MetricError into data. */
export function trySample(pick: () => Sample): Sample | { error: string } {
  try {
    return pick();
  } catch (error) {
    if (error instanceof MetricError) return { error: error.message };
    throw error;
  }
}

/** `HTTP 503 Service Unavailable after 2 attempts: detail` */
export function httpFailure(res: HttpResponse, detail?: string): MetricError {
  const attempts =
    res.attempts > 1 || res.status === 429 || res.status >= 500
      ? ` after ${res.attempts} attempt${res.attempts > 1 ? 's' : ''}`
      : '';
  const note = res.note ? ` ${res.note}` : '';
  return new MetricError(
    `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}${attempts}${note}${detail ? `: ${detail}` : ''}`,
  );
}

/** The body as JSON, or a MetricError that says what came instead (an HTML error page, say). */
export function parseJson(res: HttpResponse): unknown {
  try {
    return JSON.parse(res.body) as unknown;
  } catch {
    const start = res.body.slice(0, 40).replace(/\s+/g, ' ').trim();
    const type = res.contentType ? `, content-type ${res.contentType.split(';')[0]}` : '';
    const body = start ? `, starts with ${JSON.stringify(start)}` : ', empty body';
    throw new MetricError(`the answer is not JSON (HTTP ${res.status}${type}${body})`);
  }
}

/** The body as JSON when it is JSON, else undefined (for error answers). */
export function maybeJson(res: HttpResponse): unknown {
  try {
    return JSON.parse(res.body) as unknown;
  } catch {
    return undefined;
  }
}

export function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))) : [];
}

/** `3 series returned where one was expected: a, b, c` (at most three named). */
export function ambiguous(count: number, what: string, names: string[]): MetricError {
  const shown = names.slice(0, 3).join(', ') + (names.length > 3 ? ', …' : '');
  return new MetricError(`${count} ${what} returned where one was expected${shown ? `: ${shown}` : ''}`);
}

export const EMPTY = 'empty result: the query matched no series';
