import type { Backend, QueryEnv, QueryRange, RangeAnswer, RangeSeries } from './backend.js';
import type { MeasureContext } from './types.js';

/** A range cut into parts of at most `maxPoints` steps each, in order (one part when it fits). */
export function rangeParts(range: QueryRange, maxPoints: number): QueryRange[] {
  const count = Math.floor((range.endMs - range.startMs) / range.stepMs) + 1;
  if (count <= maxPoints) return [range];
  const parts: QueryRange[] = [];
  for (let first = 0; first < count; first += maxPoints) {
    const startMs = range.startMs + first * range.stepMs;
    parts.push({ ...range, startMs, endMs: Math.min(range.endMs, startMs + (maxPoints - 1) * range.stepMs) });
  }
  return parts;
}

/**
 * A whole range asked of a backend: one request, or, past the backend's limit of points a series
 * (Prometheus 11,000, NRQL 366 buckets), one per part, their series joined by name.
 */
export async function queryWholeRange(
  backend: Backend,
  asked: { query: string; range: QueryRange },
  ctx: MeasureContext,
  env: QueryEnv,
): Promise<RangeAnswer> {
  const { query, range } = asked;
  const answers: RangeAnswer[] = [];
  for (const part of rangeParts(range, backend.maxPoints))
    answers.push(await backend.queryRange(query, part, ctx, env));
  if (answers.length === 1) return answers[0]!;
  const series = new Map<string, RangeSeries>();
  for (const answer of answers) {
    for (const s of answer.series) {
      const known = series.get(s.name);
      if (known) known.points.push(...s.points);
      else series.set(s.name, { ...s, points: [...s.points] });
    }
  }
  return {
    series: [...series.values()],
    shape: `${answers[0]!.shape} (in ${answers.length} requests)`,
    warnings: [...new Set(answers.flatMap((a) => a.warnings))],
    bytes: answers.reduce((sum, a) => sum + a.bytes, 0),
  };
}
