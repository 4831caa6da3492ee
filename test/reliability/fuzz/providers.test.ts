import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Answer } from '../../../src/adapters/providers/answer.js';
import { parseAnswer as datadog } from '../../../src/adapters/providers/datadog.js';
import type { HttpResponse } from '../../../src/adapters/providers/http.js';
import { parseAnswer as newRelic } from '../../../src/adapters/providers/newrelic.js';
import { parseAnswer as prometheus } from '../../../src/adapters/providers/prometheus.js';
import { MetricError } from '../../../src/adapters/providers/types.js';
import { fuzzRuns } from './settings.js';

const ACCOUNT = 1234567;
const response = (body: string, status = 200): HttpResponse => ({
  status,
  statusText: status === 200 ? 'OK' : 'Error',
  contentType: 'application/json',
  body,
  attempts: 1,
});

/** The value a parse gives as an `ok` measurement, or undefined (an error, or no default sample). */
function okValue(parse: (res: HttpResponse) => Answer, res: HttpResponse): number | undefined {
  try {
    const { sample } = parse(res);
    return 'value' in sample ? sample.value : undefined;
  } catch (error) {
    if (error instanceof MetricError) return undefined;
    throw error;
  }
}

/** Well-formed answers of each provider with one number in them, as a function of that number's JSON. */
const SHAPES = {
  prometheus: {
    parse: prometheus,
    wrap: (v: unknown) => ({
      status: 'success',
      data: { resultType: 'vector', result: [{ metric: { app: 'a' }, value: [1764150000, v] }] },
    }),
    good: '0.5',
  },
  datadog: {
    parse: datadog,
    wrap: (v: unknown) => ({ status: 'ok', series: [{ scope: 'app:a', pointlist: [[1764150000000, v]] }] }),
    good: 0.5,
  },
  newRelic: {
    parse: (res: HttpResponse) => newRelic(res, ACCOUNT),
    wrap: (v: unknown) => ({ data: { actor: { account: { nrql: { results: [{ score: v }] } } } } }),
    good: 0.5,
  },
} as const;
type Provider = keyof typeof SHAPES;
const PROVIDERS = Object.keys(SHAPES) as Provider[];

/** A value in the number's place that is not a finite number of the provider's kind. */
const badValue = fc.oneof(
  fc.constantFrom('NaN', '+Inf', '-Inf', 'Infinity', '', 'abc', '1e999', '-1e999', null, true, false, [], {}),
  fc.constantFrom(Number.MAX_VALUE * 10, -Number.MAX_VALUE * 10).map(() => '1e400'),
  fc.string().filter((s) => s.trim() === '' || Number.isNaN(Number(s))),
  fc.array(fc.double(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 }), { maxKeys: 2 }),
);

/** A deep nesting of lists and objects. */
const deep = fc.integer({ min: 50, max: 2000 }).map((depth) => {
  let v: unknown = 0.5;
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { v };
  return v;
});

describe('fuzz: provider answers never give an ok measurement when malformed', () => {
  it.each(PROVIDERS)('%s: the well-formed answer is ok (the oracle can say yes)', (name) => {
    const { parse, wrap, good } = SHAPES[name];
    expect(okValue(parse, response(JSON.stringify(wrap(good))))).toBe(0.5);
  });

  it.each(PROVIDERS)('%s: a wrong type, NaN, ±Inf or a huge number where the number goes', (name) => {
    const { parse, wrap } = SHAPES[name];
    fc.assert(
      fc.property(fc.oneof(badValue, deep), (v) => {
        const value = okValue(parse, response(JSON.stringify(wrap(v))));
        // Datadog and New Relic carry numbers as JSON numbers; a number that JSON cannot hold is never ok
        expect(value, JSON.stringify(v)?.slice(0, 80)).toBeUndefined();
      }),
      fuzzRuns(300),
    );
  });

  it.each(PROVIDERS)('%s: a truncated answer', (name) => {
    const { parse, wrap, good } = SHAPES[name];
    const text = JSON.stringify(wrap(good));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: text.length - 1 }), (cut) => {
        expect(okValue(parse, response(text.slice(0, cut)))).toBeUndefined();
      }),
      fuzzRuns(200),
    );
  });

  it.each(PROVIDERS)('%s: any one node of the answer replaced by something else', (name) => {
    const { parse, wrap, good } = SHAPES[name];
    const original = wrap(good) as unknown;
    const paths = nodePaths(original);
    fc.assert(
      fc.property(
        fc.constantFrom(...paths),
        fc.oneof(badValue, deep, fc.double(), fc.constantFrom(undefined, 'error', 'matrix', 'scalar', 1e300, -1e300)),
        (path, replacement) => {
          const mutated = replaced(original, path, replacement);
          const value = okValue(parse, response(JSON.stringify(mutated)));
          // a mutation may leave (or make) a well-formed answer; an ok value is then a finite number the
          // answer holds — never one made up from a wrong type, a NaN, an infinity or a missing node
          if (value !== undefined) {
            expect(Number.isFinite(value)).toBe(true);
            expect(numbersIn(mutated)).toContain(value);
          }
        },
      ),
      fuzzRuns(400),
    );
  });

  it.each(PROVIDERS)('%s: more than one series or row, or none, is never picked from', (name) => {
    const { parse, wrap, good } = SHAPES[name];
    fc.assert(
      fc.property(fc.constantFrom(0, 2, 3, 50), (count) => {
        const doc = wrap(good) as unknown;
        const list = findList(doc);
        list.splice(0, list.length, ...Array.from({ length: count }, () => structuredClone(list[0] ?? {})));
        expect(okValue(parse, response(JSON.stringify(doc)))).toBeUndefined();
      }),
      fuzzRuns(20),
    );
  });

  it.each(PROVIDERS)('%s: an HTML page, an empty body or an error status', (name) => {
    const { parse, wrap, good } = SHAPES[name];
    fc.assert(
      fc.property(
        fc.constantFrom('<html><body>Login</body></html>', '', 'null', '[]', '"ok"', '0.5'),
        fc.constantFrom(200, 204, 301, 401, 403, 429, 500, 503),
        (body, status) => {
          expect(okValue(parse, response(body, status))).toBeUndefined();
          if (status !== 200) expect(okValue(parse, response(JSON.stringify(wrap(good)), status))).toBeUndefined();
        },
      ),
      fuzzRuns(50),
    );
  });
});

/** Every path to a node of a JSON document (objects' keys, lists' indexes). */
function nodePaths(doc: unknown, at: Array<string | number> = []): Array<Array<string | number>> {
  const children =
    doc !== null && typeof doc === 'object'
      ? Object.entries(doc).flatMap(([k, v]) => nodePaths(v, [...at, Array.isArray(doc) ? Number(k) : k]))
      : [];
  return at.length > 0 ? [at, ...children] : children;
}

function replaced(doc: unknown, path: Array<string | number>, value: unknown): unknown {
  const copy = structuredClone(doc) as Record<string | number, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[path.at(-1)!] = value;
  return copy;
}

/** The list of series (or rows) of an answer: the first list found depth-first. */
function findList(doc: unknown): unknown[] {
  if (Array.isArray(doc)) return doc;
  for (const v of Object.values(doc as object)) {
    if (v !== null && typeof v === 'object') {
      const found = Array.isArray(v) ? v : findList(v);
      if (found.length || Array.isArray(v)) return found;
    }
  }
  return [];
}

/** The finite numbers a document holds, as JSON numbers or as numeric strings (Prometheus' form). */
function numbersIn(doc: unknown): number[] {
  if (typeof doc === 'number') return Number.isFinite(doc) ? [doc] : [];
  if (typeof doc === 'string') return doc.trim() !== '' && Number.isFinite(Number(doc)) ? [Number(doc)] : [];
  if (doc === null || typeof doc !== 'object') return [];
  return Object.values(doc).flatMap(numbersIn);
}
