import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { Timers, wallClock } from '../src/clock.js';
import { jsonPatch, mergePatch } from '../src/patch.js';
import { validateAgainstSchema, type JsonSchema } from '../src/schema-validate.js';
import { matchesLabelSelector, parseFieldSelector, parseLabelSelector, selectorString } from '../src/selectors.js';
import { strategicMergePatch } from '../src/strategic.js';
import { podTemplateHash, resolveIntOrPercent } from '../src/template-hash.js';
import { ApiError } from '../src/status.js';
import type { KObject } from '../src/types.js';
import { waitFor } from '../../../test/support/wait.js';

const obj = (labels: Record<string, string>, extra: Record<string, unknown> = {}): KObject => ({
  metadata: { name: 'n', namespace: 'ns', labels },
  ...extra,
});

describe('label selectors', () => {
  it.each([
    ['app=web', { app: 'web' }, true],
    ['app==web', { app: 'web' }, true],
    ['app!=web', { app: 'web' }, false],
    ['app!=web', {}, true],
    ['tier in (a, b)', { tier: 'b' }, true],
    ['tier notin (a,b)', { tier: 'c' }, true],
    ['tier notin (a,b)', {}, true],
    ['canary', { canary: '' }, true],
    ['!canary', { canary: 'x' }, false],
    ['app=web,tier in (a),!canary', { app: 'web', tier: 'a' }, true],
    ['app=web,tier in (a),!canary', { app: 'web', tier: 'a', canary: '1' }, false],
    ['', { anything: 'x' }, true],
  ] as const)('%s on %j → %s', (selector, labels, expected) => {
    expect(parseLabelSelector(selector)(obj(labels))).toBe(expected);
  });

  it('rejects what it cannot parse with 400', () => {
    expect(() => parseLabelSelector('a in (')).toThrow(ApiError);
    expect(() => parseFieldSelector('spec.replicas=1', 'Deployment')).toThrow(/field label not supported/);
    expect(() => parseFieldSelector('metadata.name in (a)', 'Pod')).toThrow(ApiError);
  });

  it('matches LabelSelector objects and renders them as strings', () => {
    const sel = {
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'tier', operator: 'In', values: ['a', 'b'] },
        { key: 'canary', operator: 'DoesNotExist' },
      ],
    };
    expect(matchesLabelSelector(sel, { app: 'web', tier: 'a' })).toBe(true);
    expect(matchesLabelSelector(sel, { app: 'web', tier: 'a', canary: 'y' })).toBe(false);
    expect(matchesLabelSelector({ matchExpressions: [{ key: 'x', operator: 'Bogus' }] }, { x: '1' })).toBe(false);
    expect(selectorString(sel)).toBe('app=web,tier in (a,b),!canary');
  });

  it('selects on the fields the API server supports for a kind', () => {
    const pod = obj({}, { status: { phase: 'Running' } });
    expect(parseFieldSelector('status.phase=Running,metadata.namespace=ns', 'Pod')(pod)).toBe(true);
    expect(parseFieldSelector('status.phase!=Running', 'Pod')(pod)).toBe(false);
  });
});

describe('JSON merge patch (RFC 7386) and JSON patch (RFC 6902)', () => {
  it.each([
    [{ a: 1, b: { c: 2, d: 3 } }, { b: { c: null, e: 4 } }, { a: 1, b: { d: 3, e: 4 } }],
    [{ a: [1, 2] }, { a: [3] }, { a: [3] }],
    [{ a: 1 }, { a: { b: 1 } }, { a: { b: 1 } }],
    [{ a: { b: 1 } }, { a: 'x' }, { a: 'x' }],
  ])('merge %j with %j', (target, patch, expected) => {
    expect(mergePatch(target, patch)).toEqual(expected);
  });

  const doc = { a: { b: [1, 2, 3] }, c: 'x' };
  it.each([
    [[{ op: 'add', path: '/a/b/1', value: 9 }], { a: { b: [1, 9, 2, 3] }, c: 'x' }],
    [[{ op: 'add', path: '/a/b/-', value: 4 }], { a: { b: [1, 2, 3, 4] }, c: 'x' }],
    [[{ op: 'remove', path: '/a/b/0' }], { a: { b: [2, 3] }, c: 'x' }],
    [[{ op: 'replace', path: '/a/b/2', value: 0 }], { a: { b: [1, 2, 0] }, c: 'x' }],
    [[{ op: 'move', from: '/c', path: '/d' }], { a: { b: [1, 2, 3] }, d: 'x' }],
    [[{ op: 'copy', from: '/a/b', path: '/e' }], { a: { b: [1, 2, 3] }, c: 'x', e: [1, 2, 3] }],
    [
      [
        { op: 'test', path: '/c', value: 'x' },
        { op: 'add', path: '/a~1b', value: true },
      ],
      { a: { b: [1, 2, 3] }, c: 'x', 'a/b': true },
    ],
  ])('%j', (patch, expected) => {
    expect(jsonPatch(doc, patch)).toEqual(expected);
    expect(doc).toEqual({ a: { b: [1, 2, 3] }, c: 'x' });
  });

  it.each([
    [[{ op: 'test', path: '/c', value: 'y' }], 422],
    [[{ op: 'replace', path: '/missing', value: 1 }], 422],
    [[{ op: 'remove', path: '/a/b/7' }], 422],
    [[{ op: 'add', path: '/x/y/z', value: 1 }], 422],
    [[{ op: 'frobnicate', path: '/c' }], 400],
    [{ op: 'add' }, 400],
  ])('refuses %j with %i', (patch, code) => {
    try {
      jsonPatch(doc, patch);
      expect.unreachable();
    } catch (error) {
      expect((error as ApiError).code).toBe(code);
    }
  });
});

describe('strategic merge patch', () => {
  const pod = {
    containers: [
      { name: 'a', image: 'a:1', env: [{ name: 'X', value: '1' }] },
      { name: 'b', image: 'b:1' },
    ],
    volumes: [{ name: 'v1' }, { name: 'v2' }],
    tolerations: [{ key: 't1' }],
  };
  it('merges lists by key, deletes with $patch: delete, replaces unkeyed lists', () => {
    const out = strategicMergePatch(pod, {
      containers: [
        { name: 'b', image: 'b:2' },
        { name: 'a', env: [{ name: 'Y', value: '2' }] },
      ],
      volumes: [{ name: 'v1', $patch: 'delete' }],
      tolerations: [{ key: 't2' }],
    });
    expect(out).toEqual({
      containers: [
        {
          name: 'a',
          image: 'a:1',
          env: [
            { name: 'X', value: '1' },
            { name: 'Y', value: '2' },
          ],
        },
        { name: 'b', image: 'b:2' },
      ],
      volumes: [{ name: 'v2' }],
      tolerations: [{ key: 't2' }],
    });
  });

  it('honours $setElementOrder, $deleteFromPrimitiveList, $retainKeys and $patch: replace', () => {
    const out = strategicMergePatch(
      {
        metadata: { finalizers: ['x', 'y'] },
        spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } }, containers: pod.containers },
      },
      {
        metadata: { ['$deleteFromPrimitiveList/finalizers']: ['x'], finalizers: ['z'] },
        spec: {
          strategy: { $retainKeys: ['type'], type: 'Recreate' },
          ['$setElementOrder/containers']: [{ name: 'b' }, { name: 'a' }],
          containers: [{ name: 'a', image: 'a:2' }],
        },
      },
    );
    expect(out).toEqual({
      metadata: { finalizers: ['y', 'z'] },
      spec: {
        strategy: { type: 'Recreate' },
        containers: [
          { name: 'b', image: 'b:1' },
          { name: 'a', image: 'a:2', env: [{ name: 'X', value: '1' }] },
        ],
      },
    });
    expect(strategicMergePatch({ a: { b: 1, c: 2 } }, { a: { $patch: 'replace', d: 3 } })).toEqual({ a: { d: 3 } });
    expect(strategicMergePatch({ l: [{ name: 'x' }] }, { volumes: [{ $patch: 'replace' }, { name: 'only' }] })).toEqual(
      { l: [{ name: 'x' }], volumes: [{ name: 'only' }] },
    );
  });
});

describe('openAPIV3Schema validation', () => {
  const schema: JsonSchema = {
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        required: ['weight'],
        properties: {
          weight: { 'x-kubernetes-int-or-string': true },
          mode: { type: 'string', default: 'fast', enum: ['fast', 'safe'] },
          name: { type: 'string', maxLength: 5, pattern: '^[a-z]+$' },
          items: {
            type: 'array',
            maxItems: 2,
            items: { type: 'object', properties: { n: { type: 'number', minimum: 0, exclusiveMinimum: true } } },
          },
          one: {
            type: 'object',
            oneOf: [{ required: ['a'] }, { required: ['b'] }],
            properties: { a: { type: 'string' }, b: { type: 'string' } },
          },
          free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
          nullable: { type: 'string', nullable: true },
        },
      },
    },
  };
  const check = (spec: unknown): ReturnType<typeof validateAgainstSchema> =>
    validateAgainstSchema(schema, { apiVersion: 'x/v1', kind: 'X', metadata: { name: 'x' }, spec });

  it('defaults, prunes, and keeps free-form fields', () => {
    const r = check({ weight: '50%', free: { deep: { x: 1 } }, junk: 1, nullable: null });
    expect(r.causes).toEqual([]);
    expect(r.unknown).toEqual(['spec.junk']);
    expect(r.value).toEqual({
      apiVersion: 'x/v1',
      kind: 'X',
      metadata: { name: 'x' },
      spec: { weight: '50%', mode: 'fast', free: { deep: { x: 1 } }, nullable: null },
    });
  });

  it('reports every violation with its field path', () => {
    const r = check({
      weight: 1.5,
      mode: 'slow',
      name: 'TooLong',
      items: [{ n: 0 }, { n: 1 }, { n: 2 }],
      one: { a: 'x', b: 'y' },
    });
    expect(r.causes.map((c) => `${c.field} ${c.reason}`).sort()).toEqual([
      'spec.items FieldValueTooMany',
      'spec.items[0].n FieldValueInvalid',
      'spec.mode FieldValueNotSupported',
      'spec.name FieldValueInvalid',
      'spec.name FieldValueTooLong',
      'spec.one FieldValueInvalid',
      'spec.weight FieldValueTypeInvalid',
    ]);
    expect(check({}).causes).toEqual([
      { reason: 'FieldValueRequired', message: 'Required value', field: 'spec.weight' },
    ]);
  });
});

describe('pod-template-hash and rollout numbers', () => {
  it('hashes templates stably, independent of key order, in the controller alphabet', () => {
    const a = podTemplateHash({
      metadata: { labels: { app: 'x' } },
      spec: { containers: [{ name: 'c', image: 'i:1' }] },
    });
    const b = podTemplateHash({
      spec: { containers: [{ image: 'i:1', name: 'c' }] },
      metadata: { labels: { app: 'x' } },
    });
    expect(a).toBe(b);
    expect(a).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{6,10}$/);
    expect(podTemplateHash({ spec: { containers: [{ name: 'c', image: 'i:2' }] } })).not.toBe(a);
    expect(podTemplateHash({ a: 1 }, 1)).not.toBe(podTemplateHash({ a: 1 }));
  });

  it.each([
    ['25%', 10, true, 3],
    ['25%', 10, false, 2],
    [2, 10, true, 2],
    ['0%', 4, true, 0],
    ['bogus', 4, true, 0],
  ] as const)('%s of %i (round up %s) = %i', (value, total, up, expected) => {
    expect(resolveIntOrPercent(value, total, up)).toBe(expected);
  });
});

describe('sandbox timers', () => {
  it('holds a thousand pending timers without a listener warning, runs them, and removes their listeners', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => {
      warnings.push(w.name);
    };
    process.on('warning', onWarning);
    try {
      const timers = new Timers(wallClock);
      let ran = 0;
      for (let i = 0; i < 1000; i++)
        timers.after(1, () => {
          ran += 1;
        });
      await waitFor(() => ran === 1000, 8000, 'every timer to run');
      expect(warnings).not.toContain('MaxListenersExceededWarning');
      const signal = (timers as unknown as { closing: AbortController }).closing.signal;
      expect(getEventListeners(signal, 'abort')).toHaveLength(0);
      timers.close();
    } finally {
      process.off('warning', onWarning);
    }
  });
});
