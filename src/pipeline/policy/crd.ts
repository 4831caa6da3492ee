import { z } from 'zod';
import { specSchema, API_VERSION, KIND, rolloutPolicySchema, STEP_KINDS } from './schema.js';
import { CAPABILITIES } from './routing.js';
import { policyStatusSchema } from './status.js';

type JsonSchema = Record<string, unknown>;
const PRESERVE = { 'x-kubernetes-preserve-unknown-fields': true };
const DROPPED = new Set(['$schema', 'default', 'definitions', '$defs', 'propertyNames', 'id', 'example']);

/**
 * A zod JSON Schema made structural (apiextensions.k8s.io/v1): no additionalProperties:false
 * (unknown fields are pruned by the API server; the controller's zod parse rejects them),
 * nullable instead of null unions, and free-form nodes where a union or recursion cannot be said.
 */
export function toStructural(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toStructural);
  if (node === null || typeof node !== 'object') return node;
  const schema = node as JsonSchema;
  const special = referenceOrUnion(schema);
  if (special) return special;
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (DROPPED.has(key) || (key === 'additionalProperties' && value === false)) continue;
    Object.assign(out, structuralEntry(key, value));
  }
  return out;
}

/** A reference (free-form: recursion cannot be said) or a union, keeping the node's description; else undefined. */
function referenceOrUnion(schema: JsonSchema): JsonSchema | undefined {
  const described = typeof schema.description === 'string' ? { description: schema.description } : {};
  if ('$ref' in schema) return { type: 'object', ...PRESERVE, ...described };
  // A described reference (`.meta()` on a lazy schema) is `allOf: [{$ref}]` beside its description.
  const only = Array.isArray(schema.allOf) && schema.allOf.length === 1 ? (schema.allOf[0] as JsonSchema) : undefined;
  if (only) return { ...(toStructural(only) as JsonSchema), ...described };
  const union = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  if (union) return { ...(unionToStructural(union, schema) as JsonSchema), ...described };
  return undefined;
}

function structuralEntry(key: string, value: unknown): JsonSchema {
  if (key === 'const') return { enum: [value] };
  return { [key]: key === 'properties' ? mapValues(value as JsonSchema, toStructural) : toStructural(value) };
}

function unionToStructural(union: JsonSchema[], schema: JsonSchema): unknown {
  const nonNull = union.filter(
    (branch) => branch.type !== 'null' && !(branch.nullable === true && Object.keys(branch).length === 1),
  );
  const nullable = nonNull.length < union.length || schema.nullable === true;
  if (nonNull.length === 1)
    return { ...(toStructural(nonNull[0]) as JsonSchema), ...(nullable ? { nullable: true } : {}) };
  return { ...PRESERVE, ...(nullable ? { nullable: true } : {}) };
}

function mapValues(object: JsonSchema, fn: (value: unknown) => unknown): JsonSchema {
  return Object.fromEntries(Object.entries(object).map(([k, v]) => [k, fn(v)]));
}

/** The description the schema gives a top-level field (apiVersion, kind, metadata). */
const described = (key: 'apiVersion' | 'kind' | 'metadata'): { description?: string } => {
  const description = rolloutPolicySchema.shape[key].meta()?.description;
  return description === undefined ? {} : { description };
};

const jsonSchema = (schema: z.ZodType) =>
  toStructural(z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input', unrepresentable: 'any' }));

/** `has(r.istio) || has(r.gatewayAPI)`: the trafficRouting `r` names one of `kinds`. */
function routerTest(routing: string, kinds: readonly string[]): string {
  return `(${kinds.map((kind) => `has(${routing}.${kind})`).join(' || ')})`;
}

const ROUTING = 'self.trafficRouting';
/** Some step of the spec has `field` (a spec without steps has none). */
const anyStep = (test: string): string => `has(self.steps) && self.steps.exists(s, ${test})`;
const routedBy = (kinds: readonly string[]): string => `has(${ROUTING}) && ${routerTest(ROUTING, kinds)}`;

/**
 * The strategy and capability rules of src/pipeline/policy (semantic.ts, routing.ts) that admission can say: a
 * blue-green policy has no steps, a canary has some, and a step kind needs a router that carries it out.
 */
const STRATEGY_RULES = [
  {
    rule: "has(self.blueGreen) == (has(self.strategy) && self.strategy == 'blueGreen')",
    message: 'strategy blueGreen and the blueGreen section go together',
  },
  { rule: '!has(self.blueGreen) || !has(self.steps)', message: 'steps and blueGreen exclude each other' },
  { rule: 'has(self.blueGreen) || (has(self.steps) && size(self.steps) > 0)', message: 'at least one step is needed' },
  {
    rule: `!(${anyStep('has(s.match)')}) || ${routedBy(CAPABILITIES.headerMatch.routers)}`,
    message: `a match step needs ${CAPABILITIES.headerMatch.routers.join(', ')} routing (it routes by header)`,
    fieldPath: '.steps',
  },
  {
    rule: `!(${anyStep('has(s.mirror)')}) || ${routedBy(CAPABILITIES.mirror.routers)}`,
    message: `a mirror step needs ${CAPABILITIES.mirror.routers.join(', ')} routing`,
    fieldPath: '.steps',
  },
  {
    rule: `!(${anyStep('has(s.mirror) && s.mirror < 100.0')}) || ${routedBy(CAPABILITIES.mirrorPart.routers)}`,
    message: `mirroring a part of the requests needs ${CAPABILITIES.mirrorPart.routers.join(' or ')} routing`,
    fieldPath: '.steps',
  },
  {
    rule:
      `!(${anyStep('has(s.match) && s.match.exists(m, has(m.headers) && m.headers.exists(h, has(m.headers[h].prefix)))')})` +
      ` || ${routedBy(CAPABILITIES.headerPrefix.routers)}`,
    message: `a header match by prefix needs ${CAPABILITIES.headerPrefix.routers.join(' or ')} routing`,
    fieldPath: '.steps',
  },
];

/** CEL rules the API server checks before the controller sees the object. */
function withValidations(spec: JsonSchema): JsonSchema {
  const props = spec.properties as Record<string, JsonSchema>;
  const step = (props.steps as { items: JsonSchema }).items;
  step['x-kubernetes-validations'] = [
    {
      rule: STEP_KINDS.map((kind) => `(has(self.${kind}) ? 1 : 0)`).join(' + ') + ' == 1',
      message: 'a step has exactly one of weight, pause, match or mirror',
    },
  ];
  spec['x-kubernetes-validations'] = STRATEGY_RULES;
  const routing = props.trafficRouting as JsonSchema;
  routing['x-kubernetes-validations'] = [
    {
      rule: `!has(self.sessionAffinity) || ${routerTest('self', CAPABILITIES.sessionAffinity.routers)}`,
      message: `sessionAffinity needs ${CAPABILITIES.sessionAffinity.routers.join(' or ')} routing`,
    },
  ];
  const check = (props.checks as { items: JsonSchema }).items;
  check['x-kubernetes-validations'] = [
    { rule: 'has(self.query) != has(self.compare)', message: 'a check has exactly one of query or compare' },
    {
      rule: 'has(self.compare) || has(self.min) || has(self.max)',
      message: 'a check needs at least one bound: min or max',
    },
    { rule: '!has(self.min) || !has(self.max) || self.min <= self.max', message: 'min must not be above max' },
  ];
  return spec;
}

/** The CustomResourceDefinition of RolloutPolicy, generated from the zod schema (one source). */
export function rolloutPolicyCrd(): JsonSchema {
  const [group, version] = API_VERSION.split('/') as [string, string];
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `rolloutpolicies.${group}` },
    spec: {
      group,
      scope: 'Namespaced',
      names: {
        kind: KIND,
        listKind: `${KIND}List`,
        plural: 'rolloutpolicies',
        singular: 'rolloutpolicy',
        shortNames: ['rp', 'rollpol'],
        categories: ['kubestead'],
      },
      versions: [
        {
          name: version,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
            { name: 'Step', type: 'string', jsonPath: '.status.step' },
            { name: 'Stage', type: 'string', jsonPath: '.status.stage' },
            { name: 'Weight', type: 'number', jsonPath: '.status.effectiveWeight' },
            { name: 'Last decision', type: 'string', jsonPath: '.status.lastDecision.action' },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description:
                'A canary release of one Deployment: its steps, how traffic reaches the canary, and the checks that ' +
                'decide (docs/architecture.md).',
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string', ...described('apiVersion') },
                kind: { type: 'string', ...described('kind') },
                metadata: { type: 'object', ...described('metadata') },
                spec: withValidations(jsonSchema(specSchema) as JsonSchema),
                status: jsonSchema(policyStatusSchema),
              },
            },
          },
        },
      ],
    },
  };
}
