import { z } from 'zod';
import { boundedDuration, DURATION_BOUNDS } from './duration.js';
import { strict } from './strict.js';
import { doc } from './schema-parts.js';

/**
 * The release strategies besides weighted canary steps (docs/strategies.md): A/B steps (`match`),
 * mirror steps (`mirror`), blue-green (`strategy: blueGreen` with `blueGreen`) and session affinity
 * (`trafficRouting.sessionAffinity`). Their schemas live here; schema.ts puts them in place.
 */

/**
 * How many steps a policy's rollout has: its `steps`, or the two stages of blue-green (`preview`, then `switched`,
 * docs/strategies.md).
 */
export function stepCount(spec: { blueGreen?: unknown; steps: readonly unknown[] }): number {
  return spec.blueGreen ? 2 : spec.steps.length;
}

export const STRATEGIES = ['canary', 'blueGreen'] as const;
export type Strategy = (typeof STRATEGIES)[number];

/** The ways a header value is matched; which router has which: MATCH_KINDS in routing.ts. */
export const STRING_MATCHES = ['exact', 'prefix', 'regex'] as const;
export type StringMatchKind = (typeof STRING_MATCHES)[number];

/** An HTTP header name as routers take it: lower case (Istio requires it), a token (RFC 9110). */
const HEADER_NAME = /^[a-z0-9!#$%&'*+\-.^_`|~]+$/;
/** A cookie name (RFC 6265 token) and a cookie value (no quote, comma, semicolon, backslash or space). */
const COOKIE_NAME = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/;
const COOKIE_VALUE = /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]+$/;

const compiles = (pattern: string): boolean => {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
};

const stringMatchSchema = strict({
  exact: z.string().min(1).meta(doc('The value, exactly.', 'exact: insider')).optional(),
  prefix: z.string().min(1).meta(doc('The value starts with this (Istio only).', 'prefix: v2')).optional(),
  regex: z
    .string()
    .min(1)
    .refine(compiles, { error: (iss) => `not a regular expression: ${JSON.stringify(iss.input)}` })
    .meta(
      doc(
        'The value matches this regular expression (RE2 at the proxy; PCRE with nginx).',
        'regex: "^(.*?;)?(canary=always)(;.*)?$"',
      ),
    )
    .optional(),
})
  .meta(doc('Exactly one of `exact`, `prefix` (istio only) or `regex`.'))
  .superRefine((match, ctx) => {
    const given = STRING_MATCHES.filter((kind) => match[kind] !== undefined);
    if (given.length !== 1)
      ctx.addIssue({
        code: 'custom',
        message: `a header match has exactly one of exact, prefix or regex; got ${given.join(' and ') || 'none'}`,
      });
  });

const headerName = z
  .string()
  .regex(HEADER_NAME, { error: (iss) => `expected a lower-case HTTP header name, got ${JSON.stringify(iss.input)}` });

/** `cookie: {name, value}`: the request carries that cookie with that value (ingress-nginx only knows `always`). */
export const COOKIE_ALWAYS = 'always';

const cookieMatchSchema = strict({
  name: z
    .string()
    .regex(COOKIE_NAME, { error: (iss) => `expected a cookie name, got ${JSON.stringify(iss.input)}` })
    .meta(doc('The cookie name.', 'name: canary')),
  value: z
    .string()
    .regex(COOKIE_VALUE, { error: (iss) => `expected a cookie value, got ${JSON.stringify(iss.input)}` })
    .default(COOKIE_ALWAYS)
    .meta(doc('Its value; ingress-nginx only routes by the value `always`.', 'value: always')),
});

/** One entry of a `match` step: every condition of it holds (headers and cookie); any entry sends to the canary. */
const matchEntrySchema = strict({
  headers: z
    .record(headerName, stringMatchSchema)
    .meta(
      doc('Request headers (lower-case names) and how each value is matched.', 'headers: {x-canary: {exact: insider}}'),
    )
    .optional(),
  cookie: cookieMatchSchema
    .meta(
      doc(
        'The request carries this cookie with this value (ingress-nginx: `canary-by-cookie`).',
        'cookie: {name: canary}',
      ),
    )
    .optional(),
})
  .meta(doc('One entry: every condition in it holds (headers and cookie).'))
  .superRefine((entry, ctx) => {
    const headers = Object.keys(entry.headers ?? {});
    if (headers.length === 0 && entry.cookie === undefined)
      ctx.addIssue({ code: 'custom', message: 'a match entry needs headers or a cookie' });
    if (entry.cookie !== undefined && headers.includes('cookie'))
      ctx.addIssue({
        code: 'custom',
        path: ['cookie'],
        message: 'a match entry has either cookie or headers.cookie, not both',
      });
  });

export const MAX_MATCH_ENTRIES = 8;
export const matchSchema = z
  .array(matchEntrySchema)
  .min(1, { error: 'a match step needs at least one entry' })
  .max(MAX_MATCH_ENTRIES, { error: `a match step has at most ${MAX_MATCH_ENTRIES} entries` });

export const mirrorSchema = z
  .number()
  .gt(0, { error: (iss) => `a mirror percent must be above 0, got ${String(iss.input)}` })
  .lte(100, { error: (iss) => `a mirror percent must be at most 100, got ${String(iss.input)}` });

/** How long the old version stays at full count after the switch (Argo Rollouts' scaleDownDelaySeconds: 30 s). */
export const DEFAULT_SCALE_DOWN_DELAY = '30s';
export const DEFAULT_PREVIEW_SOAK = '5m';

export const blueGreenSchema = strict({
  /** A Service Kubestead creates and owns: the new version's pods only (test traffic before the switch). */
  previewService: z
    .string()
    .max(63)
    .regex(/^[a-z]([-a-z0-9]*[a-z0-9])?$/, {
      error: (iss) => `expected a Service name (a DNS label starting with a letter), got ${JSON.stringify(iss.input)}`,
    })
    .meta(
      doc(
        "A Service Kubestead creates and owns (the user's Service's ports; the new version's pods only), for test " +
          'traffic before the switch.',
        'previewService: checkout-preview',
      ),
    ),
  soak: boundedDuration(DURATION_BOUNDS.soak)
    .default(DEFAULT_PREVIEW_SOAK)
    .meta(doc('How long the checks judge the new version, every pod of it Ready, before the switch.', 'soak: 10m')),
  autoPromote: z
    .boolean()
    .default(true)
    .meta(doc('`false`: after the soak the switch waits for `kubestead promote`.', 'autoPromote: false')),
  scaleDownDelay: boundedDuration(DURATION_BOUNDS.scaleDownDelay)
    .default(DEFAULT_SCALE_DOWN_DELAY)
    .meta(
      doc(
        'How long the old version stays at full count after the switch, the checks still running: a breach ' +
          'switches back to it in one write.',
        'scaleDownDelay: 2m',
      ),
    ),
});

export const DEFAULT_AFFINITY_MAX_AGE = '24h';

export const sessionAffinitySchema = strict({
  /** The cookie the canary's answers set; a request carrying it reaches the canary for the rest of the rollout. */
  cookieName: z
    .string()
    .regex(COOKIE_NAME, { error: (iss) => `expected a cookie name, got ${JSON.stringify(iss.input)}` })
    .meta(doc('The cookie the canary sets.', 'cookieName: kubestead-canary')),
  maxAge: boundedDuration(DURATION_BOUNDS.maxAge)
    .default(DEFAULT_AFFINITY_MAX_AGE)
    .meta(doc("The cookie's Max-Age.", 'maxAge: 24h')),
});

export type MatchEntry = z.output<typeof matchEntrySchema>;
export type StringMatch = z.output<typeof stringMatchSchema>;
export type BlueGreenSpec = z.output<typeof blueGreenSchema>;
export type SessionAffinitySpec = z.output<typeof sessionAffinitySchema>;

/** What a step asks of the router: the canary's share of the user's traffic, and an A/B match or a mirror. */
export interface Traffic {
  /** Percent of the user's requests the canary serves (0 in an A/B or mirror step, and before a blue-green switch). */
  weight: number;
  /** An A/B step: requests matching any entry reach the canary, the rest primary only. */
  match?: MatchEntry[];
  /** A mirror step: this percent of primary's requests is copied to the canary, its answers dropped. */
  mirror?: number;
  /**
   * A blue-green stage (docs/strategies.md): the new version runs at primary's full count, the preview Service selects
   * it; weight 0 (`preview`) or 100 (`switched`) is all of the user's traffic on one version.
   */
  stage?: BlueGreenStage;
}

export type BlueGreenStage = 'preview' | 'switched';

/** A regular expression matching `text` literally. */
export const escapeRegex = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The Cookie header carries `name=value` (first or after a `;`): how routers without a cookie match say it. */
export function cookieRegex(name: string, value: string): string {
  return `^(.*?;\\s*)?(${escapeRegex(name)}=${escapeRegex(value)})(;.*)?$`;
}

/** The one kind of a header match (the schema allows exactly one). */
export function matchKindOf(match: StringMatch): { kind: StringMatchKind; value: string } {
  for (const kind of STRING_MATCHES) {
    const value = match[kind];
    if (value !== undefined) return { kind, value };
  }
  throw new Error('a header match without exact, prefix or regex');
}

/** A match entry as people read it: `x-canary=insider`, `x-beta^=v2`, `user~=^a.*`, `cookie canary=always`. */
export function describeMatchEntry(entry: MatchEntry): string {
  const sign = { exact: '=', prefix: '^=', regex: '~=' } as const;
  const headers = Object.entries(entry.headers ?? {}).map(([name, match]) => {
    const { kind, value } = matchKindOf(match);
    return `${name}${sign[kind]}${value}`;
  });
  const cookie = entry.cookie ? [`cookie ${entry.cookie.name}=${entry.cookie.value}`] : [];
  return [...headers, ...cookie].join(' and ');
}

export function describeMatch(match: MatchEntry[]): string {
  return match.map(describeMatchEntry).join(' or ');
}

/** A step as `describeStep` reads it (the policy's `steps[]` item). */
export interface StepShape {
  weight?: number | undefined;
  match?: MatchEntry[] | undefined;
  mirror?: number | undefined;
  pause?: unknown;
}

/**
 * The kind of a step as people read it (status.stage, the Stage column, `kubestead status`): `A/B x-canary=insider`,
 * `mirror 100 %`, `weight 25 %`, `pause`.
 */
export function describeStep(step: StepShape): string {
  if (step.match) return `A/B ${describeMatch(step.match)}`;
  if (step.mirror !== undefined) return `mirror ${step.mirror} %`;
  if (step.pause !== undefined) return 'pause';
  return `weight ${step.weight ?? 0} %`;
}
