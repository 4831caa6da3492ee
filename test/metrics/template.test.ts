import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { renderQuery, type TemplateValues } from '../../src/adapters/providers/template.js';

const values = (name: string, canaryRevision: string | null = '7f9c6d'): TemplateValues => ({
  'target.name': name,
  'target.namespace': 'shop',
  'policy.name': 'checkout',
  'rollout.canaryRevision': canaryRevision,
});
const EVIL = 'x"} or vector(1) #';

describe('query templating', () => {
  it('substitutes every variable', () => {
    const query =
      'up{app="{{ target.name }}",ns="{{target.namespace}}",policy="{{ policy.name }}",rev="{{ rollout.canaryRevision }}"}';
    expect(renderQuery(query, values('checkout'), 'promql')).toBe(
      'up{app="checkout",ns="shop",policy="checkout",rev="7f9c6d"}',
    );
  });

  describe('the injection target name x"} or vector(1) # is one escaped literal', () => {
    it.each([
      [
        'PromQL "…"',
        'promql',
        'sum(rate(http_requests_total{app="{{ target.name }}"}[2m]))',
        'sum(rate(http_requests_total{app="x\\"} or vector(1) #"}[2m]))',
      ],
      ["PromQL '…'", 'promql', "up{app='{{ target.name }}'}", "up{app='x\"} or vector(1) #'}"],
      [
        'PromQL regex matcher',
        'promql',
        'up{app=~"{{ target.name }}-.*"}',
        'up{app=~"x\\"\\\\} or vector\\\\(1\\\\) #-.*"}',
      ],
      [
        'Datadog tag value',
        'datadog',
        'sum:trace.http.request.errors{service:{{ target.name }},env:prod}.as_count()',
        'sum:trace.http.request.errors{service:x___or_vector_1___,env:prod}.as_count()',
      ],
      [
        'NRQL string literal',
        'nrql',
        "SELECT count(*) FROM Transaction WHERE appName = '{{ target.name }}'",
        "SELECT count(*) FROM Transaction WHERE appName = 'x\"} or vector(1) #'",
      ],
    ] as const)('%s', (_what, language, query, rendered) => {
      expect(renderQuery(query, values(EVIL), language)).toBe(rendered);
    });
  });

  it.each([
    ['a backslash and a quote in PromQL', 'promql', 'up{a="{{ target.name }}"}', 'a\\"b', 'up{a="a\\\\\\"b"}'],
    ['a newline in PromQL', 'promql', 'up{a="{{ target.name }}"}', 'a\nb', 'up{a="a\\x0ab"}'],
    [
      'a single quote in NRQL',
      'nrql',
      "WHERE appName = '{{ target.name }}'",
      "x' OR appName LIKE '%",
      "WHERE appName = 'x\\' OR appName LIKE \\'%'",
    ],
    [
      'a backslash before a quote in NRQL',
      'nrql',
      "WHERE a = '{{ target.name }}'",
      "x\\' --",
      "WHERE a = 'x\\\\\\' --'",
    ],
    [
      'upper case and spaces in Datadog',
      'datadog',
      '{service:{{ target.name }}}',
      'Check Out}{*',
      '{service:check_out___}',
    ],
    ['a quote inside an escaped quote context', 'promql', 'up{a="\\"{{ target.name }}"}', 'b"', 'up{a="\\"b\\""}'],
    [
      'a quote in a PromQL comment does not open a string',
      'promql',
      '# don\'t\nup{a="{{ target.name }}"}',
      'b"',
      '# don\'t\nup{a="b\\""}',
    ],
    [
      'a quote in an NRQL block comment does not open a string',
      'nrql',
      "/* it's */ WHERE a = '{{ target.name }}'",
      "b'",
      "/* it's */ WHERE a = 'b\\''",
    ],
    [
      'a quote in an NRQL line comment does not open a string',
      'nrql',
      "-- it's\nWHERE a = '{{ target.name }}'",
      "b'",
      "-- it's\nWHERE a = 'b\\''",
    ],
    [
      'a URL in an NRQL string is no comment',
      'nrql',
      "WHERE u = 'http://x' AND a = '{{ target.name }}'",
      "b'",
      "WHERE u = 'http://x' AND a = 'b\\''",
    ],
  ] as const)('escapes %s', (...[, language, query, name, rendered]) => {
    expect(renderQuery(query, values(name), language)).toBe(rendered);
  });

  it.each([
    ['promql', 'rate({{ target.name }}_requests_total[1m])', 'checkout', 'rate(checkout_requests_total[1m])'],
    ['nrql', 'SELECT count(*) FROM {{ target.name }}', 'Transaction', 'SELECT count(*) FROM Transaction'],
  ] as const)('lets identifier-safe values stand outside a string (%s)', (language, query, name, rendered) => {
    expect(renderQuery(query, values(name), language)).toBe(rendered);
  });

  it.each([
    [
      'promql',
      'rate({{ target.name }}_total[1m])',
      EVIL,
      /cannot be placed outside a quoted string in PromQL; quote it/,
    ],
    ['promql', 'up # {{ target.name }}', 'a\nvector(1)', /cannot be placed outside a quoted string/],
    ['nrql', "/* ' */ WHERE a = {{ target.name }}", 'x OR true', /outside a quoted string in NRQL/],
    [
      'nrql',
      'SELECT count(*) FROM Transaction WHERE appName = {{ target.name }}',
      'x OR 1=1',
      /outside a quoted string in NRQL/,
    ],
    ['promql', 'up{a=`{{ target.name }}`}', 'a`} or vector(1)', /contains a backtick/],
    ['nrql', 'SELECT `{{ target.name }}` FROM T', 'a` FROM X', /contains a backtick/],
  ] as const)('refuses what cannot be made safe (%s %s)', (language, query, name, error) => {
    expect(() => renderQuery(query, values(name), language)).toThrow(error);
  });

  it('refuses a missing canary revision and unknown variables', () => {
    expect(() => renderQuery('up{rev="{{ rollout.canaryRevision }}"}', values('a', null), 'promql')).toThrow(
      '{{ rollout.canaryRevision }} has no value yet',
    );
    expect(() => renderQuery('up{a="{{ target.labels }}"}', values('a'), 'promql')).toThrow(
      'unknown template variable "{{ target.labels }}"',
    );
  });
});

/** Reads a quoted literal starting at `start` (the opening quote) with backslash escapes; returns its value and where it ends. */
function readLiteral(text: string, start: number): { value: string; end: number } {
  const quote = text[start];
  let value = '';
  for (let i = start + 1; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === quote) return { value, end: i + 1 };
    if (ch !== '\\') {
      value += ch;
      continue;
    }
    const next = text[++i]!;
    if (next === 'x') {
      value += String.fromCharCode(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else value += next;
  }
  throw new Error(`unterminated literal in ${text}`);
}

describe('no value breaks out of its literal (property)', () => {
  it.each([
    ['promql', 'up{app="', '"} > 0'],
    ['promql', "up{app='", "'} > 0"],
    ['nrql', "SELECT count(*) FROM T WHERE a = '", "' SINCE 1 minute ago"],
    ['nrql', 'SELECT count(*) FROM T WHERE a = "', '" SINCE 1 minute ago'],
  ] as const)('%s %s…%s', (language, before, after) => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (name) => {
        const rendered = renderQuery(`${before}{{ target.name }}${after}`, values(name), language);
        const literal = readLiteral(rendered, before.length - 1);
        const decoded = language === 'nrql' ? literal.value.replace(/[\u0000-\u001f\u007f]/g, ' ') : literal.value; // eslint-disable-line no-control-regex
        expect(rendered.slice(0, before.length)).toBe(before);
        expect(rendered.slice(literal.end)).toBe(after.slice(1));
        expect(decoded).toBe(language === 'nrql' ? name.replace(/[\u0000-\u001f\u007f]/g, ' ') : name); // eslint-disable-line no-control-regex
      }),
      { numRuns: 500 },
    );
  });

  it('a Datadog tag value holds only tag characters', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (name) => {
        const rendered = renderQuery('avg:m{service:{{ target.name }}}', values(name), 'datadog');
        expect(rendered).toMatch(/^avg:m\{service:[\p{L}\p{N}_\-:./]*\}$/u);
      }),
      { numRuns: 500 },
    );
  });
});
